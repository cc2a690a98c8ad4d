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

/** A tape node's kernel, or `customGrad` for a custom gradient's (named after its scope). */
const getKernelName = (name: string) => (tf.getGradient(name) ? name : 'customGrad');

export interface KernelSite {
  /** kernel name, `(saved)` for the tape's copy of a tensor a gradient reads, and where it was called */
  site: string;
  calls: number;
}

interface TapeNode {
  gradient?: (dys: unknown) => Record<string, () => unknown>;
}

interface EngineHooks {
  runKernelFunc: (params: { kernelName?: string }) => unknown;
  addTapeNode: (kernelName: string, ...rest: unknown[]) => void;
  state: { activeTape: TapeNode[] | null };
}

/**
 * Kernel calls while `fn` runs, by the JavaScript that made them: the
 * kernel (a custom gradient's forward as `customGrad`), `(saved)` when the
 * tape made it to keep a tensor for a gradient, the first `frames` frames of
 * this repository's code, and for a call of the backward pass the tape node
 * (kernel and place) whose gradient made it. Most calls first. For finding
 * the calls worth cutting: each costs the engine microseconds of JavaScript.
 */
export async function kernelSites(
  fn: () => Promise<unknown>,
  frames = 3,
): Promise<{ calls: number; sites: KernelSite[] }> {
  const engine = tf.engine() as unknown as EngineHooks;
  const { runKernelFunc, addTapeNode } = engine;
  const root = process.cwd() + '/';
  const ours = (stack: string[]) =>
    stack
      .filter(
        (l) =>
          /^(src|nodes|editor|bench)\//.test(l.split(root)[1] ?? '') && !l.includes('profile.ts'),
      )
      .slice(0, frames)
      .map((l) => l.trim().replace(/^at /, '').replace(root, '').replace(/[()]/g, ''))
      .join(' < ');
  const stackNow = () => (new Error().stack ?? '').split('\n').slice(3);
  const counts = new Map<string, number>();
  let backwardOf = '';
  let calls = 0;
  engine.runKernelFunc = function (this: EngineHooks, params) {
    calls++;
    const stack = stackNow();
    const saved = stack.some((l) => /saveTensorsForBackwardMode|Engine\.clone/.test(l));
    const pass = backwardOf ? `backward of ${backwardOf}` : 'forward';
    const name = params.kernelName ?? 'customGrad';
    const site = `${name}${saved ? ' (saved)' : ''} ${pass} <- ${ours(stack)}`;
    counts.set(site, (counts.get(site) ?? 0) + 1);
    return runKernelFunc.call(this, params);
  };
  engine.addTapeNode = function (this: EngineHooks, kernelName, ...rest) {
    addTapeNode.call(this, kernelName, ...rest);
    const node = this.state.activeTape?.at(-1);
    const gradient = node?.gradient;
    if (!node || !gradient) return;
    // a custom gradient's node is named after the scope it ran in
    const name = getKernelName(kernelName);
    const label = `${name} @ ${ours(stackNow())}`;
    const labelled =
      <A extends unknown[], R>(f: (...a: A) => R) =>
      (...a: A): R => {
        const outer = backwardOf;
        backwardOf = label;
        try {
          return f(...a);
        } finally {
          backwardOf = outer;
        }
      };
    node.gradient = labelled((dys: unknown) => {
      const thunks = gradient(dys);
      return Object.fromEntries(Object.entries(thunks).map(([k, t]) => [k, labelled(t)]));
    });
  };
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 60;
  try {
    await fn();
  } finally {
    engine.runKernelFunc = runKernelFunc;
    engine.addTapeNode = addTapeNode;
    Error.stackTraceLimit = limit;
  }
  const sites = [...counts].map(([site, n]) => ({ site, calls: n }));
  return { calls, sites: sites.sort((a, b) => b.calls - a.calls) };
}
