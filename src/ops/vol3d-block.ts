/**
 * The 3D Swin block with optional memory (3D-MAM-SPEC.md §c.5–c.7):
 * x ← x + AttnPart(LN(x; norm1)), AttnPart = pad → roll → partition →
 * window attention (bias, mask, q̂ = q + m; in chunks of windows without a
 * tape, src/ops/vol3d-attention.ts) → reverse → un-roll → crop;
 * x ← x + MLP(LN(x; norm2)). Memory stays in window layout and crosses the
 * shift unaligned, as the reference does.
 */
import * as tf from '#tfjs';
import { type LinearIndex3d, shiftRegions3d, type Windows3d } from '../graph/geometry3d.ts';
import {
  dropBranch,
  gelu,
  layerNorm,
  linear,
  type DropPathOptions,
  type LinearWeights,
  type NormWeights,
} from './layers.ts';
import { sliceFlat } from './flat-slice.ts';
import { windowAttention3d } from './vol3d-attention.ts';
import {
  padEnd3d,
  relativeBias3d,
  roll3d,
  shiftMaskSlice3d,
  type Vol,
  windowPartition3d,
  windowRegions3d,
  windowReverse3d,
} from './vol3d.ts';

export interface Block3dWeights {
  norm1: NormWeights;
  qkv: LinearWeights;
  proj: LinearWeights;
  /** `[rows, heads]` */
  table: tf.Tensor2D;
  norm2: NormWeights;
  fc1: LinearWeights;
  fc2: LinearWeights;
}

export interface Block3dOptions {
  heads: number;
  windows: Windows3d;
  /** The table's index rule; the bias is its top-left N×N block (SwinUNETR's rule on clamped windows). */
  index: LinearIndex3d;
  /** Memory in window layout `[B·nW, heads, N, hd]`, added to the query. */
  memory?: tf.Tensor4D;
  /** Return q̂ (before scaling) as the memory for the next block. */
  withMemoryOut?: boolean;
  /** Per-sample drop-path of both residual branches (attention: seed, MLP: seed + 1). */
  dropPath?: DropPathOptions;
  /** Logit bytes an inference chunk of windows may take (vol3d-attention.ts); its default unless given. */
  chunkBytes?: number;
}

/** `[B, D, H, W, C]` → `{ out, memory? }`. */
export function swin3dBlock(
  x: Vol,
  w: Block3dWeights,
  o: Block3dOptions,
): { out: Vol; memory?: tf.Tensor4D } {
  // memory leaves through tidy's result (a tf.keep inside would outlive every enclosing tidy)
  return tf.tidy(() => {
    const [B, D, H, W, C] = x.shape;
    const { window, shift, padded, tokens: N, count: nW } = o.windows;
    const hd = C / o.heads;
    const shifted = shift.some((s) => s > 0);
    let u = padEnd3d(layerNorm(x, w.norm1), padded);
    if (shifted) u = roll3d(u, shift, -1);
    const win = windowPartition3d(u, window); // [B·nW, N, C]
    const qkv = linear(win, w.qkv);
    // [B·nW, N, 3C] → three [B·nW, heads, N, hd]
    const part = (i: number) =>
      tf.transpose(
        tf.reshape(tf.slice(qkv, [0, 0, i * C], [B * nW, N, C]), [B * nW, N, o.heads, hd]),
        [0, 2, 1, 3],
      ) as tf.Tensor4D;
    let q = part(0);
    if (o.memory) q = tf.add(q, o.memory);
    const memory = o.withMemoryOut ? q : undefined;
    const k = part(1);
    const v = part(2);
    const full = relativeBias3d(w.table, o.index);
    const bias = full.shape[1] === N ? full : tf.slice(full, [0, 0, 0], [o.heads, N, N]);
    const regions = shifted
      ? windowRegions3d(shiftRegions3d(padded, window, shift), padded, window)
      : undefined;
    const att = windowAttention3d(q, k, v, {
      bias,
      batch: B,
      ...(regions ? { mask: (first, count) => shiftMaskSlice3d(regions, N, first, count) } : {}),
      ...(o.chunkBytes !== undefined ? { chunkBytes: o.chunkBytes } : {}),
    }); // [B·nW, h, N, hd]
    const merged = tf.reshape(tf.transpose(att, [0, 2, 1, 3]), [B * nW, N, C]);
    let y = windowReverse3d(linear(merged, w.proj), window, padded, B);
    if (shifted) y = roll3d(y, shift, 1);
    if (padded[0] !== D || padded[1] !== H || padded[2] !== W)
      y = sliceFlat(y, [0, 0, 0, 0, 0], [B, D, H, W, C]);
    const x1 = tf.add(x, dropBranch(y, o.dropPath, 0));
    const mlpOut = linear(gelu(linear(layerNorm(x1, w.norm2), w.fc1)), w.fc2);
    const out = tf.add(x1, dropBranch(mlpOut, o.dropPath, 1)) as Vol;
    return memory ? { out, memory } : { out };
  });
}
