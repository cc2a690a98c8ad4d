/**
 * DANet's dual attention as DA-TransUNet uses it (DA-TRANSUNET-MAM-SPEC.md
 * §c.3–c.4): position attention (PAM), channel attention (CAM) and the DA
 * head around them. Feature maps are NHWC `[B, H, W, C]`; positions are
 * row-major, so a map reshaped to `[B, N, C]` is the spec's F transposed.
 */
import * as tf from '#tfjs';
import { conv2d, type ConvWeights } from './conv.ts';
import { linear, type LinearWeights } from './layers.ts';
import { batchNorm, type BatchNormWeights } from './norm.ts';
import { dropout as dropoutOp } from './transunet.ts';

export interface PamWeights {
  query: LinearWeights;
  key: LinearWeights;
  value: LinearWeights;
  /** `[1]` */
  gamma: tf.Tensor;
}

const tokensOf = (x: tf.Tensor4D) =>
  tf.reshape(x, [x.shape[0], x.shape[1] * x.shape[2], x.shape[3]]) as tf.Tensor3D;

/** PAM: softmax_j(Σ_k Q[k,i]K[k,j]) (no 1/√d), O = V·Aᵀ, out = γ·O + F. */
export function positionAttention(x: tf.Tensor4D, w: PamWeights): tf.Tensor4D {
  return tf.tidy(() => {
    const f = tokensOf(x);
    const e = tf.matMul(linear(f, w.query), linear(f, w.key), false, true); // [B, N, N]
    const o = tf.matMul(tf.softmax(e), linear(f, w.value)); // [B, N, C]
    return tf.reshape(tf.add(tf.mul(o, w.gamma), f), x.shape) as tf.Tensor4D;
  });
}

/** CAM: E = X·Xᵀ over positions, A = softmax(max_b E − E), out = γ·(A·X) + F. */
export function channelAttention(x: tf.Tensor4D, gamma: tf.Tensor): tf.Tensor4D {
  return tf.tidy(() => {
    const f = tokensOf(x); // [B, N, C] = Xᵀ
    const e = tf.matMul(f, f, true, false); // [B, C, C]
    const a = tf.softmax(tf.sub(tf.max(e, -1, true), e));
    const o = tf.matMul(f, a, false, true); // (A·X)ᵀ = Xᵀ·Aᵀ, [B, N, C]
    return tf.reshape(tf.add(tf.mul(o, gamma), f), x.shape) as tf.Tensor4D;
  });
}

/** Conv (no bias) → BatchNorm → ReLU, the DA head's and the CUP decoder's unit. */
export interface ConvBnWeights {
  conv: ConvWeights;
  bn: BatchNormWeights;
}

export interface BnMode {
  eps: number;
  momentum: number;
  training: boolean;
}

/** Running statistics a training forward pass produced, by BatchNorm name (`conv5a.1`). */
export type RunningUpdates = Record<string, { mean: tf.Tensor1D; variance: tf.Tensor1D }>;

export interface StatefulResult {
  y: tf.Tensor4D;
  /** Training only: each BatchNorm's updated running statistics. */
  running: RunningUpdates;
}

/** Conv k×k (pad ⌊k/2⌋, no bias) → BN → ReLU. */
export function convBnRelu(
  x: tf.Tensor4D,
  w: ConvBnWeights,
  kernel: number,
  bn: BnMode,
): { y: tf.Tensor4D; running?: { mean: tf.Tensor1D; variance: tf.Tensor1D } } {
  return tf.tidy(() => {
    const r = batchNorm(conv2d(x, w.conv, { kernel, padding: Math.floor(kernel / 2) }), w.bn, bn);
    return { y: tf.relu(r.y), ...(r.running ? { running: r.running } : {}) };
  });
}

export interface DaHeadWeights {
  conv5a: ConvBnWeights;
  conv5c: ConvBnWeights;
  sa: PamWeights;
  scGamma: tf.Tensor;
  conv51: ConvBnWeights;
  conv52: ConvBnWeights;
  conv8: ConvWeights;
}

/**
 * The DA head (spec §c.4): ReLU(Conv1×1(P + Q)) with P = CBR(PAM(CBR(x))) and
 * Q = CBR(CAM(CBR(x))). The reference's side branches conv6/conv7 are computed
 * and discarded there; they change nothing downstream, so they are left out
 * here (spec §k). Dropout2d before conv8 applies in training when `dropout`
 * is given.
 */
export function daHead(
  x: tf.Tensor4D,
  w: DaHeadWeights,
  bn: BnMode,
  dropout?: { rate: number; seed: number },
): StatefulResult {
  return tf.tidy(() => {
    const running: RunningUpdates = {};
    const cbr = (t: tf.Tensor4D, cw: ConvBnWeights, name: string) => {
      const r = convBnRelu(t, cw, 3, bn);
      if (r.running) running[name] = r.running;
      return r.y;
    };
    const p = cbr(positionAttention(cbr(x, w.conv5a, 'conv5a.1'), w.sa), w.conv51, 'conv51.1');
    const q = cbr(channelAttention(cbr(x, w.conv5c, 'conv5c.1'), w.scGamma), w.conv52, 'conv52.1');
    let s: tf.Tensor4D = tf.add(p, q);
    if (bn.training && dropout && dropout.rate > 0) {
      s = dropoutOp(s, dropout.rate, dropout.seed, [s.shape[0], 1, 1, s.shape[3]]);
    }
    return { y: tf.relu(conv2d(s, w.conv8, { kernel: 1 })), running };
  });
}
