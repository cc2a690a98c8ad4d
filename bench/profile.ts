/** Kernel profiles for the benchmarks: time and calls by tfjs kernel name, and WebGPU dispatch counts. */
import * as tf from '#tfjs';

export interface KernelRow {
  name: string;
  calls: number;
  ms: number;
}

type ProfiledKernel = Awaited<ReturnType<typeof tf.profile>>['kernels'][number];

/**
 * Time and calls per kernel name (with `byShape`, per name and input shapes),
 * most time first (as the backend's timer measured each kernel: bench/peer-ours.ts
 * sets it to CPU time).
 */
export async function kernelTable(
  kernels: ProfiledKernel[],
  byShape = false,
): Promise<KernelRow[]> {
  const rows = new Map<string, KernelRow>();
  for (const k of kernels) {
    const t = await k.kernelTimeMs;
    // tf.customGrad's forward shows as one 'unnamed scope', and an op built on
    // one (tf.fused.matMul) as `name__op`, each timed with its inner kernels
    let name = k.name === 'unnamed scope' ? 'customGrad forward (incl. inner)' : k.name;
    if (name.endsWith('__op')) name += ' (incl. inner)';
    if (byShape) name += ' ' + k.inputShapes.map((s) => (s ? `[${s.join(',')}]` : '-')).join(' ');
    const row = rows.get(name) ?? { name, calls: 0, ms: 0 };
    row.calls++;
    row.ms += typeof t === 'number' ? t : 0;
    rows.set(name, row);
  }
  return [...rows.values()]
    .map((r) => ({ ...r, ms: Number(r.ms.toFixed(2)) }))
    .sort((a, b) => b.ms - a.ms || b.calls - a.calls);
}

/**
 * GPU programs dispatched while `fn` runs, on the webgpu backend (each
 * `recordAndSubmit` records one `dispatchWorkgroups`). Reshapes and other
 * kernels that only relabel a buffer dispatch nothing.
 */
export async function countDispatches(fn: () => Promise<unknown>): Promise<number> {
  const backend = tf.backend() as unknown as Record<string, unknown>;
  const original = backend.recordAndSubmit as ((...a: unknown[]) => unknown) | undefined;
  if (tf.getBackend() !== 'webgpu' || !original) throw new Error('dispatches: not on webgpu');
  let count = 0;
  backend.recordAndSubmit = (...a: unknown[]) => {
    count++;
    return original.apply(backend, a);
  };
  try {
    await fn();
  } finally {
    backend.recordAndSubmit = original;
  }
  return count;
}

/** This process's CPU time (user + system) in ms. */
export const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * Runs `fn` with each kernel timed by this process's CPU time instead of the
 * wall clock (the backend's timer, which tf.profile asks): on a loaded machine
 * a kernel's wall time includes the time the process waited to be scheduled.
 * Meant for one thread (with a pool, a kernel's CPU time adds up its threads).
 */
export async function byCpuTime<T>(fn: () => Promise<T>): Promise<T> {
  const backend = tf.backend() as unknown as { time: (f: () => void) => Promise<unknown> };
  const wall = backend.time;
  backend.time = async (f) => {
    const c0 = cpuNow();
    f();
    return { kernelMs: cpuNow() - c0 };
  };
  try {
    return await fn();
  } finally {
    backend.time = wall;
  }
}
