/** Volumes → 2D slices, intensity windowing, channel repetition. */

export type SliceAxis = 0 | 1 | 2;

/** A row-major 2D image (width fastest). */
export interface Slice<T extends ArrayLike<number> = Float32Array> {
  data: T;
  height: number;
  width: number;
}

type Typed = Float32Array | Float64Array | Uint8Array | Int16Array | Int32Array | Uint16Array;

/**
 * The slice at `index` along `axis` of a volume with fastest-first dims [X, Y, Z]:
 * axis 2 (axial for RAS-like data) gives height Y × width X; axis 1 gives Z × X; axis 0 gives Z × Y.
 * The slice keeps the volume's array type.
 */
export function sliceVolume<T extends Typed>(
  vol: { data: T; dims: number[] },
  axis: SliceAxis,
  index: number,
): Slice<T> {
  const [X, Y, Z] = [vol.dims[0], vol.dims[1] ?? 1, vol.dims[2] ?? 1];
  const n = [X, Y, Z][axis];
  if (!(index >= 0 && index < n))
    throw new RangeError(`slice ${index} outside 0..${n - 1} along axis ${axis}`);
  const Ctor = vol.data.constructor as new (n: number) => T;
  if (axis === 2) {
    const data = vol.data.subarray(index * X * Y, (index + 1) * X * Y) as T;
    return { data: copyOf(data, Ctor), height: Y, width: X };
  }
  if (axis === 1) {
    const out = new Ctor(Z * X);
    for (let z = 0; z < Z; z++)
      for (let x = 0; x < X; x++) out[z * X + x] = vol.data[x + X * (index + Y * z)];
    return { data: out, height: Z, width: X };
  }
  const out = new Ctor(Z * Y);
  for (let z = 0; z < Z; z++)
    for (let y = 0; y < Y; y++) out[z * Y + y] = vol.data[index + X * (y + Y * z)];
  return { data: out, height: Z, width: Y };
}

function copyOf<T extends Typed>(src: T, Ctor: new (n: number) => T): T {
  const out = new Ctor(src.length);
  (out as unknown as { set(a: ArrayLike<number>): void }).set(src);
  return out;
}

export function volumeToSlices<T extends Typed>(
  vol: { data: T; dims: number[] },
  axis: SliceAxis = 2,
): Slice<T>[] {
  const n = axis === 0 ? vol.dims[0] : axis === 1 ? (vol.dims[1] ?? 1) : (vol.dims[2] ?? 1);
  return Array.from({ length: n }, (_, i) => sliceVolume(vol, axis, i));
}

/** Clip to [lo, hi] and scale to [0, 1] (e.g. CT window [-125, 275] HU). */
export function windowIntensity(data: ArrayLike<number>, lo: number, hi: number): Float32Array {
  if (!(hi > lo)) throw new RangeError(`window [${lo}, ${hi}] is empty`);
  const out = new Float32Array(data.length);
  const span = hi - lo;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    out[i] = v <= lo ? 0 : v >= hi ? 1 : (v - lo) / span;
  }
  return out;
}

/** numpy.percentile-style (linear) percentiles of the data, e.g. [0.5, 99.5]. NaNs are ignored. */
export function percentileRange(
  data: ArrayLike<number>,
  pLo: number,
  pHi: number,
): [number, number] {
  // typed-array sort puts NaN last; count them out
  const vals = Float64Array.from(data).sort();
  let n = vals.length;
  while (n > 0 && Number.isNaN(vals[n - 1])) n--;
  const at = (q: number) => {
    if (n === 0) return NaN;
    const pos = (q / 100) * (n - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, n - 1);
    return vals[lo] + (vals[hi] - vals[lo]) * (pos - lo);
  };
  return [at(pLo), at(pHi)];
}

/** Window by percentiles (default 0.5–99.5), for MRI without calibrated units. */
export function windowPercentile(data: ArrayLike<number>, pLo = 0.5, pHi = 99.5): Float32Array {
  const [lo, hi] = percentileRange(data, pLo, pHi);
  if (!(hi > lo)) return new Float32Array(data.length); // constant image
  return windowIntensity(data, lo, hi);
}

/** Repeat a 1-channel image into `channels` interleaved channels (H, W, C), e.g. for 3-channel encoders. */
export function repeatChannels(data: ArrayLike<number>, channels = 3): Float32Array {
  const out = new Float32Array(data.length * channels);
  for (let i = 0; i < data.length; i++)
    for (let c = 0; c < channels; c++) out[i * channels + c] = data[i];
  return out;
}

/** Interleave separate channel images (each H·W) into one (H, W, C) array. */
export function interleaveChannels(channels: ArrayLike<number>[]): Float32Array {
  const c = channels.length;
  const n = channels[0]?.length ?? 0;
  const out = new Float32Array(n * c);
  for (let k = 0; k < c; k++) for (let i = 0; i < n; i++) out[i * c + k] = channels[k][i];
  return out;
}
