/**
 * The paper's augmentation (the public Swin-Unet RandomGenerator), seeded:
 * with p = 0.5 rot90 by k ∈ {0..3} then a flip along a random axis; else with
 * p = 0.5 a rotation by an integer angle in [−20, 20) about the centre, as
 * scipy.ndimage.rotate(reshape=False, order=0): nearest, zero outside, for
 * image and label alike; then resize to the network's input (image cubic,
 * label nearest) with the scipy-compatible zoom.
 * Images are row-major (H, W, C) with C interleaved; labels (H, W).
 */
import { fitImage, fitPlane, resizePlan, type ResizeRule } from '../data/prepare.ts';

export interface Sample2D {
  image: Float32Array;
  label: Uint8Array;
  height: number;
  width: number;
  channels: number;
}

export type Augmentation =
  | { kind: 'none' }
  | { kind: 'rot-flip'; k: number; axis: 0 | 1 }
  | { kind: 'rotate'; angle: number };

/** The draws in the reference's order: random() > 0.5 → rot90 k, flip axis; elif random() > 0.5 → angle. */
export function drawAugmentation(rand: () => number): Augmentation {
  if (rand() > 0.5) {
    const k = Math.floor(rand() * 4);
    const axis = (Math.floor(rand() * 2) === 0 ? 0 : 1) as 0 | 1;
    return { kind: 'rot-flip', k, axis };
  }
  if (rand() > 0.5) return { kind: 'rotate', angle: Math.floor(rand() * 40) - 20 };
  return { kind: 'none' };
}

/**
 * A geometric map, output (row, col) → input (row, col) or null (outside, so 0),
 * applied identically to every image channel and the label.
 */
function remap<T extends Float32Array | Uint8Array>(
  src: T,
  h: number,
  w: number,
  c: number,
  outH: number,
  outW: number,
  from: (r: number, q: number) => number,
): T {
  const out = new (src.constructor as new (n: number) => T)(outH * outW * c);
  for (let r = 0; r < outH; r++) {
    for (let q = 0; q < outW; q++) {
      const i = from(r, q);
      if (i < 0) continue;
      for (let k = 0; k < c; k++) out[(r * outW + q) * c + k] = src[i * c + k];
    }
  }
  return out;
}

/** numpy.rot90(m, k) (counter-clockwise in the (0, 1) plane) then numpy.flip(axis). */
function rotFlipMap(h: number, w: number, k: number, axis: 0 | 1) {
  const kk = ((k % 4) + 4) % 4;
  const [rh, rw] = kk % 2 ? [w, h] : [h, w];
  const rot = (r: number, q: number): number => {
    switch (kk) {
      case 0:
        return r * w + q;
      case 1:
        return q * w + (w - 1 - r); // out[r, q] = m[q, W−1−r]
      case 2:
        return (h - 1 - r) * w + (w - 1 - q);
      default:
        return (h - 1 - q) * w + r; // out[r, q] = m[H−1−q, r]
    }
  };
  const map = (r: number, q: number) => (axis === 0 ? rot(rh - 1 - r, q) : rot(r, rw - 1 - q));
  return { outH: rh, outW: rw, map };
}

const cosDeg = (a: number) =>
  a % 360 === 90 || a % 360 === -90 || a % 360 === 270 || a % 360 === -270
    ? 0
    : Math.cos((a * Math.PI) / 180);
const sinDeg = (a: number) => (a % 180 === 0 ? 0 : Math.sin((a * Math.PI) / 180));

/**
 * scipy.ndimage.rotate(x, angle, axes=(1, 0), reshape=False, order=0, mode='constant'):
 * input = R·output + offset, R = [[c, s], [−s, c]], rotation about the centre
 * ((n − 1)/2); nearest sample at floor(x + 0.5); a coordinate outside [0, n − 1] gives 0.
 */
function rotateMap(h: number, w: number, angle: number) {
  const c = cosDeg(angle);
  const s = sinDeg(angle);
  const cr = (h - 1) / 2;
  const cq = (w - 1) / 2;
  const offR = cr - (c * cr + s * cq);
  const offQ = cq - (-s * cr + c * cq);
  return (r: number, q: number): number => {
    const ir = c * r + s * q + offR;
    const iq = -s * r + c * q + offQ;
    if (!(ir >= 0 && ir <= h - 1 && iq >= 0 && iq <= w - 1)) return -1;
    return Math.floor(ir + 0.5) * w + Math.floor(iq + 0.5);
  };
}

export function applyAugmentation(s: Sample2D, a: Augmentation): Sample2D {
  if (a.kind === 'none') return s;
  const { height: h, width: w, channels: c } = s;
  if (a.kind === 'rot-flip') {
    const { outH, outW, map } = rotFlipMap(h, w, a.k, a.axis);
    return {
      image: remap(s.image, h, w, c, outH, outW, map),
      label: remap(s.label, h, w, 1, outH, outW, map),
      height: outH,
      width: outW,
      channels: c,
    };
  }
  const map = rotateMap(h, w, a.angle);
  return {
    image: remap(s.image, h, w, c, h, w, map),
    label: remap(s.label, h, w, 1, h, w, map),
    height: h,
    width: w,
    channels: c,
  };
}

/**
 * Resize to outH × outW: image order 3, label order 0, by the rule ('stretch'
 * as the reference, or 'pad' keeping the aspect); a no-op when the size matches.
 */
export function resizeSample(
  s: Sample2D,
  outH: number,
  outW: number,
  rule: ResizeRule = 'stretch',
): Sample2D {
  if (s.height === outH && s.width === outW) return s;
  const p = resizePlan([s.height, s.width], [outH, outW], rule);
  const image = fitImage(s.image, s.channels, p);
  const label = Uint8Array.from(fitPlane(s.label, p, 0));
  return { image, label, height: outH, width: outW, channels: s.channels };
}

/** Draw, apply, resize: one training sample as the reference prepares it. */
export function augmentSample(
  s: Sample2D,
  rand: () => number,
  outH: number,
  outW: number,
  rule: ResizeRule = 'stretch',
): Sample2D {
  return resizeSample(applyAugmentation(s, drawAugmentation(rand)), outH, outW, rule);
}
