/**
 * The wasm attention core (src/ops/attention-core.ts) against float64 loops:
 * the output softmax(q·kᵀ + bias + mask)·v per window and head, and the
 * gradients of Σ out·r for q, k, v and the bias (dL = P ⊙ (dP − Σ_j P·dP)),
 * with a mask over nW windows of a batch of 2, with and without the bias and
 * the mask, at odd sizes and at 1–4 heads of d 16 and 32; and it moves no
 * operand: its six products (q·kᵀ, P·v; dy·vᵀ, Pᵀ·dy, dL·k, dLᵀ·q) read q,
 * k, v and dy in place, so forward and backward run no operand-sized
 * Transpose (17 in the depthwise layout before) and no depthwise convolution.
 */
import * as tf from '#tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { attentionCore } from '../../src/ops/attention-core.ts';
import { refWindowAttentionCore } from '../reference/attention.ts';
import { Rng } from '../reference/math.ts';

beforeAll(async () => {
  const info = await initBackend('wasm');
  if (info.name !== 'wasm') throw new Error(info.message);
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

/** A batch of 2 of nW windows of N tokens, h heads of width d. */
interface Dims {
  nW: number;
  N: number;
  h: number;
  d: number;
}
const B = 2;

/** Forward and backward in float64 (test/reference/attention.ts) on `[Bw, N, C]`. */
function reference(
  { nW, N, h, d }: Dims,
  q: number[],
  k: number[],
  v: number[],
  bias: number[],
  mask: number[],
  r: number[],
) {
  const at = (w: number, head: number, i: number, c: number) => (w * N + i) * h * d + head * d + c;
  return refWindowAttentionCore(
    { windows: B * nW, nW, N, h, d, scale: 1 },
    at,
    q,
    k,
    v,
    bias,
    mask,
    r,
  );
}

/** Odd sizes, then the demo's and the 224² preset's kind of window (d 16 and 32). */
const DIMS: Dims[] = [
  { nW: 3, N: 5, h: 2, d: 3 },
  { nW: 4, N: 16, h: 1, d: 16 },
  { nW: 2, N: 16, h: 4, d: 16 },
  { nW: 2, N: 49, h: 3, d: 32 },
];

/** The four ways a unit comes: with the bias and the mask, either, or neither. */
const WITH: [boolean, boolean][] = [
  [true, true],
  [true, false],
  [false, true],
  [false, false],
];

describe('attentionCore (wasm)', () => {
  for (const dims of DIMS)
    for (const [withBias, withMask] of WITH)
      it(`output and gradients equal float64 loops: nW ${dims.nW}, N ${dims.N}, ${dims.h} heads of ${dims.d}${withBias ? ', bias' : ''}${withMask ? ', mask' : ''}`, () => {
        const { nW, N, h, d } = dims;
        const [Bw, C] = [B * nW, h * d];
        const rng = new Rng(11 + N + h);
        const draw = (n: number) => Array.from({ length: n }, () => rng.normal());
        // k scaled by d^-0.5, as attention passes it
        const [q, k0, v, r] = [0, 1, 2, 3].map(() => draw(Bw * N * C));
        const k = k0.map((x) => x / Math.sqrt(d));
        const bias = withBias ? draw(h * N * N) : new Array<number>(h * N * N).fill(0);
        const mask = Array.from({ length: nW * N * N }, (_, i) =>
          withMask && i % 7 === 3 ? -100 : 0,
        );
        const want = reference(dims, q, k, v, bias, mask, r);
        const t3 = (x: number[], s: [number, number, number]) => tf.tensor3d(x, s);
        const [qt, kt, vt, rt] = [q, k, v, r].map((x) => t3(x, [Bw, N, C]));
        const bt = withBias ? t3(bias, [h, N, N]) : null;
        const mt = withMask ? t3(mask, [nW, N, N]) : null;
        const before = tf.memory().numTensors;
        const f = (...ts: tf.Tensor[]) =>
          tf.sum(
            tf.mul(
              attentionCore(
                ts[0] as tf.Tensor3D,
                ts[1] as tf.Tensor3D,
                ts[2] as tf.Tensor3D,
                h,
                (ts[3] as tf.Tensor3D | undefined) ?? null,
                mt,
              ),
              rt,
            ),
          );
        const grads = tf.grads(f)(bt ? [qt, kt, vt, bt] : [qt, kt, vt]);
        const out = attentionCore(qt, kt, vt, h, bt, mt);
        const worst = (got: tf.Tensor, exp: ArrayLike<number>) => {
          const g = got.dataSync();
          return Math.max(...Array.from(exp, (e, i) => Math.abs(g[i] - e)));
        };
        expect(worst(out, want.out)).toBeLessThan(1e-5);
        const expected = [want.dq, want.dk, want.dv, ...(bt ? [want.dbias] : [])];
        expected.forEach((e, i) => expect(worst(grads[i], e), `input ${i}`).toBeLessThan(1e-5));
        tf.dispose([out, ...grads]);
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose([qt, kt, vt, rt, ...(bt ? [bt] : []), ...(mt ? [mt] : [])]);
      });

  it('moves no operand: six strided products, no operand-sized Transpose, no depthwise convolution', async () => {
    const { nW, N, h, d } = DIMS[0];
    const Bw = B * nW;
    const x = tf.randomNormal([Bw, N, h * d]) as tf.Tensor3D;
    const bias = tf.randomNormal([h, N, N]) as tf.Tensor3D;
    const mask = tf.zeros([nW, N, N]) as tf.Tensor3D;
    const prof = await tf.profile(() =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(
          attentionCore(
            a as tf.Tensor3D,
            a as tf.Tensor3D,
            a as tf.Tensor3D,
            h,
            b as tf.Tensor3D,
            mask,
          ),
        ),
      )([x, bias]),
    );
    tf.dispose(prof.result as tf.Tensor[]);
    tf.dispose([x, bias, mask]);
    const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
    const moved = prof.kernels.filter(
      (k) => k.name === 'Transpose' && size(k.inputShapes[0]!) > Math.max(h, nW) * N * N,
    );
    expect(moved.map((k) => k.inputShapes[0]!.join('×'))).toEqual([]);
    const names = prof.kernels.map((k) => k.name);
    expect(names).not.toContain('DepthwiseConv2dNative');
    expect(names.filter((n) => n === 'MamBatchedProduct')).toHaveLength(6);
  });
});
