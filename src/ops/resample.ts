/**
 * Nodes that change the token grid or feed/leave the network (MAM-SPEC.md
 * §3–4): patch embedding, patch merging/expanding, final ×4 expanding,
 * memory merging/expanding, the linear skip and the segmentation head.
 * Convolutions are reshapes + matMul (no conv kernels): conv weights are
 * passed as Linear weights, see `convWeightToLinear` in layers.ts.
 *
 * Images are NHWC `[B, H, W, C]`; tokens are `[B, L, C]` row-major on `grid`.
 */
import * as tf from '#tfjs';
import { layerNorm, linear, type LinearWeights, type NormWeights } from './layers.ts';
import type { MemoryLayout } from './attention.ts';
import { fitWindow, windowPartition, windowReverse, type Grid } from './windows.ts';

function gridOf(x: tf.Tensor3D, grid: Grid): [number, number] {
  if (grid.length !== 2) throw new Error(`only 2D grids are supported here, got ${grid.join('×')}`);
  const [H, W] = grid;
  if (x.shape[1] !== H * W) throw new Error(`${x.shape[1]} tokens do not fill grid ${H}×${W}`);
  return [H, W];
}

/**
 * `[B, H, W, C]` → `[B, (H/p)·(W/p), p·p·C]`, each patch flattened in
 * (row, col, channel) order: feature `(i·p + j)·C + c`.
 */
export function patchify(img: tf.Tensor4D, p: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [B, H, W, C] = img.shape;
    if (H % p || W % p) throw new Error(`image ${H}×${W} is not divisible by patch ${p}`);
    const t = tf.transpose(tf.reshape(img, [B, H / p, p, W / p, p, C]), [0, 1, 3, 2, 4, 5]);
    return tf.reshape(t, [B, (H / p) * (W / p), p * p * C]) as tf.Tensor3D;
  });
}

/** Patch Embed: conv p×p stride p as patchify + Linear `[p·p·Cin, C]` (+bias), then LN(C) if given. */
export function patchEmbed(
  img: tf.Tensor4D,
  weights: { proj: LinearWeights; norm?: NormWeights },
  p: number,
): tf.Tensor3D {
  return tf.tidy(() => {
    const t = linear(patchify(img, p), weights.proj);
    return weights.norm ? layerNorm(t, weights.norm) : t;
  });
}

/**
 * Pixel shuffle r×r on tokens `[B, H·W, r·r·C']` → `[B, rH·rW, C']`:
 * `out[r·h + p1, r·w + p2, c] = in[h, w, (p1·r + p2)·C' + c]`.
 */
export function pixelShuffle(x: tf.Tensor3D, grid: Grid, r: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [H, W] = gridOf(x, grid);
    const [B, , C] = x.shape;
    if (C % (r * r))
      throw new Error(`pixel shuffle ${r}×${r}: ${C} channels not divisible by ${r * r}`);
    const c = C / (r * r);
    const t = tf.transpose(tf.reshape(x, [B, H, W, r, r, c]), [0, 1, 3, 2, 4, 5]);
    return tf.reshape(t, [B, r * H * r * W, c]) as tf.Tensor3D;
  });
}

/**
 * Patch Merging `[B, H·W, C]` → `[B, H·W/4, 2C]`: concat the 2×2 neighbours
 * in (row, col) order (0,0), (1,0), (0,1), (1,1) → 4C, LN(4C), Linear(4C, 2C)
 * (`reduction`, no bias).
 */
export function patchMerging(
  x: tf.Tensor3D,
  weights: { norm: NormWeights; reduction: LinearWeights },
  grid: Grid,
): tf.Tensor3D {
  return tf.tidy(() => {
    const [H, W] = gridOf(x, grid);
    const [B, , C] = x.shape;
    if (H % 2 || W % 2) throw new Error(`patch merging needs an even grid, got ${H}×${W}`);
    // axes: B, h, row offset p1, w, col offset p2, C → neighbour index p2·2 + p1
    const t = tf.transpose(tf.reshape(x, [B, H / 2, 2, W / 2, 2, C]), [0, 1, 3, 4, 2, 5]);
    const cat = tf.reshape(t, [B, (H / 2) * (W / 2), 4 * C]) as tf.Tensor3D;
    return linear(layerNorm(cat, weights.norm), weights.reduction);
  });
}

/** Patch Expanding `[B, H·W, C]` → `[B, 4·H·W, C/2]`: Linear(C, 2C), pixel shuffle 2×2, LN(C/2). */
export function patchExpanding(
  x: tf.Tensor3D,
  weights: { expand: LinearWeights; norm: NormWeights },
  grid: Grid,
): tf.Tensor3D {
  return tf.tidy(() => layerNorm(pixelShuffle(linear(x, weights.expand), grid, 2), weights.norm));
}

/** Final Expanding ×4 `[B, H·W, C]` → `[B, 16·H·W, C]`: Linear(C, 16C), pixel shuffle 4×4, LN(C). */
export function finalExpanding(
  x: tf.Tensor3D,
  weights: { expand: LinearWeights; norm: NormWeights },
  grid: Grid,
): tf.Tensor3D {
  return tf.tidy(() => layerNorm(pixelShuffle(linear(x, weights.expand), grid, 4), weights.norm));
}

