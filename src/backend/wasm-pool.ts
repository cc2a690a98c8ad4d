// tfjs-backend-wasm runs every XNNPACK operator (matrix products and
// convolutions, but also Square, Elu, Pad, broadcast Add/Multiply...) on one
// pthreadpool of all its threads. Each parallel run wakes the pool's other
// threads and waits until each has checked in: tens of µs on an idle machine,
// up to a scheduler slice (ms) when other work holds the cores, and the threads
// spin for a while after each run, taking CPU from the main thread. For the
// thousands of small operators of a training step that costs more than the
// second thread gives (the demo step was slower on 2 threads than on 1).
//
// The backend reads the pool from one C++ global (tfjs::backend::threadpool)
// at each operator run. `init_with_threads_count(1)` points that global at a
// new pool of one thread (which runs every task inline); found by the word
// that call changed, the global is then switched per kernel: the pool of all
// threads only for the kernels whose work is large enough to pay for the
// wake-up (big matrix products and convolutions), the inline one otherwise.
import * as tf from '#tfjs';

type KernelArgs = Parameters<tf.KernelFunc>[0];

interface PoolModule {
  HEAPU32: Uint32Array;
  tfjs: { initWithThreadsCount(n: number): void; getThreadsCount(): number };
}

export interface WasmPools {
  /** threads of the pool of all threads */
  threads: number;
  /** word index (in HEAPU32) of the backend's pool pointer */
  address: number;
  all: number;
  one: number;
}

/**
 * Multiply-adds from which a kernel runs on the pool of all threads: ~0.3 ms
 * of work on one thread, several wake-ups' worth on an idle machine. (On a
 * loaded one, where a woken thread waits for a core, even these lose.)
 */
export const POOL_MIN_WORK = 1 << 22;

let pools: WasmPools | null = null;
let module: PoolModule | null = null;

/**
 * Makes the backend's pool of one thread and finds the pointer that selects
 * it (null with one thread, or when the pointer is not found: then every
 * kernel keeps the pool of all threads, as before).
 */
export function findPools(m: PoolModule): WasmPools | null {
  const threads = m.tfjs.getThreadsCount();
  if (threads <= 1) return null;
  const before = m.HEAPU32.slice();
  m.tfjs.initWithThreadsCount(1);
  const after = m.HEAPU32;
  if (m.tfjs.getThreadsCount() !== 1) return null;
  const n = Math.min(before.length, after.length);
  for (let i = 0; i < n; i++) {
    if (before[i] === after[i]) continue;
    const [all, one] = [before[i], after[i]];
    after[i] = all;
    const found = m.tfjs.getThreadsCount() === threads;
    after[i] = one;
    if (found && m.tfjs.getThreadsCount() === 1) return { threads, address: i, all, one };
  }
  return null;
}

/** Runs `f` with the backend on the pool of all threads (or as it is, without pools). */
export function onAllThreads<T>(f: () => T): T {
  if (!pools || !module) return f();
  const heap = module.HEAPU32;
  heap[pools.address] = pools.all;
  try {
    return f();
  } finally {
    // the heap may have grown (a new view) during f
    module.HEAPU32[pools.address] = pools.one;
  }
}

const shapeOf = (args: KernelArgs, name: string) => (args.inputs[name] as tf.TensorInfo).shape;
const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Multiply-adds of one call of each kernel that may take the pool of all threads. */
const WORK: Record<string, (args: KernelArgs) => number> = {
  // a batch above 1 runs as a plain loop on the calling thread
  [tf.BatchMatMul]: matMulWork,
  [tf._FusedMatMul]: matMulWork,
  [tf.DepthwiseConv2dNative]: (args) =>
    size(shapeOf(args, 'x')) * size(shapeOf(args, 'filter').slice(0, 2)),
  [tf.Conv2D]: convWork,
  [tf.FusedConv2D]: convWork,
  [tf.Conv2DBackpropInput]: (args) =>
    size(shapeOf(args, 'dy')) * size(shapeOf(args, 'filter').slice(0, 3)),
};

function matMulWork(args: KernelArgs): number {
  const a = shapeOf(args, 'a');
  const b = shapeOf(args, 'b');
  if (size(a.slice(0, -2)) > 1 || size(b.slice(0, -2)) > 1) return 0;
  return (
    size(a.slice(-2)) *
    b[b.length - 1 - Number((args.attrs as { transposeB?: boolean }).transposeB ? 1 : 0)]
  );
}

function convWork(args: KernelArgs): number {
  const f = shapeOf(args, 'filter');
  const x = shapeOf(args, 'x');
  return (size(x) / x[x.length - 1]) * size(f);
}

/**
 * Puts the backend on its pool of one thread and the kernels of WORK on the
 * pool of all threads when a call's work is at least `minWork` (once; no-op
 * with one thread). Returns the pools, or null when there is one pool.
 */
export function poolByWork(minWork = POOL_MIN_WORK): WasmPools | null {
  if (module) return pools;
  const m = (tf.backend() as unknown as { wasm: PoolModule }).wasm;
  module = m;
  pools = findPools(m);
  if (!pools) return null;
  for (const [name, work] of Object.entries(WORK)) {
    const original = tf.getKernel(name, 'wasm');
    if (!original) continue;
    const kernelFunc = (args: KernelArgs) =>
      work(args) >= minWork
        ? onAllThreads(() => original.kernelFunc(args))
        : original.kernelFunc(args);
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...original, kernelFunc: kernelFunc as tf.KernelFunc });
  }
  return pools;
}
