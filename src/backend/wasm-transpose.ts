// The wasm backend's Transpose is scalar C++: 0.25–0.8 ns an element at a
// training step's shapes, 6–8 for a plain 2D transpose. Ours
// (wasm-transpose-simd.ts) first drops axes of size 1 and merges input axes
// that stay neighbours in the output (most perms become rank 2–4), then
// copies the contiguous runs as f32x4 vectors where the last axis stays
// last, and moves 4×4 blocks through registers where it moves: 0.1–0.25 ns
// an element (`npm run bench -- transpose`). A plan per shape and perm is
// kept, as the JavaScript around a call cost as much as a small copy.
// float32 and int32 (4-byte elements); other dtypes, and a runtime without
// WebAssembly SIMD, keep tfjs's kernel, to which a 2D transpose goes split
// into three axes ([a, M/a, p] → [p, a, M/a]: the same elements in the same
// order, ~7× faster there).
import * as tf from '#tfjs';
import { simdOnBackend, type WasmHeapBackend } from './wasm-simd-asm.ts';
import { LEVELS, transposeSimd } from './wasm-transpose-simd.ts';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** The smallest factor of n in [2, √n], or 0 when there is none (n prime or below 4). */
function smallFactor(n: number): number {
  for (let a = 2; a * a <= n; a++) if (n % a === 0) return a;
  return 0;
}

/**
 * The transpose `perm` of `shape` as a rank-3 one when, without its axes of
 * size 1, it is a 2D transpose with a side that splits: the shape to read the
 * input as and the permutation, or null.
 */
export function rank3Transpose(
  shape: readonly number[],
  perm: readonly number[],
): { shape: number[]; perm: number[] } | null {
  const kept = perm.filter((a) => shape[a] !== 1);
  if (kept.length !== 2 || kept[0] < kept[1]) return null;
  const [M, p] = [shape[kept[1]], shape[kept[0]]];
  const a = smallFactor(M);
  if (a) return { shape: [a, M / a, p], perm: [2, 0, 1] };
  const b = smallFactor(p);
  if (b) return { shape: [M, b, p / b], perm: [1, 2, 0] };
  return null;
}

/**
 * The same transpose with the axes of size 1 dropped and each run of input
 * axes that stay neighbours, in order, in the output merged into one axis
 * (a no-op perm becomes rank 1, or 0 when every axis has size 1).
 */
export function simplifyTranspose(
  shape: readonly number[],
  perm: readonly number[],
): { shape: number[]; perm: number[] } {
  const keptAxes = shape.flatMap((n, a) => (n === 1 ? [] : [a]));
  const kept = perm.filter((a) => shape[a] !== 1).map((a) => keptAxes.indexOf(a));
  // groups of input axes in output order: a group goes on while the next axis follows
  const groups: number[][] = [];
  for (const a of kept)
    if (groups.length && groups[groups.length - 1].at(-1)! + 1 === a)
      groups[groups.length - 1].push(a);
    else groups.push([a]);
  const byInput = [...groups].sort((g, h) => g[0] - h[0]);
  const keptShape = shape.filter((n) => n !== 1);
  return {
    shape: byInput.map((g) => g.reduce((s, a) => s * keptShape[a], 1)),
    perm: groups.map((g) => byInput.indexOf(g)),
  };
}

/** One call of a SIMD transpose function: byte offsets from the tensors' starts, loop levels, extras. */
export interface TransposeCall {
  body: 'run' | 'tile' | 'element';
  src: number;
  dst: number;
  /** outermost first */
  levels: Level[];
  extra: [number, number];
}

/** A loop: count, input step, output step (bytes). */
type Level = [number, number, number];

/** Inputs up to this size are walked in the output's order when the last axis moves. */
const CACHED_BYTES = 512 * 1024;

/** Row-major strides (elements) of `shape`. */
const stridesOf = (shape: readonly number[]) => {
  const out = new Array<number>(shape.length);
  for (let a = shape.length - 1, s = 1; a >= 0; a--) {
    out[a] = s;
    s *= shape[a];
  }
  return out;
};

/**
 * The calls that move every element of a transpose of 4-byte elements (the
 * shape of non-zero size): one when the last axis stays last (runs, or single
 * elements for runs under 4), else 4×4 tiles and single elements for the
 * edges of the two axes that trade places. Null when it needs more than
 * LEVELS loops or perm is the identity once simplified.
 */
