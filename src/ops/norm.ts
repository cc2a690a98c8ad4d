/**
 * Normalisations of feature maps NHWC `[B, H, W, C]` (DA-TRANSUNET-MAM-SPEC.md
 * §c.2): GroupNorm (per sample and group over (C/G, H, W), biased variance)
 * and BatchNorm2d (training: batch statistics and a running-statistic update
 * in PyTorch's momentum convention; evaluation: the running statistics).
 */
import * as tf from '#tfjs';
import type { NormWeights } from './layers.ts';

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
    const g = tf.reshape(x, [B, H * W, groups, C / groups]);
    const { mean, variance } = tf.moments(g, [1, 3], true);
    const xhat = tf.mul(tf.sub(g, mean), tf.rsqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(tf.reshape(xhat, [B, H, W, C]), w.weight), w.bias) as tf.Tensor4D;
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
    const [B, H, W] = x.shape;
    const n = B * H * W;
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    const xhat = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, o.eps)));
    const y = tf.add(tf.mul(xhat, w.weight), w.bias);
    const m = o.momentum;
    const unbiased = tf.mul(variance, n / Math.max(n - 1, 1));
    const rMean = tf.add(tf.mul(w.runningMean, 1 - m), tf.mul(mean, m));
    const rVar = tf.add(tf.mul(w.runningVar, 1 - m), tf.mul(unbiased, m));
    return [y, rMean, rVar];
  });
  return {
    y: out[0] as tf.Tensor4D,
    ...(out[1]
      ? { running: { mean: out[1] as tf.Tensor1D, variance: out[2] as tf.Tensor1D } }
      : {}),
  };
}
