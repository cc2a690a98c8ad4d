// Helper threads for our WebAssembly SIMD kernels (GEMM, batched GEMM, GELU,
// LayerNorm, AdamW) on the threaded wasm build, whose memory is shared (its buffer a
// SharedArrayBuffer). Each helper is a worker (Node worker_threads, or a
// browser Worker from a Blob URL) that instantiates every one of those
// modules on the same memory and waits for jobs on a control array shared by
// the pool (Int32Array words, plus the job's arguments as float64: f32
// parameters such as eps pass exactly).
//
// A job names a module function, its arguments and how they move per chunk:
// the work is `units` (rows, floats) cut into fixed chunks of `perChunk`
// units; chunk k gets every argument i as base_i + unitStep_i·start +
// chunkStep_i·k + threadStep_i·t (t: 0 the caller, h + 1 helper h; e.g. a
// per-thread scratch panel), its count argument set to the chunk's units.
// The caller publishes the job and wakes the helpers, then it and they claim
// chunks from one shared counter until none are left; the caller waits only
// for chunks a helper has already claimed (so a helper that wakes late, or
// never, costs nothing). The boundaries depend on the job alone, not on who
// runs a chunk or how many threads there are, so the results do not either.
//
// The claim counter holds the job's generation (19 bits) above the next
// chunk (12 bits): a helper that read a stale counter fails its
// compare-exchange. The caller closes the counter before it rewrites the
// job, so no helper ever runs a chunk of a half-written one.
//
// A helper spins briefly (SPINS loads, tens of µs) before it sleeps in
// Atomics.wait, so back-to-back jobs find it awake. Until a helper says it
// is ready (its modules instantiated), it claims nothing and nobody waits on
// it. Atomics.wait is not allowed on a browser page's main thread: there the
// kernels stay on one thread (the editor trains in a Web Worker). Node
// workers are unreferenced, so they never keep a process alive.
import * as tf from '#tfjs';
import { isNode, importUnbundled } from './environment.ts';
import { sharedGeluModuleBytes } from './wasm-gelu-simd.ts';
import { sharedGemmModuleBytes } from './wasm-gemm-simd.ts';
import { sharedLayerNormModuleBytes } from './wasm-layer-norm-simd.ts';
import { sharedOptimizerModuleBytes } from './wasm-adamw-simd.ts';
import type { WasmHeapBackend } from './wasm-simd-asm.ts';

/** The modules the helpers instantiate, and the functions of each a job may name. */
const MODULES = {
  gemm: { bytes: sharedGemmModuleBytes, names: ['gemm', 'gemmBatched'] },
  gelu: { bytes: sharedGeluModuleBytes, names: ['forward', 'backward'] },
  layerNorm: { bytes: sharedLayerNormModuleBytes, names: ['forward', 'backward'] },
  optimizer: { bytes: sharedOptimizerModuleBytes, names: ['adamw', 'sgd'] },
} as const;

type Modules = typeof MODULES;
/** A job's function: `module.function`, as MODULES lists them. */
export type PoolFunction = {
  [M in keyof Modules]: `${M}.${Modules[M]['names'][number]}`;
}[keyof Modules];

/** The functions by number: the helpers' table. */
const FUNCTIONS: string[] = Object.entries(MODULES).flatMap(([m, { names }]) =>
  names.map((n) => `${m}.${n}`),
);

/** Most arguments of a function, and most helpers. */
const MAX_ARGS = 24;
const MAX_HELPERS = 15;
// control words
const [
  GEN,
  CLAIM,
  DONE,
  CHUNKS,
  FN,
  COUNT_ARG,
  UNITS,
  PER_CHUNK,
  NARGS,
  HOLD,
  FAILED,
  BY_HELPERS,
  STOP,
] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
/** READY + h: helper h's state (0 starting, 1 ready, 2 failed to start). */
const READY = 16;
const UNIT_STEP = READY + MAX_HELPERS + 1;
const CHUNK_STEP = UNIT_STEP + MAX_ARGS;
const THREAD_STEP = CHUNK_STEP + MAX_ARGS;
const CONTROL_WORDS = THREAD_STEP + MAX_ARGS;
const CHUNK_BITS = 12;
/** A claim counter at CLOSED has no chunk left to claim. */
const CLOSED = (1 << CHUNK_BITS) - 1;
/**
 * Most chunks a job has: the caller's last claim may take the counter one
 * past them, still below CLOSED (no carry into the generation).
 */
