/**
 * What a training step keeps, in bytes of tensor buffers (src/backend/meter.ts),
 * against bounds worked out by hand from the shapes (4 bytes a float32):
 * a 224² DA-TransUNet-MAM step ran out of wasm's 4 GiB heap because every
 * kept tensor was copied, every convolution kept its k² taps and its patch
 * matrix, normalisations kept their intermediates, tfjs held custom
 * gradients' temporaries to the end of the backward pass, and every CNN
 * node's activations stayed alive for it. And what inference holds: a 96³
 * forward's 3³ conv3d held all its depth taps' planes at once.
 */
import * as tf from '#tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { meterBuffers, type BufferMeter } from '../../src/backend/meter.ts';
import { runRecomputed } from '../../src/compile/recompute.ts';
import type { ForwardContext } from '../../src/compile/kernels/types.ts';
import { conv2d, groupNorm, linear } from '../../src/ops/index.ts';
import { conv3d, type Vol, windowPartition3d } from '../../src/ops/vol3d.ts';

const F32 = 4;
const bytes = (shape: number[]) => shape.reduce((a, b) => a * b, 1) * F32;

let meter: BufferMeter | undefined;
beforeAll(async () => {
  await initBackend('wasm');
});
afterAll(() => meter?.stop());

/** Buffers made by `fwd` that are still alive when it returns, inside a gradient (the tape's share). */
function keptByForward(fwd: () => tf.Tensor, inputs: tf.Tensor[]): number {
  let kept = 0;
  const grads = tf.grads(() => {
    meter = meterBuffers();
    const y = fwd();
    kept = meter.live - y.size * F32;
    meter.stop();
    return tf.sum(y);
  })(inputs);
  tf.dispose(grads);
  return kept;
}

describe('tensors a gradient keeps (wasm)', () => {
  it('a kept tensor shares its buffer: tf.clone allocates nothing', () => {
    const x = tf.ones([256, 256]);
    const m = meterBuffers();
    const y = tf.clone(x);
    m.stop();
    expect(m.peak).toBe(0);
    tf.dispose([x, y]);
  });

  it('conv 3×3 keeps x and the weight only, not its 9 taps and patch matrix (2·9·|x|)', () => {
    const x = tf.randomNormal([1, 64, 64, 16]) as tf.Tensor4D;
    const w = tf.randomNormal([9 * 16, 16]) as tf.Tensor2D;
    // x and w exist before; the output is excluded: nothing else may stay.
    const kept = keptByForward(() => conv2d(x, { weight: w }, { kernel: 3, padding: 1 }), [x, w]);
    expect(kept).toBe(0);
    tf.dispose([x, w]);
  });

  it('GroupNorm keeps x̂ and 1/σ only: |x| + B·G floats', () => {
    const [B, H, W, C, G] = [2, 32, 32, 64, 32];
    const x = tf.randomNormal([B, H, W, C]) as tf.Tensor4D;
    const n = { weight: tf.ones([C]) as tf.Tensor1D, bias: tf.zeros([C]) as tf.Tensor1D };
    const kept = keptByForward(() => groupNorm(x, n, G, 1e-6), [x, n.weight, n.bias]);
    // x̂ `[B, HW, G, C/G]` and 1/σ `[B, 1, G, 1]` (+ γ reshaped to [G, C/G], a view).
    expect(kept).toBeLessThanOrEqual(bytes([B, H, W, C]) + bytes([B, G]));
    tf.dispose([x, n.weight, n.bias]);
  });

  it("a custom gradient's temporaries die with it: two Linears' backward holds one transposed weight at a time", () => {
    const n = 512;
    const x = tf.randomNormal([4, n]);
    const w1 = {
      weight: tf.randomNormal([n, n]) as tf.Tensor2D,
      bias: tf.zeros([n]) as tf.Tensor1D,
    };
    const w2 = {
      weight: tf.randomNormal([n, n]) as tf.Tensor2D,
      bias: tf.zeros([n]) as tf.Tensor1D,
    };
    const ws = [w1.weight, w1.bias, w2.weight, w2.bias];
    const m = meterBuffers();
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) =>
      tf.sum(
        linear(linear(x, { weight: a as tf.Tensor2D, bias: b as tf.Tensor1D }), {
          weight: c as tf.Tensor2D,
          bias: d as tf.Tensor1D,
        }),
      ),
    )(ws);
    m.stop();
    // Two weight gradients (n² each) and at most one Wᵀ (n²) at once, plus rows of 4·n.
    const rows = 16 * bytes([4, n]);
    expect(m.peak).toBeLessThanOrEqual(3 * bytes([n, n]) + rows);
    tf.dispose([x, ...ws, ...g]);
  });

  it('a recomputed node keeps its inputs only, and its gradients are the plain ones', () => {
    const x = tf.randomNormal([1, 48, 48, 8]) as tf.Tensor4D;
    const trained: [string, tf.Tensor][] = [
      ['a', tf.randomNormal([9 * 8, 8], 0, 0.2)],
      ['b', tf.randomNormal([9 * 8, 8], 0, 0.2)],
    ];
    const kernel = (ctx: ForwardContext) => {
      const h = tf.relu(
        conv2d(
          ctx.inputs.in as tf.Tensor4D,
          { weight: ctx.weight('a') as tf.Tensor2D },
          { kernel: 3, padding: 1 },
        ),
      );
      return {
        out: tf.tanh(
          conv2d(h, { weight: ctx.weight('b') as tf.Tensor2D }, { kernel: 3, padding: 1 }),
        ),
      };
    };
    const ctx = (ins: tf.Tensor[]): ForwardContext => ({
      params: {},
      inputs: { in: ins[0] },
      inShapes: {},
      outShapes: {},
      weight: (name) => (name === 'a' ? ins[1] : ins[2]),
      training: true,
      seed: 0,
    });
    const all = [x, trained[0][1], trained[1][1]];
    const kept = keptByForward(() => runRecomputed(kernel, ctx(all), trained).out, [x]);
    // Without recomputation: h before and after ReLU, the tanh output (3·|x|).
    expect(kept).toBe(0);
    const plain = tf.grads((...ins: tf.Tensor[]) => tf.sum(tf.mul(kernel(ctx(ins)).out, 1.5)))(all);
    const recomputed = tf.grads((...ins: tf.Tensor[]) =>
      tf.sum(
        tf.mul(
          runRecomputed(kernel, ctx(ins), [
            ['a', ins[1]],
            ['b', ins[2]],
          ]).out,
          1.5,
        ),
      ),
    )(all);
    for (let i = 0; i < all.length; i++) {
      const d = tf.max(tf.abs(tf.sub(plain[i], recomputed[i]))).dataSync()[0];
      expect(d, `input ${i}`).toBeLessThanOrEqual(1e-5 * tf.max(tf.abs(plain[i])).dataSync()[0]);
    }
    tf.dispose([...all, ...plain, ...recomputed]);
  });
});

