/**
 * Volumes as the 3D networks take them (3D-MAM-SPEC.md §f): whole volumes
 * (no slicing), intensity range scaling as MONAI's ScaleIntensityRanged, and
 * training crops of the graph's input size centred on a foreground or a
 * background voxel as MONAI's RandCropByPosNegLabeld (pos 1, neg 1,
 * image_threshold 0), from our seeded generator.
 *
 * Array order: a volume of NIfTI dims [W, H, D] (i fastest) is, read as a
 * C-order array, `(D, H, W)`: the network's depth is NIfTI k, its width i.
 * Shapes here are `[D, H, W]`.
 */

export type Shape3 = [number, number, number];

/** MONAI's ScaleIntensityRange: a_min..a_max → b_min..b_max, then clipped to [b_min, b_max] when `clip`. */
export interface IntensityRange {
  aMin: number;
  aMax: number;
  bMin: number;
  bMax: number;
  clip: boolean;
}

/** `(x − a_min) / (a_max − a_min) · (b_max − b_min) + b_min` (clipped), or `x − a_min + b_min` when a_min = a_max, as MONAI. */
export function scaleIntensityRange(data: ArrayLike<number>, r: IntensityRange): Float32Array {
  const out = new Float32Array(data.length);
  const span = r.aMax - r.aMin;
  const [lo, hi] = r.bMin <= r.bMax ? [r.bMin, r.bMax] : [r.bMax, r.bMin];
  for (let i = 0; i < data.length; i++) {
    let v =
      span === 0
        ? data[i] - r.aMin + r.bMin
        : ((data[i] - r.aMin) / span) * (r.bMax - r.bMin) + r.bMin;
    if (r.clip) v = v < lo ? lo : v > hi ? hi : v;
    out[i] = v;
  }
  return out;
}

/** The keys a dataset.json's `intensity_range` must give as numbers (`clip` is optional, true unless false). */
export const INTENSITY_RANGE_KEYS = ['a_min', 'a_max', 'b_min', 'b_max'] as const;

/**
 * A dataset.json's `intensity_range` ({a_min, a_max, b_min, b_max, clip}), or
 * a message naming the file and the keys missing or not numbers (mam_torch's
 * volumes.intensity_range says the same of the same file).
 */
export function intensityRangeOf(
  meta: unknown,
  file: string,
): { ok: true; value: IntensityRange } | { ok: false; message: string } {
  const m = (meta !== null && typeof meta === 'object' ? meta : {}) as Record<string, unknown>;
  const bad = INTENSITY_RANGE_KEYS.filter(
    (k) => typeof m[k] !== 'number' || !Number.isFinite(m[k]),
  );
  if (bad.length)
    return {
      ok: false,
      message: `${file}: intensity_range has no number for ${bad.join(', ')} (needs numbers ${INTENSITY_RANGE_KEYS.join(', ')}, as MONAI's ScaleIntensityRanged)`,
    };
  const [aMin, aMax, bMin, bMax] = INTENSITY_RANGE_KEYS.map((k) => m[k] as number);
  return { ok: true, value: { aMin, aMax, bMin, bMax, clip: m.clip !== false } };
}

/** A volume (and its label) padded with zeros to at least `roi` per axis, as MONAI's SpatialPad (symmetric: the smaller half before). */
export interface PaddedVolume {
  /** `channels` interleaved values per voxel, `[D, H, W, C]`. */
  image: Float32Array;
  label: Uint8Array;
  shape: Shape3;
  channels: number;
  /** Zeros added before each axis. */
  before: Shape3;
}

export function padToRoi(
  image: Float32Array,
  label: Uint8Array,
  shape: Shape3,
  channels: number,
  roi: Shape3,
): PaddedVolume {
  const out = shape.map((n, a) => Math.max(n, roi[a])) as Shape3;
  const before = shape.map((n, a) => Math.floor((out[a] - n) / 2)) as Shape3;
  if (out.every((n, a) => n === shape[a])) return { image, label, shape, channels, before };
  const img = new Float32Array(out[0] * out[1] * out[2] * channels);
  const lab = new Uint8Array(out[0] * out[1] * out[2]);
  const [D, H, W] = shape;
  for (let z = 0; z < D; z++)
    for (let y = 0; y < H; y++) {
      const src = (z * H + y) * W;
      const dst = ((z + before[0]) * out[1] + y + before[1]) * out[2] + before[2];
      lab.set(label.subarray(src, src + W), dst);
      img.set(image.subarray(src * channels, (src + W) * channels), dst * channels);
    }
  return { image: img, label: lab, shape: out, channels, before };
}