export const MAX_CHUNKS = CLOSED - 1;
const GEN_MASK = (1 << 19) - 1;
/** Loads of a control word before sleeping in Atomics.wait (about tens of µs). */
const SPINS = 4000;

// The helper's whole program (plain JavaScript: it runs as given, unbundled).
const helperSource = `
const start = ({ modules, memory, control, args, index }) => {
  const c = new Int32Array(control);
  const a = new Float64Array(args);
  const fns = [];
  try {
    for (const { bytes, names } of modules) {
      const e = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
      for (const n of names) fns.push(e[n]);
    }
  } catch (e) {
    Atomics.store(c, ${READY} + index, 2);
    return;
  }
  Atomics.store(c, ${READY} + index, 1);
  const x = [];
  let seen = 0;
  for (;;) {
    for (let n = 0; n < ${SPINS} && Atomics.load(c, ${GEN}) === seen; n++);
    Atomics.wait(c, ${GEN}, seen);
    if (Atomics.load(c, ${STOP})) return;
    seen = Atomics.load(c, ${GEN});
    if (Atomics.load(c, ${HOLD})) continue;
    for (;;) {
      const v = Atomics.load(c, ${CLAIM});
      const k = v & ${CLOSED};
      const chunks = Atomics.load(c, ${CHUNKS});
      if (k >= chunks) break;
      if (Atomics.compareExchange(c, ${CLAIM}, v, v + 1) !== v) continue;
      // the job stays as it is until this chunk is done
      const n = c[${NARGS}];
      const per = c[${PER_CHUNK}];
      const from = k * per;
      for (let i = 0; i < n; i++)
        x[i] = a[i] + c[${UNIT_STEP} + i] * from + c[${CHUNK_STEP} + i] * k + c[${THREAD_STEP} + i] * (index + 1);
      x.length = n;
      x[c[${COUNT_ARG}]] = Math.min(per, c[${UNITS}] - from);
      try {
        fns[c[${FN}]](...x);
        Atomics.add(c, ${BY_HELPERS}, 1);
      } catch (e) {
        Atomics.store(c, ${FAILED}, 1);
      }
      if (Atomics.add(c, ${DONE}, 1) + 1 === chunks) Atomics.notify(c, ${DONE});
    }
  }
};
if (typeof self === 'undefined') require('node:worker_threads').parentPort.once('message', start);
else self.onmessage = (e) => start(e.data);
`;

interface Pool {
  memory: WebAssembly.Memory;
  control: Int32Array;
  args: Float64Array;
  workers: { terminate(): unknown }[];
  gen: number;
}

let pool: Pool | null = null;
let blobUrl: string | undefined;
let posted = 0;
let postedChunks = 0;
let callerClaims = true;

/** Jobs handed to helper threads so far, their chunks, and the chunks helpers ran (for tests). */
export function poolJobs(): { posted: number; chunks: number; byHelpers: number } {
  const byHelpers = pool ? Atomics.load(pool.control, BY_HELPERS) : 0;
  return { posted, chunks: postedChunks, byHelpers };
}

/**
 * For tests: `hold` keeps the helpers from claiming chunks (the caller runs
 * them all); `callerClaims` false leaves every chunk to the helpers (the
 * caller only waits).
 */
export function steerPool(opts: { hold?: boolean; callerClaims?: boolean }): void {
  if (opts.hold !== undefined && pool) Atomics.store(pool.control, HOLD, opts.hold ? 1 : 0);
  if (opts.callerClaims !== undefined) callerClaims = opts.callerClaims;
}

/** Whether every helper has started (ready) or failed to: after this, readyHelpers changes no more. */
export function poolSettled(): boolean {
  if (!pool) return true;
  for (let h = 0; h < pool.workers.length; h++)
    if (Atomics.load(pool.control, READY + h) === 0) return false;
  return true;
}

/** Whether this thread may block in Atomics.wait: Node, or a worker (not a page's main thread). */
function mayWait(): boolean {
  if (isNode()) return true;
  return typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined';
}

