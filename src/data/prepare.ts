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