/**
 * MONAI's map_binary_to_indices with an image: foreground = label > 0;
 * background = label 0 where any channel of the image is above `threshold`
 * (the reference: negative centres are label-0 voxels whose value is > 0).
 */
export function posNegIndices(v: PaddedVolume, threshold = 0): { fg: Int32Array; bg: Int32Array } {
  const n = v.label.length;
  let nf = 0;
  let nb = 0;
  const fg = new Int32Array(n);
  const bg = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (v.label[i] > 0) fg[nf++] = i;
    else {
      for (let k = 0; k < v.channels; k++)
        if (v.image[i * v.channels + k] > threshold) {
          bg[nb++] = i;
          break;
        }
    }
  }
  return { fg: fg.slice(0, nf), bg: bg.slice(0, nb) };
}

/**
 * The start of a `roi` crop centred at `centre` on a `shape` grid, as MONAI's
 * correct_crop_centers then SpatialCrop(roi_center): the centre is clamped to
 * [⌊s/2⌋, n − s + ⌊s/2⌋] per axis, so the crop lies inside; start = centre − ⌊s/2⌋.
 */
export function cropStart(centre: Shape3, roi: Shape3, shape: Shape3): Shape3 {
  return centre.map((c, a) => {
    const half = Math.floor(roi[a] / 2);
    const clamped = Math.min(Math.max(c, half), shape[a] - roi[a] + half);
    return clamped - half;
  }) as Shape3;
}

export interface VolumeCrop {
  /** `[D, H, W, C]` of the roi. */
  image: Float32Array;
  label: Uint8Array;
  /** Where it was cut from, in the padded volume's voxels. */
  start: Shape3;
  /** Whether its centre was drawn from the foreground. */
  positive: boolean;
}

/** The `roi` box at `start`, image and label. */
export function cutCrop(v: PaddedVolume, start: Shape3, roi: Shape3): Omit<VolumeCrop, 'positive'> {
  const [d, h, w] = roi;
  const [, H, W] = v.shape;
  const C = v.channels;
  const image = new Float32Array(d * h * w * C);
  const label = new Uint8Array(d * h * w);
  for (let z = 0; z < d; z++)
    for (let y = 0; y < h; y++) {
      const src = ((z + start[0]) * H + y + start[1]) * W + start[2];
      const dst = (z * h + y) * w;
      label.set(v.label.subarray(src, src + w), dst);
      image.set(v.image.subarray(src * C, (src + w) * C), dst * C);
    }
  return { image, label, start };
}

/**
 * `count` crops as RandCropByPosNegLabeld(pos 1, neg 1): each centre drawn
 * from the foreground with probability pos/(pos+neg), else the background
 * (all from one side when the other is empty, as MONAI), a uniform index
 * into that list, then corrected into the volume. `rand` gives [0, 1).
 */
export function randomCrops(
  v: PaddedVolume,
  roi: Shape3,
  count: number,
  rand: () => number,
  opts: { pos?: number; neg?: number; indices?: { fg: Int32Array; bg: Int32Array } } = {},
): VolumeCrop[] {
  const { fg, bg } = opts.indices ?? posNegIndices(v);
  if (fg.length === 0 && bg.length === 0)
    throw new Error('no crop centre: the volume has neither labelled nor non-zero voxels');
  const pos = opts.pos ?? 1;
  const neg = opts.neg ?? 1;
  const ratio = fg.length === 0 ? 0 : bg.length === 0 ? 1 : pos / (pos + neg);
  const [, H, W] = v.shape;
  const out: VolumeCrop[] = [];
  for (let s = 0; s < count; s++) {
    const positive = rand() < ratio;
    const list = positive ? fg : bg;
    const i = list[Math.min(list.length - 1, Math.floor(rand() * list.length))];
    const centre: Shape3 = [Math.floor(i / (H * W)), Math.floor(i / W) % H, i % W];
    out.push({ ...cutCrop(v, cropStart(centre, roi, v.shape), roi), positive });
  }
  return out;
}