async function newWorker(): Promise<Pool['workers'][number] & { postMessage(m: unknown): void }> {
  if (isNode()) {
    const { Worker } =
      await importUnbundled<typeof import('node:worker_threads')>('node:worker_threads');
    const worker = new Worker(helperSource, { eval: true });
    worker.unref();
    return worker;
  }
  // revoked when the helpers stop: the worker may fetch it after construction
  blobUrl ??= URL.createObjectURL(new Blob([helperSource], { type: 'text/javascript' }));
  return new Worker(blobUrl);
}

/** The backend's heap memory (exported by the single-threaded build, imported by the threaded one). */
export const memoryOf = (backend: WasmHeapBackend) =>
  (backend.wasm.asm?.memory ?? backend.wasm.wasmMemory) as WebAssembly.Memory;

/**
 * Starts `count` helper threads on the memory of the current (wasm) backend
 * (stopping any earlier ones) when it is shared and this thread may wait;
 * none otherwise. They join jobs once ready.
 */
export async function startWasmThreads(count: number): Promise<void> {
  stopWasmThreads();
  const memory = memoryOf(tf.backend() as unknown as WasmHeapBackend);
  const shared =
    typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  if (count < 1 || !shared || !mayWait()) return;
  const modules = Object.values(MODULES).map((m) => ({ bytes: m.bytes(), names: [...m.names] }));
  if (!modules.every((m) => WebAssembly.validate(m.bytes))) return;
  const control = new Int32Array(new SharedArrayBuffer(4 * CONTROL_WORDS));
  const args = new Float64Array(new SharedArrayBuffer(8 * MAX_ARGS));
  control[CLAIM] = CLOSED;
  pool = { memory, control, args, workers: [], gen: 0 };
  try {
    for (let i = 0; i < Math.min(count, MAX_HELPERS); i++) {
      const worker = await newWorker();
      pool.workers.push(worker);
      worker.postMessage({ modules, memory, control: control.buffer, args: args.buffer, index: i });
    }
  } catch {
    // no workers here (a policy, a missing API): kernels stay on this thread
    stopWasmThreads();
  }
}

/** Stops the helpers (each ends its loop; workers are terminated). */
export function stopWasmThreads(): void {
  if (pool) {
    Atomics.store(pool.control, STOP, 1);
    Atomics.add(pool.control, GEN, 1);
    Atomics.notify(pool.control, GEN);
    for (const w of pool.workers) void w.terminate();
  }
  pool = null;
  if (blobUrl) URL.revokeObjectURL(blobUrl);
  blobUrl = undefined;
}

/** Helpers ready to run chunks on the backend's memory (those that may join a job). */
export function readyHelpers(backend: WasmHeapBackend): number {
  if (!pool || memoryOf(backend) !== pool.memory) return 0;
  let n = 0;
  for (let h = 0; h < pool.workers.length; h++)
    if (Atomics.load(pool.control, READY + h) === 1) n++;
  return n;
}

/** Helper threads started on the backend's memory (ready or not): thread indexes run 0 … this. */
export function poolHelpers(backend: WasmHeapBackend): number {
  return pool && memoryOf(backend) === pool.memory ? pool.workers.length : 0;
}

/** A job: see the file's comment. Steps are per argument (missing: 0). */
export interface PoolJob {
  fn: PoolFunction;
  args: number[];
  /** index of the argument that gets each chunk's units */
  countArg: number;
  units: number;
  perChunk: number;
  unitStep: number[];
  chunkStep?: number[];
  threadStep?: number[];
}

/**
 * Units a chunk: at least `least`, a multiple of `align`, and enough that
 * `units` make at most MAX_CHUNKS chunks (so the boundaries depend on
 * `units` alone).
 */
export function chunkUnits(units: number, least: number, align: number): number {
  return align * Math.ceil(Math.max(least, Math.ceil(units / MAX_CHUNKS)) / align);
}

/**
 * Floats a chunk of an elementwise kernel has at least: tens of µs of GELU
 * on one thread, several hand-offs' worth (chosen, not tuned: the shared
 * machine was too loaded to compare sizes).
 */
export const ELEMENT_CHUNK = 1 << 15;

