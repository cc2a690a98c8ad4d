/**
 * Weight layouts: PyTorch's state-dict shapes (what WeightSpec declares, what
 * files hold) versus the ops layout the forward pass uses.
 *
 * - Linear `[out, in]` → `[in, out]` (transpose).
 * - Conv `[out, in, k1, k2(, k3)]` → Linear `[(k1·k2(·k3))·in, out]` with
 *   `W_lin[(i·k + j)·in + c, o] = W[o, c, i, j]` (patchify order).
 * - `pos_embed` / `position_embeddings` `[1, L, C]` → `[L, C]`.
 * - LayerNorm, biases and bias tables: unchanged.
 */
import * as tf from '#tfjs';
import type { WeightSpec } from '../graph/node-kind.ts';

export type TorchLayout = 'linear' | 'conv' | 'squeeze0' | 'plain';

export function torchLayout(spec: Pick<WeightSpec, 'name' | 'shape'>): TorchLayout {
  if (spec.name.endsWith('relative_position_bias_table')) return 'plain';
  if (spec.name === 'pos_embed' || spec.name === 'position_embeddings') return 'squeeze0';
  if (spec.shape.length === 2) return 'linear';
  if (spec.shape.length >= 3) return 'conv';
  return 'plain';
}

export function opsShape(spec: Pick<WeightSpec, 'name' | 'shape'>): number[] {
  const s = spec.shape;
  switch (torchLayout(spec)) {
    case 'linear':
      return [s[1], s[0]];
    case 'conv':
      return [s.slice(1).reduce((a, b) => a * b, 1), s[0]];
    case 'squeeze0':
      return s.slice(1);
    case 'plain':
      return [...s];
  }
}

/** PyTorch layout → ops layout. */
export function fromTorch(spec: Pick<WeightSpec, 'name' | 'shape'>, t: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    switch (torchLayout(spec)) {
      case 'linear':
        return tf.transpose(t, [1, 0]);
      case 'conv': {
        const r = t.rank;
        const perm = [...Array.from({ length: r - 2 }, (_, i) => i + 2), 1, 0];
        return tf.reshape(tf.transpose(t, perm), opsShape(spec));
      }
      case 'squeeze0':
        return tf.reshape(t, opsShape(spec));
      case 'plain':
        return tf.clone(t);
    }
  });
}

/** Ops layout → PyTorch layout. */
export function toTorch(spec: Pick<WeightSpec, 'name' | 'shape'>, t: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    switch (torchLayout(spec)) {
      case 'linear':
        return tf.transpose(t, [1, 0]);
      case 'conv': {
        const s = spec.shape;
        const k = s.slice(2);
        const r = s.length;
        // [k..., in, out] → [out, in, k...]
        const perm = [r - 1, r - 2, ...Array.from({ length: r - 2 }, (_, i) => i)];
        return tf.transpose(tf.reshape(t, [...k, s[1], s[0]]), perm);
      }
      case 'squeeze0':
      case 'plain':
        return tf.reshape(t, spec.shape);
    }
  });
}
