// Helper threads for our matrix product (wasm-gemm.ts) on the threaded wasm
// build, whose memory is shared (its buffer a SharedArrayBuffer): each helper
// is a worker (Node worker_threads, or a browser Worker from a Blob URL) that
// instantiates the same GEMM module on the same memory and waits for jobs on
// a small control array of its own (an Int32Array over a SharedArrayBuffer).
// A product's rows are split between the calling thread and the helpers: the
// caller writes each helper's arguments, bumps its job number and notifies
// it, computes its own rows, then waits until each helper has marked the job
// done, or takes the helper's rows back when the helper has not claimed them
// by then (a helper waiting for a core on a busy machine costs no wait).
// Every output is still one sum in k order from the bias, so the split
// gives the one-thread kernel's bits.
//
// A helper spins briefly (SPINS loads of the job number, tens of µs) before it
// sleeps in Atomics.wait, so back-to-back products find it awake. Until a
// helper says it is ready (its module instantiated), the caller leaves it out:
// nothing ever waits on a worker that has not started. Atomics.wait is not
// allowed on a browser page's main thread: there the product stays on one
// thread (the editor trains in a Web Worker). Node workers are unreferenced,
// so they never keep a process alive.
import { isNode, importUnbundled } from './environment.ts';
import { sharedGemmModuleBytes, type GemmSimd } from './wasm-gemm-simd.ts';

/**
 * Control words of a helper: job number (−1: stop), job done, ready, failed,
 * job claimed (by the helper or the caller), then gemm's 13 arguments.
 */
const [JOB, DONE, READY, FAILED, CLAIMED, ARGS] = [0, 1, 2, 3, 4, 5];
const CONTROL_WORDS = ARGS + 13;
/** Loads of a control word before sleeping in Atomics.wait (about tens of µs). */
const SPINS = 4000;

// The helper's whole program (plain JavaScript: it runs as given, unbundled).
const helperSource = `
const start = ({ bytes, memory, control }) => {
  const c = new Int32Array(control);
  let gemm;
  try {
    gemm = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports.gemm;
  } catch (e) {
    Atomics.store(c, ${FAILED}, 1);
    return;
  }
  Atomics.store(c, ${READY}, 1);
  let seen = 0;
  for (;;) {
    for (let n = 0; n < ${SPINS} && Atomics.load(c, ${JOB}) === seen; n++);
    Atomics.wait(c, ${JOB}, seen);
    const job = Atomics.load(c, ${JOB});
    if (job === seen) continue;
    if (job < 0) return;
    seen = job;
    // the caller takes a job back when it finishes its own rows first
    if (Atomics.compareExchange(c, ${CLAIMED}, job - 1, job) !== job - 1) continue;
    try {
      gemm(${Array.from({ length: 13 }, (_, i) => `c[${ARGS + i}]`).join(', ')});
    } catch (e) {
      Atomics.store(c, ${FAILED}, 1);
    }
    Atomics.store(c, ${DONE}, job);
    Atomics.notify(c, ${DONE});
  }
};
if (typeof self === 'undefined') require('node:worker_threads').parentPort.once('message', start);
else self.onmessage = (e) => start(e.data);
`;

interface Helper {
  control: Int32Array;
  worker: { terminate(): unknown };
  job: number;
}

let helpers: Helper[] = [];
let jobs = 0;
let jobsByHelpers = 0;
let takeBack = true;

/** Jobs handed to helper threads so far, and those of them the helpers did (for tests). */
export const gemmThreadJobs = (): { posted: number; byHelpers: number } => ({
  posted: jobs,
  byHelpers: jobsByHelpers,
});

/** Whether the caller takes back jobs that no helper has claimed yet (off: for tests). */
export function takeBackGemmJobs(on: boolean): void {
  takeBack = on;
}

/** Whether every helper has started (ready) or failed to: after this, readyHelpers changes no more. */
export const gemmThreadsSettled = (): boolean =>
  helpers.every((h) => Atomics.load(h.control, READY) + Atomics.load(h.control, FAILED) > 0);

let helpersMemory: WebAssembly.Memory | null = null;
let blobUrl: string | undefined;

/** Whether this thread may block in Atomics.wait: Node, or a worker (not a page's main thread). */
function mayWait(): boolean {
  if (isNode()) return true;
  return typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined';
}

async function newWorker(): Promise<Helper['worker'] & { postMessage(m: unknown): void }> {
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

/**
 * Starts `count` helper threads on `memory` (stopping any earlier ones) when
 * the memory is shared and this thread may wait; none otherwise. They join
 * products once ready.
 */
export async function startGemmThreads(memory: WebAssembly.Memory, count: number): Promise<void> {
  stopGemmThreads();
  const shared =
    typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  if (count < 1 || !shared || !mayWait()) return;
  const bytes = sharedGemmModuleBytes();
  if (!WebAssembly.validate(bytes)) return;
  helpersMemory = memory;
  try {
    for (let i = 0; i < count; i++) {
      const control = new Int32Array(new SharedArrayBuffer(4 * CONTROL_WORDS));
      const worker = await newWorker();
      helpers.push({ control, worker, job: 0 });
      worker.postMessage({ bytes, memory, control: control.buffer });
    }
  } catch {
    // no workers here (a policy, a missing API): products stay on this thread
    stopGemmThreads();
  }
}

/** Stops the helpers (each ends its loop; workers are terminated). */
export function stopGemmThreads(): void {
  for (const h of helpers) {
    Atomics.store(h.control, JOB, -1);
    Atomics.notify(h.control, JOB);
    void h.worker.terminate();
  }
  helpers = [];
  helpersMemory = null;
  if (blobUrl) URL.revokeObjectURL(blobUrl);
  blobUrl = undefined;
}

/** The helpers ready to take rows of a product on `memory`. */
export function readyHelpers(memory: WebAssembly.Memory): number {
  if (memory !== helpersMemory) return 0;
  let n = 0;
  for (const h of helpers)
    if (Atomics.load(h.control, READY) === 1 && Atomics.load(h.control, FAILED) === 0) n++;
    else break;
  return n;
}

/** gemm's arguments (wasm-gemm-simd.ts): a, b, c, bias, M, N, K, sai, sak, sbk, sbj, hasBias, panel. */
export type GemmArgs = Parameters<GemmSimd['gemm']>;

/** Hands `args` to helper `i` (ready: see readyHelpers). */
export function postGemm(i: number, args: GemmArgs): void {
  const h = helpers[i];
  for (let n = 0; n < args.length; n++) h.control[ARGS + n] = args[n];
  h.job++;
  jobs++;
  Atomics.store(h.control, JOB, h.job);
  Atomics.notify(h.control, JOB);
}

/**
 * Helper `i`'s last job done: by `run` here when the helper has not claimed
 * it yet, else waits until the helper has done it (throws if it failed).
 */
export function awaitGemm(i: number, run: (...args: GemmArgs) => void): void {
  const h = helpers[i];
  if (takeBack && Atomics.compareExchange(h.control, CLAIMED, h.job - 1, h.job) === h.job - 1) {
    run(...(Array.from(h.control.subarray(ARGS, ARGS + 13)) as GemmArgs));
    return;
  }
  for (let n = 0; n < SPINS && Atomics.load(h.control, DONE) !== h.job; n++);
  for (let done = Atomics.load(h.control, DONE); done !== h.job;) {
    Atomics.wait(h.control, DONE, done);
    done = Atomics.load(h.control, DONE);
  }
  if (Atomics.load(h.control, FAILED) !== 0)
    throw new Error('wasm matrix product: a helper thread failed (out of bounds?)');
  jobsByHelpers++;
}