/** Skip: concat(decoder, encoder) on channels (decoder first), then Linear(2C, C) with bias. */
export function linearSkip(
  decoder: tf.Tensor3D,
  encoder: tf.Tensor3D,
  weights: LinearWeights,
): tf.Tensor3D {
  return tf.tidy(() => linear(tf.concat([decoder, encoder], 2), weights));
}

/** Segmentation head: 1×1 conv C → classes, no bias, as a Linear `[C, classes]` on the last axis. */
export function segmentationHead<T extends tf.Tensor>(x: T, weights: LinearWeights): T {
  return linear(x, weights);
}

/** How a memory resampling node sees its memory (MAM-SPEC.md §3). */
export interface MemoryResampleOptions {
  /** grid of the incoming memory */
  grid: Grid;
  layout: MemoryLayout;
  /** nominal window of the blocks that wrote the memory (window layout) */
  window: number;
  /** nominal window of the blocks that read it (default: `window`) */
  windowOut?: number;
}

/**
 * Memory in its layout → grid order `[B, H, W, C]`. In window layout this
 * reverses the window partition of the writing block's effective window but
 * does not undo its shift (as the public MemoryMerging does).
 */
function memoryToGrid(m: tf.Tensor3D, o: MemoryResampleOptions): tf.Tensor4D {
  const [H, W] = gridOf(m, o.grid);
  const [B, , C] = m.shape;
  if (o.layout === 'spatial') return tf.reshape(m, [B, H, W, C]);
  const w = fitWindow(o.grid, o.window, 0).window;
  return windowReverse(tf.reshape(m, [-1, w * w, C]), w, o.grid) as tf.Tensor4D;
}

/** Grid order `[B, H, W, C]` → memory in the chain's layout (window: partitioned, no shift). */
function gridToMemory(g: tf.Tensor4D, o: MemoryResampleOptions): tf.Tensor3D {
  const [B, H, W, C] = g.shape;
  if (o.layout === 'spatial') return tf.reshape(g, [B, H * W, C]);
  const w = fitWindow([H, W], o.windowOut ?? o.window, 0).window;
  return tf.reshape(windowPartition(g, w), [B, H * W, C]);
}

/**
 * Memory Merging `[B, H·W, C]` → `[B, H·W/4, 2C]`: LN(C), then
 * `conv`: Conv 2×2 stride 2 (space-to-depth in (row, col, channel) order +
 * Linear `[4C, 2C]`, no bias; `W_lin[(i·2 + j)·C + c, o] = W[o, c, i, j]`), or
 * `avg` / `max`: 2×2 pooling stride 2, then 1×1 conv as Linear `[C, 2C]`, no bias.
 * Input and output are in `opts.layout` (see {@link MemoryResampleOptions}).
 */
export function memoryMerging(
  m: tf.Tensor3D,
  weights: { norm: NormWeights; reduction: LinearWeights },
  opts: MemoryResampleOptions & { mode: 'conv' | 'avg' | 'max' },
): tf.Tensor3D {
  return tf.tidy(() => {
    const g = layerNorm(memoryToGrid(m, opts), weights.norm);
    const [B, H, W, C] = g.shape;
    if (H % 2 || W % 2) throw new Error(`memory merging needs an even grid, got ${H}×${W}`);
    let pooled: tf.Tensor3D;
    if (opts.mode === 'conv') {
      pooled = patchify(g, 2);
    } else {
      const blocks = tf.reshape(g, [B, H / 2, 2, W / 2, 2, C]);
      const p = opts.mode === 'avg' ? tf.mean(blocks, [2, 4]) : tf.max(blocks, [2, 4]);
      pooled = tf.reshape(p, [B, (H / 2) * (W / 2), C]);
    }
    const out = linear(pooled, weights.reduction);
    return gridToMemory(tf.reshape(out, [B, H / 2, W / 2, out.shape[2]]), {
      ...opts,
      grid: [H / 2, W / 2],
    });
  });
}

/**
 * Memory Expanding `[B, H·W, C]` → `[B, 4·H·W, C/2]`: Linear(C, 2C, no bias),
 * pixel shuffle 2×2 (as Patch Expanding), LN(C/2). Layouts as memoryMerging.
 */
export function memoryExpanding(
  m: tf.Tensor3D,
  weights: { expand: LinearWeights; norm: NormWeights },
  opts: MemoryResampleOptions,
): tf.Tensor3D {
  return tf.tidy(() => {
    const g = memoryToGrid(m, opts);
    const [B, H, W, C] = g.shape;
    const tokens = tf.reshape(g, [B, H * W, C]) as tf.Tensor3D;
    const up = layerNorm(pixelShuffle(linear(tokens, weights.expand), [H, W], 2), weights.norm);
    return gridToMemory(tf.reshape(up, [B, 2 * H, 2 * W, up.shape[2]]), {
      ...opts,
      grid: [2 * H, 2 * W],
    });
  });
}
