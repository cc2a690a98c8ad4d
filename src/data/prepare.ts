/**
 * A case → training / evaluation slices: window the intensities, cut slices along an
 * axis, resize each to the network's input like scipy.ndimage.zoom (image cubic, label
 * nearest) and lay channels out as (H, W, C). Predictions go back with `labelsToVolume`.
 */
import {
  type Slice,
  type SliceAxis,
  sliceVolume,
  windowIntensity,
  windowPercentile,
} from './slices.ts';
import type { Case } from './types.ts';
import { resizeLabels, zoomArray } from './zoom.ts';

export type IntensityWindow =
  | { kind: 'range'; lo: number; hi: number }
  | { kind: 'percentile'; lo?: number; hi?: number }
  | { kind: 'none' };

export interface PrepareOptions {
  axis?: SliceAxis;
  /** Output height and width (default: the slice's own size). */
  size?: [number, number];
  /** Per channel (applied to the whole volume, so slices share one scale). Default none. */
  window?: IntensityWindow;
  /** Repeat a 1-channel image to this many channels (e.g. 3); default keeps the channel count. */
  repeatTo?: number;
}

export interface PreparedSlice {
  caseId: string;
  index: number;
  /** (H, W, C) interleaved. */
  image: Float32Array;
  /** (H, W), or null for unlabeled cases. */
  label: Uint8Array | null;
  height: number;
  width: number;
  channels: number;
}

function applyWindow(data: ArrayLike<number>, w: IntensityWindow | undefined): ArrayLike<number> {
  if (!w || w.kind === 'none') return data;
  if (w.kind === 'range') return windowIntensity(data, w.lo, w.hi);
  return windowPercentile(data, w.lo ?? 0.5, w.hi ?? 99.5);
}

export function prepareSlices(c: Case, opts: PrepareOptions = {}): PreparedSlice[] {
  const axis = opts.axis ?? 2;
  const vols = c.channels.map((ch) => ({
    data: Float32Array.from(applyWindow(ch.data, opts.window)),
    dims: ch.dims,
  }));
  const dims = c.channels[0].dims;
  const count = axis === 0 ? dims[0] : axis === 1 ? (dims[1] ?? 1) : (dims[2] ?? 1);
  const baseC = vols.length;
  const outC = opts.repeatTo && baseC === 1 ? opts.repeatTo : baseC;
  const out: PreparedSlice[] = [];
  for (let k = 0; k < count; k++) {
    const chans: Slice[] = vols.map((v) => sliceVolume(v, axis, k));
    const [h, w] = opts.size ?? [chans[0].height, chans[0].width];
    const resized = chans.map((s) =>
      s.height === h && s.width === w ? s.data : zoomArray(s.data, [s.height, s.width], [h, w], 3),
    );
    const image = new Float32Array(h * w * outC);
    for (let i = 0; i < h * w; i++) {
      for (let ch = 0; ch < outC; ch++) image[i * outC + ch] = resized[baseC === 1 ? 0 : ch][i];
    }
    let label: Uint8Array | null = null;
    if (c.label) {
      const ls = sliceVolume(c.label, axis, k);
      label = ls.height === h && ls.width === w ? ls.data : resizeLabels(ls, h, w).data;
    }
    out.push({ caseId: c.id, index: k, image, label, height: h, width: w, channels: outC });
  }
  return out;
}

/**
 * Stack predicted label slices (each outH × outW) back into a volume of `dims` along
 * `axis`, resizing each with nearest (order 0) to the slice's own size.
 */
export function labelsToVolume(
  slices: { data: Uint8Array; height: number; width: number }[],
  dims: number[],
  axis: SliceAxis = 2,
): Uint8Array {
  const [X, Y, Z] = [dims[0], dims[1] ?? 1, dims[2] ?? 1];
  const out = new Uint8Array(X * Y * Z);
  const [h, w] = axis === 2 ? [Y, X] : axis === 1 ? [Z, X] : [Z, Y];
  slices.forEach((s, k) => {
    const r = s.height === h && s.width === w ? s.data : resizeLabels(s, h, w).data;
    for (let a = 0; a < h; a++) {
      for (let b = 0; b < w; b++) {
        const v = r[a * w + b];
        if (axis === 2) out[b + X * (a + Y * k)] = v;
        else if (axis === 1) out[b + X * (k + Y * a)] = v;
        else out[k + X * (b + Y * a)] = v;
      }
    }
  });
  return out;
}

/**
 * How a slice of another size reaches the network's input: 'stretch' zooms it
 * to the input size (the reference's rule; the aspect ratio changes when the
 * shapes differ), 'pad' zooms it by one factor so it fits inside the input,
 * keeping the aspect, and pads the rest with zeros (background for labels)
 * around it, centred.
 */
export type ResizeRule = 'stretch' | 'pad';

