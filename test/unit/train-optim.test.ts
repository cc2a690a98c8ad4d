/** SGD and AdamW updates against hand-computed numbers; the schedule; state round trips. */
import * as tf from '#tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ADAMW_DEFAULTS,
  Optimizer,
  SGD_DEFAULTS,
  decodeOptimizerState,
  encodeOptimizerState,
  polyLr,
  scaleLrForBatch,
} from '../../src/train/optim.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const close = (got: ArrayLike<number>, want: number[], tol = 1e-6) =>
  want.forEach((w, i) => expect(Math.abs(got[i] - w)).toBeLessThan(tol));

describe('SGD (PyTorch semantics)', () => {
  it('momentum 0.9, weight decay 1e-4: two steps by hand', () => {
    const p = tf.variable(tf.tensor1d([1, -2]));
    const opt = new Optimizer(SGD_DEFAULTS, new Map([['w', p]]));
    // step 1: d = g + 1e-4·p = [0.5 + 1e-4, -1 - 2e-4]; buf = d; p -= 0.1·buf
    opt.apply({ w: tf.tensor1d([0.5, -1]) }, 0.1);
    const d1 = [0.5 + 1e-4, -1 - 2e-4];
    const p1 = [1 - 0.1 * d1[0], -2 - 0.1 * d1[1]];
    close(p.dataSync(), p1);
    // step 2: g = [0.2, 0.3]; d = g + 1e-4·p1; buf = 0.9·d1 + d; p -= 0.05·buf
    opt.apply({ w: tf.tensor1d([0.2, 0.3]) }, 0.05);
    const d2 = [0.2 + 1e-4 * p1[0], 0.3 + 1e-4 * p1[1]];
    const b2 = [0.9 * d1[0] + d2[0], 0.9 * d1[1] + d2[1]];
    close(p.dataSync(), [p1[0] - 0.05 * b2[0], p1[1] - 0.05 * b2[1]]);
    opt.dispose();
    p.dispose();
  });
});

describe('AdamW (PyTorch semantics)', () => {
  it('two steps by hand', () => {
    const p = tf.variable(tf.tensor1d([0.5]));
    const s = { ...ADAMW_DEFAULTS, weightDecay: 0.1 };
    const opt = new Optimizer(s, new Map([['w', p]]));
    let x = 0.5;
    let m = 0;
    let v = 0;
    for (const [t, g, lr] of [
      [1, 0.3, 0.01],
      [2, -0.2, 0.005],
    ]) {
      opt.apply({ w: tf.tensor1d([g]) }, lr);
      x *= 1 - lr * 0.1;
      m = 0.9 * m + 0.1 * g;
      v = 0.999 * v + 0.001 * g * g;
      const mh = m / (1 - 0.9 ** t);
      const denom = Math.sqrt(v) / Math.sqrt(1 - 0.999 ** t) + 1e-8;
      x -= lr * (mh / denom);
      close(p.dataSync(), [x]);
    }
    // the first AdamW step moves by ≈ lr (sign of g): 0.5·(1 − 0.001) − 0.01
    opt.dispose();
    p.dispose();
  });
});

describe('schedule and state', () => {
  it('poly: lr·(1 − t/T)^0.9; batch rule lr·bs/24', () => {
    expect(polyLr(0.05, 0, 100)).toBe(0.05);
    expect(polyLr(0.05, 50, 100)).toBeCloseTo(0.05 * 0.5 ** 0.9, 12);
    expect(polyLr(0.05, 100, 100)).toBe(0);
    expect(scaleLrForBatch(0.05, 8)).toBeCloseTo(0.05 / 3, 12);
  });

  it('snapshot → bytes → restore continues identically', async () => {
    const mk = () => tf.variable(tf.tensor2d([1, 2, 3, 4], [2, 2]));
    const a = mk();
    const optA = new Optimizer(ADAMW_DEFAULTS, new Map([['w', a]]));
    optA.apply({ w: tf.ones([2, 2]) }, 0.01);
    const bytes = encodeOptimizerState(await optA.snapshot());
    const b = tf.variable(a.clone());
    const optB = new Optimizer(ADAMW_DEFAULTS, new Map([['w', b]]));
    optB.restore(decodeOptimizerState(bytes));
    expect(optB.step).toBe(1);
    const g = tf.tensor2d([0.1, -0.2, 0.3, -0.4], [2, 2]);
    optA.apply({ w: g }, 0.01);
    optB.apply({ w: g }, 0.01);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(() =>
      new Optimizer(SGD_DEFAULTS, new Map([['w', b]])).restore(decodeOptimizerState(bytes)),
    ).toThrow(/adamw/);
    tf.dispose([a, b, g]);
    optA.dispose();
    optB.dispose();
  });
});
