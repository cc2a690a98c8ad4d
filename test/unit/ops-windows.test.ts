import * as tf from '#tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fitWindow,
  relativePositionBias,
  relativePositionIndex,
  roll,
  shiftMaskData,
  tokensToWindows,
  windowPartition,
  windowReverse,
  windowsToTokens,
} from '../../src/ops/index.ts';
import { Rng } from '../reference/math.ts';
import { refRoll, refShiftMask, refWindowPartition } from '../reference/ops.ts';
import { windowPlan } from '../reference/attention.ts';
import { printMeasured, record, tensor, values } from '../reference/harness.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => printMeasured('ops-windows'));

describe('windows', () => {
  const rng = new Rng(1);

  it('effective window and shift', () => {
    expect(fitWindow([56, 56], 7, 3)).toEqual({ window: 7, shift: 3 });
    expect(fitWindow([7, 7], 7, 3)).toEqual({ window: 7, shift: 0 });
    expect(fitWindow([4, 4], 7, 3)).toEqual({ window: 4, shift: 0 });
    expect(fitWindow([8, 8], 4, 2)).toEqual({ window: 4, shift: 2 });
    expect(() => fitWindow([6, 8], 4, 2)).toThrow(/divisible/);
  });

  it('roll matches torch.roll semantics (reference loops)', () => {
    const [B, H, W, C] = [2, 6, 8, 3];
    const x = rng.array(B * H * W * C);
    for (const [sh, sw] of [
      [-2, -2],
      [3, 1],
      [0, -5],
      [7, 9],
    ]) {
      const y = roll(tensor(x, [B, H, W, C]), [sh, sw], [1, 2]);
      expect(
        record(
          'roll',
          Math.max(...values(y).map((v, i) => Math.abs(v - refRoll(x, B, H, W, C, sh, sw)[i]))),
        ),
      ).toBe(0);
      y.dispose();
    }
  });

  it("roll's gradient is the roll back (reference loops), with no pads of slice gradients", async () => {
    const [B, H, W, C] = [2, 6, 8, 3];
    const x = tensor(rng.array(B * H * W * C), [B, H, W, C]);
    const wData = rng.array(B * H * W * C);
    const w = tensor(wData, [B, H, W, C]);
    for (const [sh, sw] of [
      [-2, -2],
      [3, 1],
      [0, -5],
    ]) {
      // d/dx Σ roll(x)·w = roll(w, −shift)
      const prof = await tf.profile(() =>
        tf.grad((t: tf.Tensor) => tf.sum(tf.mul(roll(t, [sh, sw], [1, 2]), w)))(x),
      );
      const g = prof.result as tf.Tensor;
      expect(Array.from(values(g))).toEqual(Array.from(refRoll(wData, B, H, W, C, -sh, -sw)));
      expect(prof.kernels.map((k) => k.name)).not.toContain('PadV2');
      g.dispose();
    }
    tf.dispose([x, w]);
  });

  it('partition matches reference, reverse round-trips exactly', () => {
    const [B, H, W, C, w] = [2, 8, 8, 3, 4];
    const x = rng.array(B * H * W * C);
    const xt = tensor(x, [B, H, W, C]);
    const p = windowPartition(xt, w);
    expect(p.shape).toEqual([B * 4, 16, C]);
    expect(Array.from(values(p))).toEqual(Array.from(refWindowPartition(x, B, H, W, C, w)));
    const r = windowReverse(p, w, [H, W]);
    expect(Array.from(values(r))).toEqual(Array.from(values(xt)));
    // with a shift, through tokens
    const tok = tensor(x, [B, H * W, C]) as tf.Tensor3D;
    const back = windowsToTokens(tokensToWindows(tok, [H, W], w, 2), [H, W], w, 2);
    expect(Array.from(values(back))).toEqual(Array.from(values(tok)));
    // non-square grid
    const x2 = rng.array(1 * 4 * 8 * 2);
    const p2 = windowPartition(tensor(x2, [1, 4, 8, 2]), 4);
    expect(Array.from(values(p2))).toEqual(Array.from(refWindowPartition(x2, 1, 4, 8, 2, 4)));
    tf.dispose([xt, p, r, tok, back, p2]);
  });

  it('3D helpers round-trip (grid-rank generic)', () => {
    const x = tensor(rng.array(1 * 4 * 4 * 4 * 2), [1, 4, 4, 4, 2]);
    const p = windowPartition(x, 2);
    expect(p.shape).toEqual([8, 8, 2]);
    const r = windowReverse(p, 2, [4, 4, 4]);
    expect(Array.from(values(r))).toEqual(Array.from(values(x)));
    const idx = relativePositionIndex(2, 3);
    expect(Math.max(...idx)).toBe(26);
    expect(idx[0]).toBe(13); // zero offset is the centre of the 3×3×3 table
    tf.dispose([x, p, r]);
  });

  it('shift mask values: -100 across regions, as MAM-SPEC says', () => {
    const m = shiftMaskData([8, 8], 4, 2)!;
    expect(Array.from(m)).toEqual(Array.from(refShiftMask(8, 8, 4, 2)));
    const N = 16;
    // window 0 lies in one region: no masking
    expect(m.slice(0, N * N).every((v) => v === 0)).toBe(true);
    // window 1 (top right): columns 4,5 (region 1) vs 6,7 (region 2)
    const w1 = m.slice(N * N, 2 * N * N);
    expect(w1[0 * N + 1]).toBe(0); // (0,4) vs (0,5)
    expect(w1[0 * N + 2]).toBe(-100); // (0,4) vs (0,6)
    // window 3 (bottom right): four regions of 4 tokens → 16·12 masked pairs
    const w3 = m.slice(3 * N * N, 4 * N * N);
    expect(w3.filter((v) => v === -100).length).toBe(16 * 12);
    expect(new Set(m)).toEqual(new Set([0, -100]));
    expect(shiftMaskData([8, 8], 4, 0)).toBeNull();
    // non-square grid
    expect(Array.from(shiftMaskData([4, 8], 2, 1)!)).toEqual(Array.from(refShiftMask(4, 8, 2, 1)));
  });

  it('bias index formula (r_i − r_j + w − 1)(2w − 1) + (c_i − c_j + w − 1)', () => {
    const w = 4;
    const idx = relativePositionIndex(w);
    const N = w * w;
    for (let i = 0; i < N; i++)
      for (let j = 0; j < N; j++) {
        const f =
          (Math.floor(i / w) - Math.floor(j / w) + w - 1) * (2 * w - 1) +
          ((i % w) - (j % w) + w - 1);
        expect(idx[i * N + j]).toBe(f);
      }
    expect(idx[0]).toBe(24); // same token: centre of the 7×7 table
    expect(idx[0 * N + (N - 1)]).toBe(0); // (0,0) vs (3,3)
    expect(idx[(N - 1) * N + 0]).toBe(48);
    expect(Array.from(idx)).toEqual(Array.from(windowPlan(8, 8, 4, 0).biasIndex!));
  });

  it('relative-position bias (one-hot · table) equals the table lookup, with gradient', () => {
    const w = 4;
    const h = 2;
    const T = 49;
    const table = rng.array(T * h);
    const tt = tensor(table, [T, h]) as tf.Tensor2D;
    const bias = values(relativePositionBias(tt, w));
    const idx = relativePositionIndex(w);
    const N = 16;
    let err = 0;
    for (let k = 0; k < h; k++)
      for (let p = 0; p < N * N; p++)
        err = Math.max(err, Math.abs(bias[k * N * N + p] - table[idx[p] * h + k]));
    expect(record('relative bias lookup', err)).toBe(0);
    // gradient of Σ bias = number of uses of each table row
    const g = values(
      tf.grad((t: tf.Tensor) => tf.sum(relativePositionBias(t as tf.Tensor2D, w)))(tt),
    );
    const uses = new Float64Array(T);
    idx.forEach((i) => uses[i]++);
    for (let r = 0; r < T; r++) for (let k = 0; k < h; k++) expect(g[r * h + k]).toBe(uses[r]);
    tt.dispose();
  });
});