export interface ResizePlan {
  rule: ResizeRule;
  /** [height, width] of the slice. */
  from: [number, number];
  /** [height, width] of the network's input. */
  to: [number, number];
  /** The size the slice is zoomed to (the input size when stretching). */
  scaled: [number, number];
  /** Top and left padding of the scaled slice inside the input. */
  offset: [number, number];
}

export function resizePlan(
  from: [number, number],
  to: [number, number],
  rule: ResizeRule,
): ResizePlan {
  if (rule === 'stretch') return { rule, from, to, scaled: to, offset: [0, 0] };
  const f = Math.min(to[0] / from[0], to[1] / from[1]);
  const scaled: [number, number] = [
    Math.min(to[0], Math.max(1, Math.round(from[0] * f))),
    Math.min(to[1], Math.max(1, Math.round(from[1] * f))),
  ];
  return {
    rule,
    from,
    to,
    scaled,
    offset: [Math.floor((to[0] - scaled[0]) / 2), Math.floor((to[1] - scaled[1]) / 2)],
  };
}

const zoomTo = (
  data: ArrayLike<number>,
  from: [number, number],
  to: [number, number],
  order: 0 | 3,
): ArrayLike<number> =>
  from[0] === to[0] && from[1] === to[1] ? data : zoomArray(data, from, to, order);

/** One (from) plane → the input plane (to), by the plan; `order` 3 for images, 0 for labels. */
export function fitPlane(data: ArrayLike<number>, p: ResizePlan, order: 0 | 3): Float32Array {
  const z = zoomTo(data, p.from, p.scaled, order);
  if (p.rule === 'stretch') return Float32Array.from(z);
  const [H, W] = p.to;
  const [sh, sw] = p.scaled;
  const [top, left] = p.offset;
  const out = new Float32Array(H * W);
  for (let r = 0; r < sh; r++)
    for (let c = 0; c < sw; c++) out[(top + r) * W + left + c] = z[r * sw + c];
  return out;
}

/** An (H, W, C) interleaved image fitted to the input by the plan, channel by channel (order 3). */
export function fitImage(image: ArrayLike<number>, channels: number, p: ResizePlan): Float32Array {
  const [h, w] = p.from;
  const [H, W] = p.to;
  const out = new Float32Array(H * W * channels);
  const plane = new Float32Array(h * w);
  for (let k = 0; k < channels; k++) {
    for (let i = 0; i < h * w; i++) plane[i] = image[i * channels + k];
    const z = fitPlane(plane, p, 3);
    for (let i = 0; i < H * W; i++) out[i * channels + k] = z[i];
  }
  return out;
}

/** An input-sized plane (e.g. predicted labels) back onto the slice's own grid: the inverse of fitPlane. */
export function unfitPlane(data: ArrayLike<number>, p: ResizePlan, order: 0 | 3): Float32Array {
  const [, W] = p.to;
  const [sh, sw] = p.scaled;
  const [top, left] = p.offset;
  const inner = new Float32Array(sh * sw);
  for (let r = 0; r < sh; r++)
    for (let c = 0; c < sw; c++) inner[r * sw + c] = data[(top + r) * W + left + c];
  return Float32Array.from(zoomTo(inner, p.scaled, p.from, order));
}

/** What was resized and how, in words and as a record for run.json. */
export interface ResizeRecord {
  from: [number, number];
  to: [number, number];
  rule: ResizeRule;
  scaled: [number, number];
  slices: number;
}

/** Slice sizes that differ from the input (`count` slices each, default 1), grouped, with the rule that resizes them. */
export function resizeRecords(
  slices: Iterable<{ height: number; width: number; count?: number }>,
  to: [number, number],
  rule: ResizeRule,
): ResizeRecord[] {
  const bySize = new Map<string, ResizeRecord>();
  for (const s of slices) {
    if (s.height === to[0] && s.width === to[1]) continue;
    const key = `${s.height}x${s.width}`;
    const n = s.count ?? 1;
    const r = bySize.get(key);
    if (r) r.slices += n;
    else {
      const from: [number, number] = [s.height, s.width];
      bySize.set(key, { from, to, rule, scaled: resizePlan(from, to, rule).scaled, slices: n });
    }
  }
  return [...bySize.values()];
}

export function describeResize(r: ResizeRecord): string {
  const n = `${r.slices} slice${r.slices === 1 ? '' : 's'} of ${r.from.join('×')}`;
  if (r.rule === 'stretch')
    return `${n} stretched to ${r.to.join('×')} (aspect ${(r.from[1] / r.from[0]).toFixed(2)} → ${(r.to[1] / r.to[0]).toFixed(2)}; --resize pad keeps it)`;
  return `${n} scaled to ${r.scaled.join('×')} keeping the aspect and padded with zeros to ${r.to.join('×')}`;
}
