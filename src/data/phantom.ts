/**
 * Synthetic phantoms for tests with exact expected metrics: ellipse / ellipsoid "organs"
 * painted into a label map, seeded so every run draws the same shapes.
 * Arrays are C order with NumPy-style shape: 2D [H, W], 3D [D, H, W].
 */

/** The project's seeded PRNG (mulberry32), shared with initialisation and augmentation. */
export { rng as seededRandom } from '../compile/init.ts';
import { rng as seededRandom } from '../compile/init.ts';

export interface Ellipsoid {
  /** Centre per axis (voxel coordinates, NumPy axis order). */
  center: number[];
  /** Semi-axis lengths per axis, in voxels. */
  radii: number[];
}

/** Binary mask of an axis-aligned ellipse/ellipsoid: Σ ((x_k − c_k)/r_k)² ≤ 1. */
export function ellipsoidMask(shape: readonly number[], e: Ellipsoid): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(n);
  const nd = shape.length;
  const coord = new Array<number>(nd).fill(0);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < nd; k++) {
      const d = (coord[k] - e.center[k]) / e.radii[k];
      s += d * d;
    }
    if (s <= 1) out[i] = 1;
    for (let k = nd - 1; k >= 0; k--) {
      if (++coord[k] < shape[k]) break;
      coord[k] = 0;
    }
  }
  return out;
}

export interface Phantom {
  shape: number[];
  /** Intensity image in [0, 1]: organ-specific means plus seeded noise. */
  image: Float32Array;
  /** Label map: 0 background, organ k is label k (later organs paint over earlier ones). */
  label: Uint8Array;
  classNames: string[];
  organs: Ellipsoid[];
}

export interface PhantomOptions {
  shape: number[];
  organs?: number;
  seed?: number;
  noise?: number;
}

/** A random phantom: `organs` ellipsoids inside the array, possibly overlapping. */
export function makePhantom(opts: PhantomOptions): Phantom {
  const { shape } = opts;
  const nOrg = opts.organs ?? 3;
  const rand = seededRandom(opts.seed ?? 1);
  const n = shape.reduce((a, b) => a * b, 1);
  const label = new Uint8Array(n);
  const organs: Ellipsoid[] = [];
  for (let k = 1; k <= nOrg; k++) {
    const radii = shape.map((s) => Math.max(1.5, s * (0.08 + 0.15 * rand())));
    const center = shape.map((s, i) => radii[i] + rand() * Math.max(0, s - 1 - 2 * radii[i]));
    const e = { center, radii };
    organs.push(e);
    const m = ellipsoidMask(shape, e);
    for (let i = 0; i < n; i++) if (m[i]) label[i] = k;
  }
  const noise = opts.noise ?? 0.05;
  const image = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const mean = label[i] === 0 ? 0.1 : 0.2 + (0.7 * label[i]) / nOrg;
    image[i] = Math.min(1, Math.max(0, mean + noise * (rand() * 2 - 1)));
  }
  return {
    shape: shape.slice(),
    image,
    label,
    classNames: ['background', ...Array.from({ length: nOrg }, (_, i) => `organ${i + 1}`)],
    organs,
  };
}

/**
 * A prediction for a phantom: every organ shifted by `shift` voxels (per axis) and painted
 * in the same order, so the expected Dice per organ can be counted exactly.
 */
export function shiftedPrediction(p: Phantom, shift: number[]): Uint8Array {
  const n = p.label.length;
  const pred = new Uint8Array(n);
  p.organs.forEach((e, k) => {
    const m = ellipsoidMask(p.shape, {
      center: e.center.map((c, i) => c + (shift[i] ?? 0)),
      radii: e.radii,
    });
    for (let i = 0; i < n; i++) if (m[i]) pred[i] = k + 1;
  });
  return pred;
}