export function transposeCalls(
  shape: readonly number[],
  perm: readonly number[],
): TransposeCall[] | null {
  const t = simplifyTranspose(shape, perm);
  const [s, p] = [t.shape, t.perm];
  const r = s.length;
  if (r < 2 || r > LEVELS) return null;
  const inStrides = stridesOf(s);
  const outStrides = stridesOf(p.map((a) => s[a]));
  const levelOf = (k: number): Level => [s[p[k]], 4 * inStrides[p[k]], 4 * outStrides[k]];
  const call = (
    body: TransposeCall['body'],
    levels: TransposeCall['levels'],
    at = [0, 0],
    extra: [number, number] = [0, 0],
  ) => ({ body, src: at[0], dst: at[1], levels, extra });
  // output axes but the last, outermost first
  const front = p.slice(0, r - 1).map((_, k) => levelOf(k));
  if (p[r - 1] === r - 1) {
    const run = s[r - 1];
    return [
      run >= 4
        ? call('run', front, [0, 0], [4 * run, 0])
        : call('element', [...front, levelOf(r - 1)]),
    ];
  }
  // output axis q is the input's last (contiguous) axis; the output's last is input axis j
  const q = p.indexOf(r - 1);
  const j = p[r - 1];
  const [nq, nj] = [s[r - 1], s[j]];
  const [q4, j4] = [nq - (nq % 4), nj - (nj % 4)];
  const [inJ, outQ] = [4 * inStrides[j], 4 * outStrides[q]];
  // Loops in output order write the output front to back; but each pass over
  // the outer axes then reads 16 bytes of every input row: worth it while the
  // input stays in cache (L2 here: 1 MiB a core). Beyond that the q loop goes
  // inside (a block of the input at a time, rows of the output far apart).
  const outputOrder = 4 * inStrides[0] * s[0] <= CACHED_BYTES;
  const order = (qLevel: Level, jLevel: Level) => {
    const levels = front.map((l, k) => (k === q ? qLevel : l));
    return outputOrder
      ? [...levels, jLevel]
      : [...levels.filter((l) => l !== qLevel), qLevel, jLevel];
  };
  const calls: TransposeCall[] = [];
  if (q4 && j4)
    calls.push(
      call('tile', order([q4 / 4, 16, 4 * outQ], [j4 / 4, 4 * inJ, 16]), [0, 0], [inJ, outQ]),
    );
  if (nq > q4)
    calls.push(call('element', order([nq - q4, 4, outQ], [nj, inJ, 4]), [4 * q4, q4 * outQ]));
  if (nj > j4 && q4)
    calls.push(call('element', order([q4, 4, outQ], [nj - j4, inJ, 4]), [j4 * inJ, 4 * j4]));
  return calls;
}

interface TransposeBackend extends Omit<WasmHeapBackend, 'makeOutput'> {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  incRef(dataId: tf.DataId): void;
}

/** The SIMD copy bodies on a backend's memory (also wasm-slice.ts's strided copies). */
export const transposeSimdOn = simdOnBackend(transposeSimd);
const simdOn = transposeSimdOn;

/** A transpose made ready: share the input's buffer, or the calls with their arguments, or null (not ours). */
type Plan =
  'share' | { body: TransposeCall['body']; src: number; dst: number; args: number[] }[] | null;

const plans = new Map<string, Plan>();

/** The plan of a transpose, made once per shape and perm (a step repeats a few dozen). */
function planOf(shape: readonly number[], perm: readonly number[]): Plan {
  const key = `${shape.join()}|${perm.join()}`;
  let plan = plans.get(key);
  if (plan !== undefined) return plan;
  if (simplifyTranspose(shape, perm).shape.length < 2) plan = 'share';
  else
    plan =
      transposeCalls(shape, perm)?.map((c) => ({
        body: c.body,
        src: c.src,
        dst: c.dst,
        // unused outer levels: one pass
        args: [
          ...Array.from({ length: LEVELS - c.levels.length }, () => [1, 0, 0]).flat(),
          ...c.levels.flat(),
          ...c.extra,
        ],
      })) ?? null;
  if (plans.size >= 1024) plans.clear();
  plans.set(key, plan);
  return plan;
}

/** Ours for float32 and int32 where SIMD is there; else null (tfjs's kernel runs). */
export function simdTranspose(args: KernelArgs): tf.TensorInfo | null {
  const x = args.inputs.x as tf.TensorInfo;
  const perm = (args.attrs as { perm: number[] }).perm;
  const backend = args.backend as unknown as TransposeBackend;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') return null;
  const simd = simdOn(backend);
  if (!simd) return null;
  const outShape = perm.map((a) => x.shape[a]);
  if (tf.util.sizeFromShape(outShape) === 0) return backend.makeOutput(outShape, x.dtype);
  const plan = planOf(x.shape, perm);
  if (!plan) return null;
  if (plan === 'share') {
    // the same elements in the same order: share the buffer (as wasm's Reshape does)
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: outShape, dtype: x.dtype };
  }
  const out = backend.makeOutput(outShape, x.dtype);
  const [src, dst] = [backend.getMemoryOffset(x.dataId), backend.getMemoryOffset(out.dataId)];
  for (const c of plan) simd[c.body](src + c.src, dst + c.dst, ...c.args);
  return out;
}

let replaced = false;
let enabled = true;

/** Turns our kernel off (tfjs's runs every transpose, 2D ones split) or back on: for `npm run bench -- transpose`. */
export function useWasmTranspose(on: boolean): void {
  enabled = on;
}

/**
 * Replaces the wasm backend's Transpose by ours (float32, int32), with
 * tfjs's for the rest, 2D transposes split into rank-3 ones (idempotent).
 */
export function replaceWasmTranspose(): void {
  if (replaced) return;
  const original = tf.getKernel(tf.Transpose, 'wasm');
  if (!original) throw new Error('replaceWasmTranspose: the wasm backend is not loaded');
  replaced = true;
  const kernelFunc = (args: KernelArgs): tf.TensorInfo => {
    const fast = enabled ? simdTranspose(args) : null;
    if (fast) return fast;
    const x = args.inputs.x as tf.TensorInfo;
    const perm = (args.attrs as { perm: number[] }).perm;
    const split = rank3Transpose(x.shape, perm);
    if (!split) return original.kernelFunc(args) as tf.TensorInfo;
    const out = original.kernelFunc({
      ...args,
      inputs: { x: { ...x, shape: split.shape } },
      attrs: { perm: split.perm },
    }) as tf.TensorInfo;
    return { ...out, shape: perm.map((a) => x.shape[a]) };
  };
  tf.unregisterKernel(tf.Transpose, 'wasm');
  tf.registerKernel({ ...original, kernelFunc });
}
