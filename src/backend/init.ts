// Starts the tfjs backend the user asked for, or the fastest one that works,
// and says in words what runs. Failures are values, never exceptions.
import * as tf from '#tfjs';
import { isNode } from './environment.ts';
import { errorText } from './node-webgpu.ts';
import { probeWebGl, probeWebGpu } from './probe.ts';
import { BACKEND_NAMES } from './types.ts';
import type { BackendInfo, BackendName, BackendPreference, InitBackendOptions } from './types.ts';
import { loadWasmBackend, withoutEmscriptenHandlers } from './wasm.ts';
import { startWithNodeThreads } from './wasm-node-threads.ts';
import { registerWebGpuFused } from './webgpu-fused.ts';
import { poolByWork } from './wasm-pool.ts';
import { startWasmThreads } from './wasm-threads.ts';

type Attempt = { ok: true; info: BackendInfo } | { ok: false; reason: string };

/**
 * Starts a tfjs backend. `auto` takes WebGPU on a hardware adapter, else (in a
 * browser) WebGL on a hardware renderer, else wasm, else cpu. A named backend
 * that cannot start falls back the same way; the result says so.
 */
export async function initBackend(
  pref: BackendPreference | (string & {}),
  opts: InitBackendOptions = {},
): Promise<BackendInfo> {
  const requested = String(pref);
  if (requested === 'auto') return startAuto(opts);
  if (!isBackendName(requested)) {
    const used = await startAuto(opts);
    const known = ['auto', ...BACKEND_NAMES].join(', ');
    return {
      ...used,
      fallbackFrom: requested,
      message: `Unknown backend "${requested}" (known: ${known}). ${used.message}`,
    };
  }
  const attempt = await start(requested, opts);
  if (attempt.ok) return attempt.info;
  const used = await startAuto(opts, requested);
  return {
    ...used,
    fallbackFrom: requested,
    message: `${requested} could not start: ${attempt.reason}. ${used.message}`,
  };
}

export function isBackendName(name: string): name is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(name);
}

async function startAuto(opts: InitBackendOptions, skip?: BackendName): Promise<BackendInfo> {
  const notes: string[] = [];
  if (skip !== 'webgpu') {
    const gpu = await probeWebGpu(opts.vkIcdFilenames);
    if (gpu.error === undefined && !gpu.isSoftware) {
      const attempt = await start('webgpu', opts);
      if (attempt.ok) return attempt.info;
      notes.push(`webgpu could not start: ${attempt.reason}.`);
    } else if (gpu.error === undefined) {
      notes.push(`WebGPU here is a software GPU (${gpu.info}), slower than wasm.`);
    }
  }
  if (skip !== 'webgl' && !isNode()) {
    const gl = probeWebGl();
    if (gl.error === undefined && !gl.isSoftware) {
      const attempt = await start('webgl', opts);
      if (attempt.ok) return attempt.info;
      notes.push(`webgl could not start: ${attempt.reason}.`);
    }
  }
  for (const name of ['wasm', 'cpu'] as const) {
    if (name === skip) continue;
    const attempt = await start(name, opts);
    if (attempt.ok) return withNotes(attempt.info, notes);
    notes.push(`${name} could not start: ${attempt.reason}.`);
  }
  // Only reached when even the plain JavaScript backend fails: an internal fault.
  throw new Error(`no tfjs backend could start. ${notes.join(' ')}`);
}

function withNotes(info: BackendInfo, notes: string[]): BackendInfo {
  return notes.length ? { ...info, message: `${info.message} ${notes.join(' ')}` } : info;
}

async function start(name: BackendName, opts: InitBackendOptions): Promise<Attempt> {
  try {
    switch (name) {
      case 'webgpu':
        return await startWebGpu(opts);
      case 'webgl':
        return await startWebGl();
      case 'wasm':
        return await startWasm(opts);
      case 'cpu':
        return await activate('cpu', 'JavaScript (tfjs cpu backend)', true);
    }
  } catch (e) {
    return { ok: false, reason: errorText(e) };
  }
}

async function startWebGpu(opts: InitBackendOptions): Promise<Attempt> {
  const probe = await probeWebGpu(opts.vkIcdFilenames);
  if (probe.error !== undefined) return { ok: false, reason: probe.error };
  // Imported only now: the module registers its backend only if navigator.gpu
  // exists when it is first evaluated, which in Node is after Dawn is installed.
  await import('@tensorflow/tfjs-backend-webgpu');
  registerWebGpuFused();
  return activate('webgpu', probe.info, probe.isSoftware);
}

async function startWebGl(): Promise<Attempt> {
  const probe = probeWebGl();
  if (probe.error !== undefined) return { ok: false, reason: probe.error };
  await import('@tensorflow/tfjs-backend-webgl');
  return activate('webgl', probe.info, probe.isSoftware);
}

async function startWasm(opts: InitBackendOptions): Promise<Attempt> {
  const wasm = await loadWasmBackend(opts.wasmPaths);
  if (opts.threads !== undefined) wasm.setThreadsCount(opts.threads);
  const activateWasm = () => activate('wasm', 'WebAssembly', true);
  // In Node tfjs starts its single-threaded build unless helped (see wasm-node-threads.ts).
  const threaded = isNode() && (opts.threads ?? 1) > 1;
  const started = await withoutEmscriptenHandlers(() =>
    threaded ? startWithNodeThreads(opts.threads ?? 1, activateWasm) : activateWasm(),
  );
  if (!started.ok) return started;
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const threads = wasm.getThreadsCount();
  // small kernels run inline, big products on every thread (see wasm-pool.ts)
  if (threads > 1) poolByWork();
  if (threads > 1) await startWasmThreads(threads - 1); // our SIMD kernels on every thread
  // Threads need SharedArrayBuffer, which a page has only when cross-origin isolated.
  const isolated = isNode() || globalThis.crossOriginIsolated === true;
  const info =
    `WebAssembly${simd ? ' SIMD' : ''}, ${threads} thread${threads === 1 ? '' : 's'}` +
    (isolated ? '' : ', page not cross-origin isolated');
  return {
    ok: true,
    info: { ...started.info, adapterInfo: info, message: `Running on wasm (${info}).` },
  };
}

async function activate(
  name: BackendName,
  adapterInfo: string,
  isSoftware: boolean,
): Promise<Attempt> {
  if (tf.findBackendFactory(name) == null) {
    return { ok: false, reason: `tfjs has no ${name} backend registered here` };
  }
  if (!(await tf.setBackend(name))) {
    return { ok: false, reason: `tfjs failed to initialise ${name} (see the console)` };
  }
  await tf.ready();
  const gpuNote = isSoftware && (name === 'webgpu' || name === 'webgl');
  const slow = gpuNote ? ', a software GPU: slow, fine for small models and tests' : '';
  return {
    ok: true,
    info: { name, adapterInfo, isSoftware, message: `Running on ${name} (${adapterInfo}${slow}).` },
  };
}
