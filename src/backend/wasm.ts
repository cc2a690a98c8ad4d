// The wasm backend fetches its .wasm binaries at start: from a URL in the
// browser (vite serves them, see vite.config.ts) and from disk in Node.
//
// Threads: the threaded SIMD build runs where SharedArrayBuffer does, i.e. in
// a cross-origin isolated page or worker, and in Node with the help of
// wasm-node-threads.ts (tfjs-backend-wasm 4.22 turns threads off there).
import { importUnbundled, isNode } from './environment.ts';
import { shareWasmIdentity } from './wasm-identity.ts';
import { registerWasmGemm } from './wasm-gemm.ts';
import { registerWasmBatchedProduct } from './wasm-batched-product.ts';
import { registerWasmGelu } from './wasm-gelu.ts';
import { registerWasmOptimizers } from './wasm-adamw.ts';
import { registerWasmLayerNorm } from './wasm-layer-norm.ts';
import { copyOnWasmHeap } from './wasm-slice.ts';
import { replaceWasmTranspose } from './wasm-transpose.ts';

type WasmModule = typeof import('@tensorflow/tfjs-backend-wasm');
type ModuleModule = typeof import('node:module');
type PathModule = typeof import('node:path');

/**
 * Where vite serves the wasm binaries (dev and build), relative to the app's
 * base path: `/tfjs-wasm/`, or `/sub/path/tfjs-wasm/` in a build made with
 * `--base /sub/path/`. vite replaces import.meta.env in the page and the
 * worker; in Node it is undefined and the binaries are read from disk.
 */
export const BROWSER_WASM_DIR = `${import.meta.env?.BASE_URL ?? '/'}tfjs-wasm/`;

let loaded: Promise<WasmModule> | undefined;

/** Imports (once) the wasm backend, which registers it with tfjs, and points it at its binaries. */
export function loadWasmBackend(wasmPaths?: string): Promise<WasmModule> {
  loaded ??= (async () => {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(wasmPaths ?? (await defaultWasmDir()));
    shareWasmIdentity();
    replaceWasmTranspose();
    copyOnWasmHeap();
    registerWasmLayerNorm();
    registerWasmGelu();
    registerWasmOptimizers();
    registerWasmGemm();
    registerWasmBatchedProduct();
    return wasm;
  })();
  return loaded;
}

async function defaultWasmDir(): Promise<string> {
  if (!isNode()) return new URL(BROWSER_WASM_DIR, globalThis.location.origin).href;
  const { createRequire } = await importUnbundled<ModuleModule>('node:module');
  const path = await importUnbundled<PathModule>('node:path');
  const main = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
  return path.dirname(main) + path.sep;
}

/**
 * Runs `start` (the first `tf.setBackend('wasm')`, which instantiates the
 * emscripten module) and takes back the process-wide handlers that module
 * installs in Node: its uncaughtException handler rethrows, so Node ends any
 * later uncaught error with its own exit code 7 and the module's minified
 * source as the message, and its unhandledRejection handler throws. Error
 * handling belongs to the host (the `mam` command maps errors to its exit codes).
 */
export async function withoutEmscriptenHandlers<T>(start: () => Promise<T>): Promise<T> {
  if (!isNode()) return start();
  const exceptions = new Set(process.listeners('uncaughtException'));
  const rejections = new Set(process.listeners('unhandledRejection'));
  try {
    return await start();
  } finally {
    for (const l of process.listeners('uncaughtException'))
      if (!exceptions.has(l)) process.removeListener('uncaughtException', l);
    for (const l of process.listeners('unhandledRejection'))
      if (!rejections.has(l)) process.removeListener('unhandledRejection', l);
  }
}
