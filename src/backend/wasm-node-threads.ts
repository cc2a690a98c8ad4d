// The threaded SIMD build of tfjs-backend-wasm 4.22 in Node. Four things
// stand in its way there, each worked around here while the backend starts:
//
// 1. tfjs reports no thread support under Node (WASM_HAS_MULTITHREAD_SUPPORT
//    is false when IS_NODE, tfjs issue #3830): the flag is set true.
// 2. Each pthread worker is created from a blob: URL holding the worker's
//    source, which Node's worker_threads refuses (ERR_WORKER_PATH), and is
//    then told to load the module factory from a Blob, which its Node shim
//    (`importScripts` = read a file) cannot read. The global `Worker` that
//    emscripten uses becomes a worker_threads Worker that runs the same
//    worker source (the package's wasm-out/*.worker.js exports it) and loads
//    the factory from the package's file on disk.
// 3. emscripten keeps a worker running a pthread referenced, and XNNPACK's
//    pool threads never end, so the process would never exit: the workers
//    stay unreferenced.
// 4. The C++ side caps the thread pool at half the logical cores it is told
//    of (it assumes two hyper-threads per core), so a 2-core machine gets 1
//    thread. While the backend starts, os.cpus() reports twice the threads
//    asked for (never more threads than logical cores).
import * as tf from '#tfjs';
import { importUnbundled } from './environment.ts';

type ModuleModule = typeof import('node:module');
type OsModule = typeof import('node:os');
type PathModule = typeof import('node:path');
type WorkerThreadsModule = typeof import('node:worker_threads');

interface PthreadMessage {
  cmd?: string;
  urlOrBlob?: unknown;
}

let workerInstalled = false;

async function installPthreadWorker(): Promise<void> {
  if (workerInstalled) return;
  const { createRequire } = await importUnbundled<ModuleModule>('node:module');
  const { dirname, join } = await importUnbundled<PathModule>('node:path');
  const { Worker: NodeWorker } = await importUnbundled<WorkerThreadsModule>('node:worker_threads');
  const require = createRequire(import.meta.url);
  const out = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '..', 'wasm-out');
  const { wasmWorkerContents } = require(
    join(out, 'tfjs-backend-wasm-threaded-simd.worker.js'),
  ) as {
    wasmWorkerContents: string;
  };
  // as tfjs does before it makes the blob: the source has a "\n" inside a string literal
  const workerSource = wasmWorkerContents.replace(/\n/g, '\\n');
  const factoryFile = join(out, 'tfjs-backend-wasm-threaded-simd.js');

  class PthreadWorker extends NodeWorker {
    constructor(url: string | URL, options?: ConstructorParameters<typeof NodeWorker>[1]) {
      if (typeof url === 'string' && url.startsWith('blob:')) super(workerSource, { eval: true });
      else super(url, options);
      this.unref();
    }

    // emscripten refs a worker while it runs a pthread; XNNPACK's pool threads
    // run (idle) for good, and the main thread waits on them synchronously,
    // so none of them may keep the process alive once its work is done
    override ref(): void {}

    override postMessage(
      message: unknown,
      transfer?: Parameters<InstanceType<typeof NodeWorker>['postMessage']>[1],
    ) {
      const m = message as PthreadMessage | null;
      const load = m?.cmd === 'load' && typeof m.urlOrBlob !== 'string';
      super.postMessage(load ? { ...m, urlOrBlob: factoryFile } : message, transfer);
    }
  }
  // emscripten assigns globalThis.Worker = worker_threads.Worker when its
  // factory runs; the accessor keeps ours in place
  Object.defineProperty(globalThis, 'Worker', {
    configurable: true,
    get: () => PthreadWorker,
    set: () => undefined,
  });
  workerInstalled = true;
}

/**
 * Runs `start` (the wasm backend's first start) so that it starts the
 * threaded build with `threads` threads (capped at the logical cores).
 */
export async function startWithNodeThreads<T>(
  threads: number,
  start: () => Promise<T>,
): Promise<T> {
  await installPthreadWorker();
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  const os = (await importUnbundled<{ default: OsModule }>('node:os')).default;
  const cpus = os.cpus;
  const n = Math.min(threads, cpus().length);
  os.cpus = () => {
    const real = cpus();
    return Array.from({ length: 2 * n }, (_, i) => real[i % real.length]);
  };
  try {
    return await start();
  } finally {
    os.cpus = cpus;
  }
}
