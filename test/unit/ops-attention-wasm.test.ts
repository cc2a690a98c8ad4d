/**
 * Window attention on wasm, the path training takes (attention-core.ts, the
 * bias's custom gradient, the product gradient training installs), against
 * the float64 reference: a MAM SW-MSA unit (shift, mask, bias table, memory
 * in) at window 7 — its output and q̂ ≤ 1e-5 and the gradients of x, the
 * memory and every weight ≤ 1e-4, relative to max|ref| — freeing what it made.
 */
import * as tf from '#tfjs';
import { describe, expect, it } from 'vitest';
import { windowAttention } from '../../src/ops/index.ts';
import { refAttentionBackward, refAttentionForward, windowPlan } from '../reference/attention.ts';
import { blockFromList, randomBlock, tensor, values } from '../reference/harness.ts';
import { relErr, Rng } from '../reference/math.ts';
import { onWasmAsTraining } from '../reference/wasm.ts';

onWasmAsTraining();

const [B, C, heads, grid, window, shift] = [2, 12, 3, [14, 14] as [number, number], 7, 3];
const L = grid[0] * grid[1];

describe('window attention on wasm', () => {
  it('MAM SW-MSA: output, q̂ and all gradients equal the float64 reference', () => {
    const rng = new Rng(41);
    const plan = windowPlan(grid[0], grid[1], window, shift);
    const p = randomBlock(rng, C, heads, plan.w);
    const x = rng.array(B * L * C);
    const m = rng.array(B * L * C, 0.5);
    const gy = rng.array(B * L * C);
    const gm = rng.array(B * L * C);
    const ref = refAttentionForward(x, B, p.ref.attn, plan, m, 'window');
    const refG = refAttentionBackward(p.ref.attn, plan, ref.cache, gy, gm);

    const [xt, mt, gyT, gmT] = [x, m, gy, gm].map((a) => tensor(a, [B, L, C]));
    const weights = p.list.slice(2, 7); // qkv W, b, proj W, b, table
    const opts = { heads, window, shift, grid };
    const unit = (ts: tf.Tensor[]) =>
      windowAttention(
        ts[0] as tf.Tensor3D,
        blockFromList([p.list[0], p.list[1], ...ts.slice(2), ...p.list.slice(7)], true).attn,
        opts,
        { in: ts[1] as tf.Tensor3D, layout: 'window' },
      );
    const out = unit([xt, mt, ...weights]);
    expect(relErr(values(out.y), ref.y)).toBeLessThan(1e-5);
    expect(relErr(values(out.memOut!), ref.memOut)).toBeLessThan(1e-5);
    tf.dispose([out.y, out.memOut!]);

    const before = tf.memory().numTensors;
    const grads = tf.grads((...ts: tf.Tensor[]) => {
      const o = unit(ts);
      return tf.add(tf.sum(tf.mul(o.y, gyT)), tf.sum(tf.mul(o.memOut!, gmT)));
    })([xt, mt, ...weights]);
    const expected = [
      refG.du,
      refG.dmIn,
      refG.qkvW,
      refG.qkvB,
      refG.projW,
      refG.projB,
      refG.table!,
    ];
    grads.forEach((g, i) =>
      expect(relErr(values(g), expected[i]), `input ${i}`).toBeLessThan(1e-4),
    );
    tf.dispose(grads);
    expect(tf.memory().numTensors).toBe(before);

    tf.dispose([xt, mt, gyT, gmT, ...p.list]);
  });
});
