/**
 * Slices, pads and concats of 3D volumes through views of rank ≤ 4
 * (src/ops/flat-slice.ts): the merged views as derived by hand, values and
 * gradients against plain float64 loops, and, on wasm, that a 2-crop conv3d,
 * patch merging and relative bias run forward and backward without a Slice,
 * SplitV or Unpack of rank 5 (tfjs 4.22's wasm slices those element by
 * element through the cpu backend's generic loop, which made a 2-crop
 * training step of swinunetr-mam-demo ~12× the CPU of a 1-crop one).
 */
import * as tf from '#tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { swinIndex3d } from '../../src/graph/geometry3d.ts';
import { concatFlat, flatSlice, padFlat, sliceFlat, stackFlat } from '../../src/ops/flat-slice.ts';
import { conv3d, mergeGather3d, relativeBias3d, type Vol } from '../../src/ops/vol3d.ts';
import { checkOp } from '../reference/harness.ts';
import { Rng, type F64 } from '../reference/math.ts';

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Row-major strides. */
const strides = (s: readonly number[]) => s.map((_, a) => size(s.slice(a + 1)));

/** The multi-index of flat index `i` in `shape`. */
const unravel = (i: number, shape: readonly number[]) =>
  strides(shape).map((st, a) => Math.floor(i / st) % shape[a]);

/** Plain loop: out[p] = x[p + begin]. */
function refSlice(x: F64, shape: number[], begin: number[], sz: number[]): F64 {
  const out = new Float64Array(size(sz));
  const st = strides(shape);
  for (let i = 0; i < out.length; i++)
    out[i] = x[unravel(i, sz).reduce((o, p, a) => o + (p + begin[a]) * st[a], 0)];
  return out;
}

/** Plain loop: zeros, x placed at the `before` corner. */
function refPad(x: F64, shape: number[], pads: [number, number][]): F64 {
  const outShape = shape.map((n, a) => n + pads[a][0] + pads[a][1]);
  const out = new Float64Array(size(outShape));
  const st = strides(outShape);
  for (let i = 0; i < x.length; i++)
    out[unravel(i, shape).reduce((o, p, a) => o + (p + pads[a][0]) * st[a], 0)] = x[i];
  return out;
}

/** Plain loop: parts side by side along `axis`. */
function refConcat(parts: F64[], shapes: number[][], axis: number): F64 {
  const outShape = shapes[0].map((n, a) => (a === axis ? shapes.reduce((s, p) => s + p[a], 0) : n));
  const out = new Float64Array(size(outShape));
  const st = strides(outShape);
  let offset = 0;
  parts.forEach((x, k) => {
    for (let i = 0; i < x.length; i++)
      out[
        unravel(i, shapes[k]).reduce((o, p, a) => o + (p + (a === axis ? offset : 0)) * st[a], 0)
      ] = x[i];
    offset += shapes[k][axis];
  });
  return out;
}

describe('flatSlice merges axes as derived by hand', () => {
  it('a depth tap of a 2-crop volume is two rows; the padding gradient a rank-4 box', () => {
    // [2, 66, 66, 66, 12] from [0, 3, 0, 0, 0], size [2, 64, 66, 66, 12]: H, W, C whole merge into D
    expect(flatSlice([2, 66, 66, 66, 12], [0, 3, 0, 0, 0], [2, 64, 66, 66, 12])).toEqual({
      shape: [2, 66 * 66 * 66 * 12],
      begin: [0, 3 * 66 * 66 * 12],
      size: [2, 64 * 66 * 66 * 12],
    });
    // padding 1 cut off again: only C is whole, it merges into W
    expect(flatSlice([2, 66, 66, 66, 12], [0, 1, 1, 1, 0], [2, 64, 64, 64, 12])).toEqual({
      shape: [2, 66, 66, 66 * 12],
      begin: [0, 1, 1, 12],
      size: [2, 64, 64, 64 * 12],
    });
    // axes taken at one index merge with the next: a filter tap is one block
    expect(flatSlice([3, 3, 3, 4, 5], [2, 0, 0, 0, 0], [1, 3, 3, 4, 5])).toEqual({
      shape: [3 * 3 * 3 * 4 * 5],
      begin: [2 * 3 * 3 * 4 * 5],
      size: [3 * 3 * 4 * 5],
    });
  });
});

const sets: [string, () => Promise<void>][] = (['cpu', 'wasm'] as const).map((b) => [
  b,
  async () => {
    await tf.setBackend(b);
    await tf.ready();
  },
]);