/**
 * An elementwise job: `pointers` (byte offsets) each moving 4 bytes a float,
 * then the float count `n` (a multiple of 4), then `scalars`.
 */
export function elementwiseJob(
  fn: PoolFunction,
  pointers: number[],
  n: number,
  scalars: number[] = [],
): PoolJob {
  return {
    fn,
    args: [...pointers, n, ...scalars],
    countArg: pointers.length,
    units: n,
    perChunk: chunkUnits(n, ELEMENT_CHUNK, 4),
    unitStep: pointers.map(() => 4),
  };
}

/** Argument i of chunk k (from unit `from`) on thread t. */
const argOf = (job: PoolJob, i: number, from: number, k: number, t: number) =>
  job.args[i] +
  (job.unitStep[i] ?? 0) * from +
  (job.chunkStep?.[i] ?? 0) * k +
  (job.threadStep?.[i] ?? 0) * t;

/**
 * Runs `job` in its chunks on the backend's memory, `run` being the function it names on
 * this thread: with the helpers when one is ready and there are two chunks
 * or more, else here alone (in one call when no argument moves per chunk:
 * then the boundaries change nothing). Throws when a helper failed.
 */
export function runJob(
  backend: WasmHeapBackend,
  job: PoolJob,
  run: (...args: number[]) => void,
): void {
  const chunks = Math.ceil(job.units / job.perChunk);
  if (chunks > MAX_CHUNKS)
    throw new Error(`wasm ${job.fn}: ${chunks} chunks, more than ${MAX_CHUNKS}`);
  const chunkRun = (k: number, t: number) => {
    const from = k * job.perChunk;
    const x = job.args.map((_, i) => argOf(job, i, from, k, t));
    x[job.countArg] = Math.min(job.perChunk, job.units - from);
    run(...x);
  };
  if (chunks < 2 || !readyHelpers(backend)) {
    if (job.chunkStep) for (let k = 0; k < chunks; k++) chunkRun(k, 0);
    else {
      const x = job.args.map((_, i) => argOf(job, i, 0, 0, 0));
      x[job.countArg] = job.units;
      run(...x);
    }
    return;
  }
  const p = pool!;
  const c = p.control;
  p.gen = (p.gen + 1) & GEN_MASK;
  const tag = p.gen << CHUNK_BITS;
  // closed while the job is written: a helper holding a stale counter fails its claim
  Atomics.store(c, CLAIM, tag | CLOSED);
  p.args.set(job.args);
  const steps = [
    [UNIT_STEP, job.unitStep],
    [CHUNK_STEP, job.chunkStep],
    [THREAD_STEP, job.threadStep],
  ] as const;
  for (const [at, step] of steps)
    for (let i = 0; i < job.args.length; i++) c[at + i] = step?.[i] ?? 0;
  c[FN] = FUNCTIONS.indexOf(job.fn);
  c[COUNT_ARG] = job.countArg;
  c[UNITS] = job.units;
  c[PER_CHUNK] = job.perChunk;
  c[NARGS] = job.args.length;
  Atomics.store(c, DONE, 0);
  Atomics.store(c, CHUNKS, chunks);
  Atomics.store(c, CLAIM, tag);
  Atomics.store(c, GEN, p.gen);
  Atomics.notify(c, GEN);
  posted++;
  postedChunks += chunks;
  let failure: unknown;
  // claim chunks until none are left
  while (callerClaims) {
    const k = Atomics.add(c, CLAIM, 1) & CLOSED;
    if (k >= chunks) break;
    try {
      chunkRun(k, 0);
    } catch (e) {
      failure ??= e;
    }
    Atomics.add(c, DONE, 1);
  }
  // then wait for those the helpers claimed
  for (let n = 0; n < SPINS && Atomics.load(c, DONE) < chunks; n++);
  for (let done = Atomics.load(c, DONE); done < chunks; done = Atomics.load(c, DONE))
    Atomics.wait(c, DONE, done);
  Atomics.store(c, CLAIM, tag | CLOSED);
  if (failure) throw failure;
  if (Atomics.exchange(c, FAILED, 0) !== 0)
    throw new Error(`wasm ${job.fn}: a helper thread failed (out of bounds?)`);
}
