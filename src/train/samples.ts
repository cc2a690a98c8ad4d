/**
 * From loaded cases to what training and evaluation consume: intensity
 * normalisation (one rule, recorded in the run, applied identically at
 * evaluation), 2D training slices, a seeded split and a data fingerprint.
 */
import { hashString } from '../compile/init.ts';
import { sliceVolume } from '../data/slices.ts';
import { percentileRange } from '../data/slices.ts';
import type { Case, Volume } from '../data/types.ts';
import { scaleIntensityRange } from '../data/volume-crops.ts';
import type { Sample2D } from './augment.ts';

/**
 * 'auto': the data set's intensity range when its metadata gives one
 * (ScaleIntensityRanged, see Volume.intensity); else uint8 data → /255; data reaching below −200 (CT in HU) → window
 * [−125, 275]; otherwise the 0.5–99.5 percentile window; each to [0, 1].
 * 'none': values as stored.
 */
export type Normalisation = 'auto' | 'none' | 'uint8' | 'ct' | 'percentile';

export function resolveNormalisation(
  v: Volume,
  mode: Normalisation,
): Exclude<Normalisation, 'auto'> {
  if (mode !== 'auto') return mode;
  if (v.datatype === 'uint8') return 'uint8';
  let min = Infinity;
  for (let i = 0; i < v.data.length; i++) if (v.data[i] < min) min = v.data[i];
  return min < -200 ? 'ct' : 'percentile';
}

/** The channel's voxels scaled to [0, 1] (float32, same voxel order). */
export function normaliseVolume(v: Volume, mode: Normalisation): Float32Array {
  if (mode === 'auto' && v.intensity) return scaleIntensityRange(v.data, v.intensity);
  const rule = resolveNormalisation(v, mode);
  const n = v.data.length;
  const out = new Float32Array(n);
  if (rule === 'none') {
    out.set(v.data);
    return out;
  }
  let lo: number;
  let hi: number;
  if (rule === 'uint8') [lo, hi] = [0, 255];
  else if (rule === 'ct') [lo, hi] = [-125, 275];
  else {
    // percentiles of a strided sample: exact enough for a window, fast on big volumes
    const step = Math.max(1, Math.floor(n / 200_000));
    const sample = new Float32Array(Math.ceil(n / step));
    for (let i = 0, j = 0; i < n; i += step, j++) sample[j] = v.data[i];
    [lo, hi] = percentileRange(sample, 0.5, 99.5);
    if (!(hi > lo)) return out;
  }
  const span = hi - lo;
  for (let i = 0; i < n; i++) {
    const x = (v.data[i] - lo) / span;
    out[i] = x < 0 ? 0 : x > 1 ? 1 : x;
  }
  return out;
}

/** Slices of a case along NIfTI k (axial for RAS-like data): height = dims[1], width = dims[0]. */
export function caseSlices(c: Case, normalisation: Normalisation): Sample2D[] {
  if (!c.label) throw new Error(`case ${c.id} has no label`);
  const dims = c.channels[0].dims;
  const [w, h, d] = [dims[0], dims[1] ?? 1, dims[2] ?? 1];
  const chans = c.channels.map((v) => normaliseVolume(v, normalisation));
  const nc = chans.length;
  const out: Sample2D[] = [];
  for (let z = 0; z < d; z++) {
    const image = new Float32Array(h * w * nc);
    for (let k = 0; k < nc; k++) {
      const base = z * h * w;
      for (let i = 0; i < h * w; i++) image[i * nc + k] = chans[k][base + i];
    }
    const label = sliceVolume({ data: c.label.data, dims: c.label.dims }, 2, z).data as Uint8Array;
    out.push({ image, label, height: h, width: w, channels: nc });
  }
  return out;
}

/** Repeat or check channels so a sample fits a network with `want` input channels (1 → 3 is repeated, as the Synapse code does). */
export function fitChannels(s: Sample2D, want: number): Sample2D {
  if (s.channels === want) return s;
  if (s.channels !== 1)
    throw new Error(`the data has ${s.channels} channels but the graph expects ${want}`);
  const image = new Float32Array(s.image.length * want);
  for (let i = 0; i < s.image.length; i++)
    for (let k = 0; k < want; k++) image[i * want + k] = s.image[i];
  return { ...s, image, channels: want };
}

export interface DataSplit {
  train: Case[];
  val: Case[];
  test: Case[];
}

/**
 * A reproducible split of labelled cases when the data names none: cases
 * ordered by a seeded hash of their id, `valFraction` (at least one when
 * there are two or more) held out for validation. A single case validates on
 * itself (the caller should say so).
 */
export function splitCases(
  cases: Case[],
  seed: number,
  valFraction = 0.2,
): { train: Case[]; val: Case[] } {
  if (cases.length < 2) return { train: cases, val: cases };
  const order = [...cases].sort(
    (a, b) => hashString(a.id, seed) - hashString(b.id, seed) || a.id.localeCompare(b.id),
  );
  const nVal = Math.max(1, Math.round(cases.length * valFraction));
  const val = new Set(order.slice(0, nVal).map((c) => c.id));
  return { train: cases.filter((c) => !val.has(c.id)), val: cases.filter((c) => val.has(c.id)) };
}

/** FNV-1a over bytes, continuing from `h`. */
function hashBytes(bytes: Uint8Array, h: number): number {
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A fingerprint of the cases: ids, grids and every voxel of images and labels (16 hex digits). */
export function dataFingerprint(cases: readonly Case[]): string {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9;
  for (const c of cases) {
    const head = new TextEncoder().encode(
      `${c.id}:${c.channels.map((v) => v.dims.join('x')).join(',')}`,
    );
    a = hashBytes(head, a);
    b = hashBytes(head, b ^ 0x5bd1e995);
    for (const v of c.channels) {
      const bytes = new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength);
      a = hashBytes(bytes, a);
    }
    if (c.label) b = hashBytes(c.label.data, b);
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}
