/**
 * TransUNet's ViT block (DA-TRANSUNET-MAM-SPEC.md §c.5): pre-LN (eps 1e-6)
 * global attention with separate query/key/value/out Linears, memory (MAM)
 * added to the full-width query before the head split, and an MLP with
 * exact GELU and dropout (training only). The attention itself is the ViT
 * global attention of attention.ts, so SAM/MAM semantics are shared with it.
 */
import * as tf from '#tfjs';
import { globalAttention, type AttentionResult, type MemoryPort } from './attention.ts';
import { gelu, layerNorm, linear, type LinearWeights, type NormWeights } from './layers.ts';

export const TRANSUNET_LN_EPS = 1e-6;

export interface TransUnetBlockWeights {
  attentionNorm: NormWeights;
  query: LinearWeights;
  key: LinearWeights;
  value: LinearWeights;
  out: LinearWeights;
  ffnNorm: NormWeights;
  fc1: LinearWeights;
  fc2: LinearWeights;
}

export interface TransUnetBlockOptions {
  heads: number;
  /** MLP dropout; applied only when `training` and a seed is given. */
  dropout?: { rate: number; training: boolean; seed: number };
}

/**
 * Inverted dropout: each entry of a `noiseShape` mask (broadcast over `x`;
 * `[B, 1, 1, C]` is Dropout2d) kept with probability 1 − rate, scaled by 1/(1 − rate).
 */
export function dropout<T extends tf.Tensor>(
  x: T,
  rate: number,
  seed: number,
  noiseShape: number[] = x.shape,
): T {
  return tf.tidy(() => {
    const keep = 1 - rate;
    const mask = tf.floor(tf.add(tf.randomUniform(noiseShape, 0, 1, 'float32', seed), keep));
    return tf.mul(x, tf.div(mask, keep)) as T;
  });
}

const concatBias = (ws: LinearWeights[]) =>
  ws.every((w) => w.bias) ? tf.concat(ws.map((w) => w.bias!)) : undefined;

export function transUnetBlock(
  x: tf.Tensor3D,
  w: TransUnetBlockWeights,
  opts: TransUnetBlockOptions,
  mem?: MemoryPort,
): AttentionResult {
  const out = tf.tidy(() => {
    const qkvBias = concatBias([w.query, w.key, w.value]);
    const qkv = {
      weight: tf.concat([w.query.weight, w.key.weight, w.value.weight], 1),
      ...(qkvBias ? { bias: qkvBias } : {}),
    };
    const a = globalAttention(
      layerNorm(x, w.attentionNorm, TRANSUNET_LN_EPS),
      { qkv, proj: w.out },
      { heads: opts.heads },
      mem,
    );
    const x1 = tf.add(x, a.y) as tf.Tensor3D;
    const d = opts.dropout;
    const drop = (t: tf.Tensor3D, k: number) =>
      d && d.training && d.rate > 0 ? dropout(t, d.rate, d.seed + k) : t;
    const h = drop(gelu(linear(layerNorm(x1, w.ffnNorm, TRANSUNET_LN_EPS), w.fc1)), 0);
    const y = tf.add(x1, drop(linear(h, w.fc2), 1)) as tf.Tensor3D;
    return a.memOut ? [y, a.memOut] : [y];
  });
  return { y: out[0], memOut: out[1] ?? null };
}