describe('what inference holds (wasm, no tape)', () => {
  it("a 3³ conv3d holds one depth tap's planes and partial sums at a time, not all kD", () => {
    const [D, H, W, C, k] = [8, 16, 16, 8, 3];
    const x = tf.randomNormal([1, D, H, W, C]) as Vol;
    const w = tf.randomNormal([k, k, k, C, C]) as tf.Tensor5D;
    const od = D - k + 1;
    const [oh, ow] = [H - k + 1, W - k + 1];
    const planes = bytes([od, H, W, C]); // one tap's depth planes
    const out = bytes([od, oh, ow, C]); // one tap's conv2d, a partial sum, the output
    const tap = bytes([k, k, C, C]); // one tap's filter
    meter = meterBuffers();
    const y = conv3d(x, w);
    const peak = meter.peak;
    meter.stop();
    // one tap's planes, its conv2d, the sum so far and the new sum, the filter taps
    expect(peak).toBeLessThanOrEqual(planes + 3 * out + k * tap);
    // it held k planes, k conv2d results and k − 1 sums
    expect(k * planes + (2 * k - 1) * out).toBeGreaterThan(planes + 3 * out + k * tap);
    // the same values as the 27 taps summed in float64
    const [xs, ws, ys] = [x.dataSync(), w.dataSync(), y.dataSync()];
    let worst = 0;
    for (let z = 0; z < od; z++)
      for (let r = 0; r < oh; r++)
        for (let c = 0; c < ow; c++)
          for (let o = 0; o < C; o++) {
            let s = 0;
            for (let a = 0; a < k; a++)
              for (let b = 0; b < k; b++)
                for (let e = 0; e < k; e++)
                  for (let i = 0; i < C; i++)
                    s +=
                      xs[(((z + a) * H + r + b) * W + c + e) * C + i] *
                      ws[(((a * k + b) * k + e) * C + i) * C + o];
            worst = Math.max(worst, Math.abs(s - ys[((z * oh + r) * ow + c) * C + o]));
          }
    expect(worst).toBeLessThanOrEqual(1e-4);
    tf.dispose([x, w, y]);
  });
});

describe('window partition of one voxel a window (wasm)', () => {
  it('is the volume in its own order, without a copy (a 1³ conv3d copied it twice)', () => {
    const x = tf.randomNormal([2, 3, 4, 5, 6]) as Vol;
    meter = meterBuffers();
    const w = windowPartition3d(x, [1, 1, 1]);
    const peak = meter.peak;
    meter.stop();
    expect(peak).toBe(0);
    expect(w.shape).toEqual([2 * 3 * 4 * 5, 1, 6]);
    expect(Array.from(w.dataSync())).toEqual(Array.from(x.dataSync()));
    tf.dispose([x, w]);
  });
});
