/**
 * Sliding-window inference over a whole volume, as MONAI's
 * `sliding_window_inference` (3D-MAM-SPEC.md §f): a side below the roi is
 * padded with zeros (the smaller half before), windows start at multiples
 * of ⌊roi·(1 − overlap)⌋ (the roi itself where the side equals it), the last
 * one moved back to end at the edge; window logits are blended with a
 * constant or a Gaussian importance map (σ = sigma_scale · roi per axis,
 * the map clamped below at max(its minimum, 1e-3)), divided by the summed
 * weights, and the padding cropped off.
 *
 * Pure: the network is a callback taking `[n, d, h, w, C]` patches to
 * `[n, d, h, w, K]` logits; the blend is kept in float64 on the CPU side,
 * so the only tensors are the callback's, each batch disposed at once.
 */
import * as tf from '#tfjs';
import type { Shape3 } from '../data/volume-crops.ts';

export type BlendMode = 'constant' | 'gaussian';

export interface SlidingWindowOptions {
  roi: Shape3;
  /** Fraction of the roi two neighbouring windows share (0 ≤ overlap < 1); MONAI's default at test time, 0.5. */
  overlap?: number;
  mode?: BlendMode;
  /** Gaussian σ as a fraction of the roi (MONAI's 0.125). */
  sigmaScale?: number;
  /** Windows per call of `predict` (MONAI's sw_batch_size). */
  batchSize?: number;
  signal?: AbortSignal;
}

export type PatchPredictor = (patches: tf.Tensor5D) => tf.Tensor5D;

/** Window starts along one axis of (padded) size n. */
export function windowStarts(n: number, roi: number, overlap: number): number[] {
  const interval = roi === n ? roi : Math.max(1, Math.floor(roi * (1 - overlap)));
  const starts: number[] = [];
  for (let i = 0; ; i++) {
    const s = i * interval;
    starts.push(Math.min(s, n - roi));
    if (s + roi >= n) break;
  }
  return starts;
}

/** The windows over a volume of `shape` (padded up to the roi where smaller): their starts per axis and count. */
export function windowGrid(
  shape: Shape3,
  roi: Shape3,
  overlap: number,
): { padded: Shape3; starts: [number[], number[], number[]]; count: number } {
  const padded = shape.map((n, a) => Math.max(n, roi[a])) as Shape3;
  const starts = padded.map((n, a) => windowStarts(n, roi[a], overlap)) as [
    number[],
    number[],
    number[],
  ];
  return { padded, starts, count: starts[0].length * starts[1].length * starts[2].length };
}

/** The importance map of a roi, `[d, h, w]` flat (C order). */
export function importanceMap(roi: Shape3, mode: BlendMode, sigmaScale = 0.125): Float64Array {
  const n = roi[0] * roi[1] * roi[2];
  const map = new Float64Array(n).fill(1);
  if (mode === 'constant') return map;
  const axes = roi.map((r) => {
    const sigma = r * sigmaScale;
    return Float64Array.from({ length: r }, (_, i) => {
      const x = i - (r - 1) / 2;
      return Math.exp((x * x) / (-2 * sigma * sigma));
    });
  });
  let min = Infinity;
  for (let z = 0, i = 0; z < roi[0]; z++)
    for (let y = 0; y < roi[1]; y++)
      for (let x = 0; x < roi[2]; x++, i++) {
        map[i] = axes[0][z] * axes[1][y] * axes[2][x];
        if (map[i] < min) min = map[i];
      }
  const floor = Math.max(min, 1e-3);
  for (let i = 0; i < n; i++) if (map[i] < floor) map[i] = floor;
  return map;
}

/**
 * Logits `[D, H, W, K]` of a volume `[D, H, W, C]` (flat, C order), predicted
 * window by window and blended. Throws an AbortError when `signal` fires
 * between batches.
 */