afterAll(async () => {
  await tf.setBackend('cpu');
});

for (const [backend, set] of sets)
  describe(`flat slice, pad and concat on ${backend}, against plain loops`, () => {
    const rng = new Rng(5);
    const within = (r: { forward: number; grad: number }) => {
      expect(r.forward).toBeLessThanOrEqual(1e-6);
      expect(r.grad).toBeLessThanOrEqual(1e-3);
    };

    it('sliceFlat: a depth tap, a crop and a mixed box of a rank-5 batch of 2', async () => {
      await set();
      const shape = [2, 5, 4, 3, 2];
      const x = rng.array(size(shape));
      const boxes: [number[], number[]][] = [
        [
          [0, 2, 0, 0, 0],
          [2, 3, 4, 3, 2],
        ],
        [
          [0, 1, 1, 1, 0],
          [2, 3, 2, 1, 2],
        ],
        [
          [1, 0, 2, 0, 1],
          [1, 4, 1, 3, 1],
        ],
      ];
      for (const [begin, sz] of boxes)
        within(
          checkOp(
            [{ data: x, shape }],
            (t) => sliceFlat(t, begin, sz),
            (xs) => refSlice(xs, shape, begin, sz),
          ),
        );
    });

    it('padFlat: padding on D, H, W of a batch of 2, its gradient the inner box', async () => {
      await set();
      const shape = [2, 3, 2, 4, 2];
      const pads: [number, number][] = [
        [0, 0],
        [1, 1],
        [2, 0],
        [0, 1],
        [0, 0],
      ];
      within(
        checkOp(
          [{ data: rng.array(size(shape)), shape }],
          (t) => padFlat(t, pads),
          (xs) => refPad(xs, shape, pads),
        ),
      );
    });

    it('concatFlat on the channels and stackFlat on an inner axis', async () => {
      await set();
      const shapes = [
        [2, 3, 2, 2, 3],
        [2, 3, 2, 2, 1],
      ];
      within(
        checkOp(
          shapes.map((shape) => ({ data: rng.array(size(shape)), shape })),
          (a, b) => concatFlat([a, b], 4),
          (a, b) => refConcat([a, b], shapes, 4),
        ),
      );
      const part = [3, 2, 4, 2];
      const expanded = [3, 2, 1, 4, 2];
      within(
        checkOp(
          [0, 1, 2].map(() => ({ data: rng.array(size(part)), shape: part })),
          (a, b, c) => stackFlat([a, b, c], 2),
          (a, b, c) => refConcat([a, b, c], [expanded, expanded, expanded], 2),
        ),
      );
    });
  });

describe('2-crop 3D ops on wasm slice no rank-5 tensor', () => {
  it('conv3d 3³ padding 1, patch merging and the relative bias, forward and backward', async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    const x = tf.randomNormal([2, 6, 6, 6, 3], 0, 1, 'float32', 1) as Vol;
    const w = tf.randomNormal([3, 3, 3, 3, 4], 0, 0.2, 'float32', 2) as tf.Tensor5D;
    const table = tf.randomNormal([7 ** 3, 2], 0, 1, 'float32', 3) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    const prof = await tf.profile(() => {
      const [gx, gw, gt] = tf.grads((xx: tf.Tensor, ww: tf.Tensor, tt: tf.Tensor) => {
        const y = conv3d(xx as Vol, ww as tf.Tensor5D, undefined, { padding: [1, 1, 1] });
        const merged = mergeGather3d(y, 'all-eight');
        const bias = relativeBias3d(tt as tf.Tensor2D, swinIndex3d(4));
        return tf.add(tf.sum(tf.square(merged)), tf.sum(tf.square(bias)));
      })([x, w, table]);
      tf.dispose([gx, gw]);
      return gt;
    });
    const slicing = prof.kernels.filter((k) => ['Slice', 'SplitV', 'Unpack'].includes(k.name));
    // the ops slice (forward) and pad / split (backward) at all: the check is not vacuous
    expect(slicing.length).toBeGreaterThan(0);
    const rank5 = slicing.filter((k) => k.inputShapes.some((s) => (s?.length ?? 0) > 4));
    expect(
      rank5.map((k) => `${k.name} [${k.inputShapes.map((s) => s?.join(',')).join('] [')}]`),
    ).toEqual([]);
    tf.dispose(prof.result);
    tf.dispose([x, w, table]);
    expect(tf.memory().numTensors).toBe(before - 3);
  });
});
