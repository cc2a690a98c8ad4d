/**
 * The 3D reference's training augmentation of a crop (3D-MAM-SPEC.md §f),
 * after RandCropByPosNegLabeld: MONAI's RandShiftIntensityd (image only)
 * then RandAffined (image bilinear, label nearest, reflection padding, the
 * output of the crop's size). Pure functions on `[D, H, W, C]` volumes with
 * the random parameters explicit, and a sampler that draws them in MONAI's
 * order from our seeded generator.
 *
 * Axes: ranges and drawn parameters are in MONAI's spatial order, which is
 * NIfTI's (i, j, k) = our (W, H, D); so the reference's rotation range
 * (0, 0, π/30) turns about k (our D), within the axial (H, W) plane.
 */
import type { VolumeAugmentSpec } from '../graph/types.ts';
export { REFERENCE_VOLUME_AUGMENT } from '../graph/presets-3d.ts';
import type { Shape3 } from './volume-crops.ts';

export type { VolumeAugmentSpec };

/** What one crop gets: the transforms whose coin came up, with their parameters. */
export type VolumeAugmentDraw =
  | { kind: 'shift-intensity'; offset: number }
  | { kind: 'affine'; rotate: [number, number, number]; scale: [number, number, number] };

/**
 * Draws as MONAI's array transforms RandShiftIntensity and RandAffine do: a
 * coin `rand() < prob`, then (when taken) each uniform as
 * `low + (high − low)·rand()`, rotations before scales, one per axis even
 * where the range is 0. (RandAffined itself draws more and discards some;
 * the laws are the same.) `rand` gives [0, 1).
 */
export function drawVolumeAugmentation(
  specs: readonly VolumeAugmentSpec[],
  rand: () => number,
): VolumeAugmentDraw[] {
  const uniform = (r: number) => -r + 2 * r * rand();
  const out: VolumeAugmentDraw[] = [];
  for (const s of specs) {
    if (!(rand() < s.prob)) continue;
    if (s.kind === 'shift-intensity') out.push({ kind: s.kind, offset: uniform(s.offsets) });
    else {
      const rotate = s.rotateRange.map(uniform) as [number, number, number];
      const scale = s.scaleRange.map((r) => 1 + uniform(r)) as [number, number, number];
      out.push({ kind: s.kind, rotate, scale });
    }
  }
  return out;
}

export interface VolumeSample {
  /** `[D, H, W, C]`, channels interleaved. */
  image: Float32Array;
  label: Uint8Array;
  shape: Shape3;
  channels: number;
}

/** ShiftIntensity: every voxel of every channel plus `offset`. */
export function shiftIntensity(image: Float32Array, offset: number): Float32Array {
  const out = new Float32Array(image.length);
  for (let i = 0; i < image.length; i++) out[i] = image[i] + offset;
  return out;
}

/**
 * The 3×3 matrix of MONAI's AffineGrid for these parameters, in (i, j, k):
 * intrinsic rotations X then Y then Z (create_rotate's "XYZ"), times the scale.
 * It maps an output voxel's centred coordinate to the input's.
 */
export function affineMatrix(rotate: readonly number[], scale: readonly number[]): number[][] {
  const [cx, sx, cy, sy, cz, sz] = rotate.flatMap((r) => [Math.cos(r), Math.sin(r)]);
  const rx = [
    [1, 0, 0],
    [0, cx, -sx],
    [0, sx, cx],
  ];
  const ry = [
    [cy, 0, sy],
    [0, 1, 0],
    [-sy, 0, cy],
  ];
  const rz = [
    [cz, -sz, 0],
    [sz, cz, 0],
    [0, 0, 1],
  ];
  const mul = (a: number[][], b: number[][]) =>
    a.map((row) => [0, 1, 2].map((c) => row[0] * b[0][c] + row[1] * b[1][c] + row[2] * b[2][c]));
  const r = mul(mul(rx, ry), rz);
  return r.map((row) => row.map((v, c) => v * scale[c]));
}

/**
 * torch.grid_sample's reflection padding with align_corners=False: the
 * coordinate reflected about −0.5 and n − 0.5, then clipped to [0, n − 1].
 */
function reflect(p: number, n: number): number {
  const a = Math.abs(p + 0.5);
  const extra = a % n;
  const r = Math.floor(a / n) % 2 === 0 ? extra - 0.5 : n - extra - 0.5;
  return Math.min(Math.max(r, 0), n - 1);
}

