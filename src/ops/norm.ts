/**
 * Normalisations of feature maps NHWC `[B, H, W, C]` (DA-TRANSUNET-MAM-SPEC.md
 * §c.2): GroupNorm (per sample and group over (C/G, H, W), biased variance)
 * and BatchNorm2d (training: batch statistics and a running-statistic update
 * in PyTorch's momentum convention; evaluation: the running statistics).
 */
import * as tf from '#tfjs';
import { sumRows, type NormWeights } from './layers.ts';

/** The statistics a normalisation's forward pass used, each `[A, 1, G, Cg]`. */
interface Moments {
  mean: tf.Tensor4D;
  variance: tf.Tensor4D;
}

/**
 * `x [A, R, G, Cg]` normalised over axes 1 and 3 (biased variance), then
 * `x̂·γ + β` with γ, β `[G·Cg]`: GroupNorm is `[B, H·W, groups, C/groups]`,
 * BatchNorm `[1, B·H·W, C, 1]`. Its gradient keeps only x̂ and 1/σ (autodiff
 * kept three full-size tensors): with g = dy·γ, dx = (g − mean(g) −
 * x̂·mean(g·x̂))/σ, dγ = Σ dy·x̂, dβ = Σ dy. `onMoments` receives the statistics.
 */
function normalizeAffine(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
  onMoments?: (m: Moments) => void,
): tf.Tensor4D {
  const [A, R, G, Cg] = x.shape;
  const norm = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xx, ga, be, save] = args as [tf.Tensor4D, tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    const mean = tf.mean(xx, [1, 3], true) as tf.Tensor4D;
    const xc = tf.sub(xx, mean);
    const variance = tf.mean(tf.square(xc), [1, 3], true) as tf.Tensor4D;
    const rstd = tf.rsqrt(tf.add(variance, eps));
    const xhat = tf.mul(xc, rstd) as tf.Tensor4D;
    onMoments?.({ mean, variance });
    save([xhat, rstd, ga]);
    return {
      value: tf.add(tf.mul(xhat, ga), be),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [xh, rs, gs] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor2D];
          const g = tf.mul(dy, gs);
          const gx = tf.mean(tf.mul(g, xh), [1, 3], true);
          const dx = tf.mul(tf.sub(tf.sub(g, tf.mean(g, [1, 3], true)), tf.mul(xh, gx)), rs);
          const rows = (t: tf.Tensor) => tf.reshape(t, [A * R, G * Cg]) as tf.Tensor2D;
          return [
            dx,
            tf.reshape(sumRows(rows(tf.mul(dy, xh))), [G, Cg]),
            tf.reshape(sumRows(rows(dy)), [G, Cg]),
          ];
        }),
    };
  });
  return norm(x, tf.reshape(gamma, [G, Cg]), tf.reshape(beta, [G, Cg])) as tf.Tensor4D;
}

export function groupNorm(
  x: tf.Tensor4D,
  w: NormWeights,
  groups: number,
  eps: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [B, H, W, C] = x.shape;
    if (C % groups)
      throw new Error(`GroupNorm: ${C} channels are not divisible by ${groups} groups`);
    const g = tf.reshape(x, [B, H * W, groups, C / groups]) as tf.Tensor4D;
    return tf.reshape(normalizeAffine(g, w.weight, w.bias, eps), x.shape);
  });
}

/** BatchNorm's affine parameters and running statistics, each `[C]`. */
export interface BatchNormWeights extends NormWeights {
  runningMean: tf.Tensor1D;
  runningVar: tf.Tensor1D;
}

export interface BatchNormOptions {
  eps: number;
  /** PyTorch's convention: running ← (1 − momentum)·running + momentum·batch. */
  momentum: number;
  training: boolean;
}

export interface BatchNormResult {
  y: tf.Tensor4D;
  /** Training only: the updated running mean and (unbiased) variance. */
  running?: { mean: tf.Tensor1D; variance: tf.Tensor1D };
}

/**
 * BatchNorm2d. Training normalises by the batch mean and biased variance
 * over (B, H, W) and returns the running statistics updated with the
 * unbiased variance (n/(n−1)), as PyTorch does; evaluation uses the running ones.
 */
export function batchNorm(
  x: tf.Tensor4D,
  w: BatchNormWeights,
  o: BatchNormOptions,
): BatchNormResult {
  const out = tf.tidy(() => {
    if (!o.training) {
      const xhat = tf.mul(tf.sub(x, w.runningMean), tf.rsqrt(tf.add(w.runningVar, o.eps)));
      return [tf.add(tf.mul(xhat, w.weight), w.bias)];
    }
    const [B, H, W, C] = x.shape;
    const n = B * H * W;
    const m = o.momentum;
    // Made inside the normalisation's own scope, so kept there and cloned out here.
    let kept: tf.Tensor[] = [];
    const rows = tf.reshape(x, [1, n, C, 1]) as tf.Tensor4D;
    const yRows = normalizeAffine(rows, w.weight, w.bias, o.eps, (s) => {
      const unbiased = tf.mul(tf.reshape(s.variance, [C]), n / Math.max(n - 1, 1));
      kept = [
        tf.keep(tf.add(tf.mul(w.runningMean, 1 - m), tf.mul(tf.reshape(s.mean, [C]), m))),
        tf.keep(tf.add(tf.mul(w.runningVar, 1 - m), tf.mul(unbiased, m))),
      ];
    });
    const [rMean, rVar] = kept.map((t) => tf.clone(t));
    tf.dispose(kept);
    const y = tf.reshape(yRows, x.shape);
    return [y, rMean, rVar];
  });
  return {
    y: out[0] as tf.Tensor4D,
    ...(out[1]
      ? { running: { mean: out[1] as tf.Tensor1D, variance: out[2] as tf.Tensor1D } }
      : {}),
  };
}