export async function slidingWindowInference(
  volume: Float32Array,
  shape: Shape3,
  channels: number,
  predict: PatchPredictor,
  o: SlidingWindowOptions,
): Promise<{ logits: Float32Array; classes: number }> {
  const { roi, overlap = 0.5, mode = 'constant', sigmaScale = 0.125, batchSize = 1 } = o;
  if (!(overlap >= 0 && overlap < 1)) throw new Error(`overlap must be in [0, 1), got ${overlap}`);
  const { padded, starts } = windowGrid(shape, roi, overlap);
  const before = shape.map((n, a) => Math.floor((padded[a] - n) / 2)) as Shape3;
  const windows: Shape3[] = [];
  for (const z of starts[0])
    for (const y of starts[1]) for (const x of starts[2]) windows.push([z, y, x]);
  const weight = importanceMap(roi, mode, sigmaScale);
  const [d, h, w] = roi;
  const [D, H, W] = shape;
  const patchSize = d * h * w * channels;
  let sum: Float64Array | undefined;
  let classes = 0;
  const count = new Float64Array(D * H * W);

  for (let b0 = 0; b0 < windows.length; b0 += batchSize) {
    if (o.signal?.aborted) throw new DOMException('inference stopped', 'AbortError');
    const batch = windows.slice(b0, b0 + batchSize);
    const x = new Float32Array(batch.length * patchSize);
    batch.forEach((s, n) => copyWindow(volume, shape, channels, before, s, roi, x, n * patchSize));
    const y = tf.tidy(() => predict(tf.tensor5d(x, [batch.length, d, h, w, channels])));
    const out = (await y.data()) as Float32Array;
    const K = y.shape[4];
    y.dispose();
    if (y.shape[1] !== d || y.shape[2] !== h || y.shape[3] !== w)
      throw new Error(
        `the network gives ${y.shape.slice(1, 4).join('×')} logits for a ${roi.join('×')} window`,
      );
    if (!sum) {
      classes = K;
      sum = new Float64Array(D * H * W * K);
    }
    batch.forEach((s, n) =>
      addWindow(out, n * d * h * w * K, K, weight, s, roi, shape, before, sum!, count),
    );
  }
  const logits = new Float32Array(sum!.length);
  for (let i = 0; i < count.length; i++)
    for (let k = 0; k < classes; k++) logits[i * classes + k] = sum![i * classes + k] / count[i];
  return { logits, classes };
}

/** The window at padded position `s` (zeros where it covers padding) into `dst` at `offset`. */
function copyWindow(
  src: Float32Array,
  shape: Shape3,
  C: number,
  before: Shape3,
  s: Shape3,
  roi: Shape3,
  dst: Float32Array,
  offset: number,
) {
  const [D, H, W] = shape;
  for (let z = 0; z < roi[0]; z++) {
    const zz = s[0] + z - before[0];
    if (zz < 0 || zz >= D) continue;
    for (let y = 0; y < roi[1]; y++) {
      const yy = s[1] + y - before[1];
      if (yy < 0 || yy >= H) continue;
      const x0 = Math.max(0, before[2] - s[2]);
      const x1 = Math.min(roi[2], W + before[2] - s[2]);
      if (x1 <= x0) continue;
      const from = ((zz * H + yy) * W + s[2] + x0 - before[2]) * C;
      dst.set(
        src.subarray(from, from + (x1 - x0) * C),
        offset + ((z * roi[1] + y) * roi[2] + x0) * C,
      );
    }
  }
}

/** Adds one window's weighted logits (and weights) onto the volume's own voxels; padding is skipped. */
function addWindow(
  out: Float32Array,
  offset: number,
  K: number,
  weight: Float64Array,
  s: Shape3,
  roi: Shape3,
  shape: Shape3,
  before: Shape3,
  sum: Float64Array,
  count: Float64Array,
) {
  const [D, H, W] = shape;
  for (let z = 0, i = 0; z < roi[0]; z++) {
    const zz = s[0] + z - before[0];
    for (let y = 0; y < roi[1]; y++) {
      const yy = s[1] + y - before[1];
      for (let x = 0; x < roi[2]; x++, i++) {
        const xx = s[2] + x - before[2];
        if (zz < 0 || zz >= D || yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
        const v = (zz * H + yy) * W + xx;
        const wt = weight[i];
        count[v] += wt;
        for (let k = 0; k < K; k++) sum[v * K + k] += wt * out[offset + i * K + k];
      }
    }
  }
}