/** std::nearbyint, as grid_sample's nearest mode rounds: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
}

/**
 * MONAI's Affine(rotate_params, scale_params, spatial_size = `out`,
 * padding_mode 'reflection', align_corners False): output voxel o (centred:
 * o − (m − 1)/2) reads the input at A·(o − (m − 1)/2) + (n − 1)/2 per axis;
 * the image trilinearly, the label at the nearest voxel (ties to the even
 * one, as grid_sample). Computed in float64.
 */
export function affineVolume(
  v: VolumeSample,
  rotate: readonly number[],
  scale: readonly number[],
  out: Shape3 = v.shape,
): VolumeSample {
  const A = affineMatrix(rotate, scale);
  const [D, H, W] = v.shape;
  const C = v.channels;
  // MONAI's axes (i, j, k) are our (x, y, z)
  const n = [W, H, D];
  const m = [out[2], out[1], out[0]];
  const image = new Float32Array(out[0] * out[1] * out[2] * C);
  const label = new Uint8Array(out[0] * out[1] * out[2]);
  const at = (x: number, y: number, z: number) => (z * H + y) * W + x;
  const p = [0, 0, 0];
  const acc = new Float64Array(C);
  for (let z = 0, o = 0; z < out[0]; z++)
    for (let y = 0; y < out[1]; y++)
      for (let x = 0; x < out[2]; x++, o++) {
        const c = [x - (m[0] - 1) / 2, y - (m[1] - 1) / 2, z - (m[2] - 1) / 2];
        for (let a = 0; a < 3; a++) {
          const g = A[a][0] * c[0] + A[a][1] * c[1] + A[a][2] * c[2];
          // MONAI normalises by ×2/max(2, n) and grid_sample unnormalises ((u + 1)·n − 1)/2 (same float64 steps)
          const u = g * (2 / Math.max(2, n[a]));
          p[a] = reflect(((u + 1) * n[a] - 1) / 2, n[a]);
        }
        label[o] = v.label[at(roundHalfEven(p[0]), roundHalfEven(p[1]), roundHalfEven(p[2]))];
        const x0 = Math.floor(p[0]);
        const y0 = Math.floor(p[1]);
        const z0 = Math.floor(p[2]);
        const t = [p[0] - x0, p[1] - y0, p[2] - z0];
        acc.fill(0);
        for (let corner = 0; corner < 8; corner++) {
          const dx = corner & 1;
          const dy = (corner >> 1) & 1;
          const dz = corner >> 2;
          const xi = x0 + dx;
          const yi = y0 + dy;
          const zi = z0 + dz;
          if (xi >= W || yi >= H || zi >= D) continue;
          const w = (dx ? t[0] : 1 - t[0]) * (dy ? t[1] : 1 - t[1]) * (dz ? t[2] : 1 - t[2]);
          if (w === 0) continue;
          const base = at(xi, yi, zi) * C;
          for (let k = 0; k < C; k++) acc[k] += w * v.image[base + k];
        }
        for (let k = 0; k < C; k++) image[o * C + k] = acc[k];
      }
  return { image, label, shape: out, channels: C };
}

/** The drawn transforms applied in order (the shift to the image only), the output the crop's size. */
export function applyVolumeAugmentation(
  v: VolumeSample,
  draws: readonly VolumeAugmentDraw[],
): VolumeSample {
  let s = v;
  for (const d of draws)
    s =
      d.kind === 'shift-intensity'
        ? { ...s, image: shiftIntensity(s.image, d.offset) }
        : affineVolume(s, d.rotate, d.scale);
  return s;
}

/** The augmentations in words, for logs and the Train panel. */
export function describeVolumeAugment(specs: readonly VolumeAugmentSpec[]): string {
  if (specs.length === 0) return 'the random crops only';
  const g = (v: number) => String(Number(v.toPrecision(4)));
  const parts = specs.map((s) =>
    s.kind === 'shift-intensity'
      ? `RandShiftIntensity (±${g(s.offsets)}, p ${g(s.prob)})`
      : `RandAffine (p ${g(s.prob)}, rotation ±${s.rotateRange.map(g).join('/')}, scale ±${s.scaleRange.map(g).join('/')})`,
  );
  return `random crops, then ${parts.join(', ')}`;
}
