/**
 * The wasm attention core (src/ops/attention-core.ts) against float64 loops:
 * the output softmax(q·kᵀ + bias + mask)·v per window and head, and the
 * gradients of Σ out·r for q, k, v and the bias (dL = P ⊙ (dP − Σ_j P·dP)),
 * with a mask over nW windows of a batch of 2; and it moves each operand
 * once: at most 17 transposes of operand size forward and backward (~27
 * composed from batchedProduct), none of them the slow rank-4 kind that
 * moves the innermost axis to the second place.
 */
import * as tf from '#tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { attentionCore } from '../../src/ops/attention-core.ts';
import { Rng } from '../reference/math.ts';

beforeAll(async () => {
  const info = await initBackend('wasm');
  if (info.name !== 'wasm') throw new Error(info.message);
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

const [B, nW, N, h, d] = [2, 3, 5, 2, 3];
const Bw = B * nW;
const C = h * d;

/** Forward and backward in float64; `at(t, b, i, head, j)` reads `[Bw, N, C]`. */
function reference(
  q: number[],
  k: number[],
  v: number[],
  bias: number[],
  mask: number[],
  r: number[],
) {
  const at = (t: number[], b: number, i: number, head: number, j: number) =>
    t[(b * N + i) * C + head * d + j];
  const out = new Array<number>(Bw * N * C).fill(0);
  const dq = new Array<number>(Bw * N * C).fill(0);
  const dk = new Array<number>(Bw * N * C).fill(0);
  const dv = new Array<number>(Bw * N * C).fill(0);
  const dbias = new Array<number>(h * N * N).fill(0);
  for (let b = 0; b < Bw; b++)
    for (let head = 0; head < h; head++) {
      const P: number[][] = [];
      for (let i = 0; i < N; i++) {
        const l = Array.from({ length: N }, (_, j) => {
          let s = bias[(head * N + i) * N + j] + mask[((b % nW) * N + i) * N + j];
          for (let t = 0; t < d; t++) s += at(q, b, i, head, t) * at(k, b, j, head, t);
          return s;
        });
        const m = Math.max(...l);
        const e = l.map((x) => Math.exp(x - m));
        const z = e.reduce((a, x) => a + x, 0);
        P.push(e.map((x) => x / z));
      }
      for (let i = 0; i < N; i++) {
        const row = (b * N + i) * C + head * d;
        for (let t = 0; t < d; t++)
          for (let j = 0; j < N; j++) out[row + t] += P[i][j] * at(v, b, j, head, t);
        // dP[i][j] = Σ_t r[i, t]·v[j, t]; dV[j, t] += P[i][j]·r[i, t]
        const dP = Array.from({ length: N }, (_, j) => {
          let s = 0;
          for (let t = 0; t < d; t++) s += at(r, b, i, head, t) * at(v, b, j, head, t);
          return s;
        });
        const dot = P[i].reduce((a, p, j) => a + p * dP[j], 0);
        for (let j = 0; j < N; j++) {
          const dL = P[i][j] * (dP[j] - dot);
          dbias[(head * N + i) * N + j] += dL;
          for (let t = 0; t < d; t++) {
            dv[(b * N + j) * C + head * d + t] += P[i][j] * at(r, b, i, head, t);
            dq[row + t] += dL * at(k, b, j, head, t);
            dk[(b * N + j) * C + head * d + t] += dL * at(q, b, i, head, t);
          }
        }
      }
    }
  return { out, dq, dk, dv, dbias };
}

describe('attentionCore (wasm)', () => {
  it('output and the gradients of q, k, v and the bias equal float64 loops', async () => {
    const rng = new Rng(11);
    const draw = (n: number) => Array.from({ length: n }, () => rng.normal());
    const [q, k, v, r] = [draw(Bw * N * C), draw(Bw * N * C), draw(Bw * N * C), draw(Bw * N * C)];
    const bias = draw(h * N * N);
    const mask = Array.from({ length: nW * N * N }, (_, i) => (i % 7 === 3 ? -100 : 0));
    const want = reference(q, k, v, bias, mask, r);
    const t3 = (x: number[], s: [number, number, number]) => tf.tensor3d(x, s);
    const [qt, kt, vt, rt] = [q, k, v, r].map((x) => t3(x, [Bw, N, C]));
    const [bt, mt] = [t3(bias, [h, N, N]), t3(mask, [nW, N, N])];
    const before = tf.memory().numTensors;
    const prof = await tf.profile(() => {
      const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, e: tf.Tensor) =>
        tf.sum(
          tf.mul(
            attentionCore(
              a as tf.Tensor3D,
              b as tf.Tensor3D,
              c as tf.Tensor3D,
              h,
              e as tf.Tensor3D,
              mt,
            ),
            rt,
          ),
        );
      const g = tf.grads(f)([qt, kt, vt, bt]);
      return [attentionCore(qt, kt, vt, h, bt, mt), ...g];
    });
    const [out, gq, gk, gv, gb] = prof.result as tf.Tensor[];
    const worst = (got: tf.Tensor, exp: number[]) => {
      const g = got.dataSync();
      return Math.max(...exp.map((e, i) => Math.abs(g[i] - e)));
    };
    expect(worst(out, want.out)).toBeLessThan(1e-5);
    expect(worst(gq, want.dq)).toBeLessThan(1e-5);
    expect(worst(gk, want.dk)).toBeLessThan(1e-5);
    expect(worst(gv, want.dv)).toBeLessThan(1e-5);
    expect(worst(gb, want.dbias)).toBeLessThan(1e-5);
    tf.dispose(prof.result as tf.Tensor[]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([qt, kt, vt, rt, bt, mt]);
  });

  it('moves each operand once: at most 17 operand-sized transposes for forward and backward', async () => {
    const x = tf.randomNormal([Bw, N, C]) as tf.Tensor3D;
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
    // the bias's and the mask's own small transposes aside
    const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
    const moved = prof.kernels.filter(
      (k) => k.name === 'Transpose' && size(k.inputShapes[0]!) > Math.max(h, nW) * N * N,
    );
    expect(moved.length).toBeLessThanOrEqual(17);
    // [Bw, N, h, d] → [N, d, Bw, h] in one rank-4 transpose moves d, the innermost axis,
    // element by element on wasm (~2 ns an element, ~3× the swap of the tokens followed by
    // a batched 2D transpose): the products' inputs are made the second way
    const inOneGo = moved.filter(
      (k) =>
        k.inputShapes[0]!.join() === `${Bw},${N},${h},${d}` &&
        k.outputShapes[0]!.join() === `${N},${d},${Bw},${h}`,
    );
    expect(inOneGo.length).toBe(0);
  });
});
