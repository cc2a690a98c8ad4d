/**
 * Convolutional pieces of hybrid CNN + ViT networks (DA-TRANSUNET-MAM-SPEC.md
 * §b–c) built only from the op set every backend can differentiate (pad,
 * slice, reshape, concat, matMul, reductions): no conv2d, no maxPool, no
 * resizeBilinear kernels, since wasm lacks some of their gradients.
 *
 * Images are NHWC `[B, H, W, C]`. A conv weight is in the ops layout: the
 * Linear weight `[k·k·Cin, Cout]` with row `(i·k + j)·Cin + c` for PyTorch's
 * `W[o, c, i, j]` (see `convWeightToLinear` in layers.ts).
 */
import * as tf from '#tfjs';

export interface ConvOptions {
  kernel: number;
  stride?: number;
  /** Symmetric zero padding on both spatial axes. */
  padding?: number;
}

export interface ConvWeights {
  /** `[k·k·Cin, Cout]` */
  weight: tf.Tensor2D;
  bias?: tf.Tensor1D;
}

/** Output side of a convolution or pooling window: ⌊(n + 2p − k)/s⌋ + 1. */
export const convOut = (n: number, kernel: number, stride = 1, padding = 0): number =>
  Math.floor((n + 2 * padding - kernel) / stride) + 1;

/** The geometry of a k×k window over an image: output side and the padding it reads. */
interface WindowGeometry {
  k: number;
  s: number;
  Ho: number;
  Wo: number;
  /** Zero (or `padValue`) rows/cols before and after on each axis. */
  pads: [[number, number], [number, number]];
}

function windowGeometry(shape: number[], o: ConvOptions): WindowGeometry {
  const { kernel: k, stride: s = 1, padding: p = 0 } = o;
  const [, H, W] = shape;
  const Ho = convOut(H, k, s, p);
  const Wo = convOut(W, k, s, p);
  if (Ho < 1 || Wo < 1) throw new Error(`a ${k}×${k} window does not fit a ${H}×${W} image`);
  // Enough rows/cols for the last tap to read s·Ho (s·Wo) entries.
  const needH = k - 1 + s * Ho;
  const needW = k - 1 + s * Wo;
  return {
    k,
    s,
    Ho,
    Wo,
    pads: [
      [p, Math.max(p, needH - H - p)],
      [p, Math.max(p, needW - W - p)],
    ],
  };
}

const padded = (x: tf.Tensor4D, g: WindowGeometry, padValue = 0): tf.Tensor4D =>
  g.pads.some(([a, b]) => a || b) ? tf.pad(x, [[0, 0], ...g.pads, [0, 0]], padValue) : x;

/**
 * The stride's phases of a padded image: phase (a, b) holds rows a, a+s, …
 * and columns b, b+s, … (as many as the taps of that phase read), so each
 * window offset (i, j) is a plain slice of phase (i mod s, j mod s) at
 * (⌊i/s⌋, ⌊j/s⌋). Stride 1 has one phase, the image itself. Taking every s-th
 * row and column once per phase, not once per tap, is what makes a strided
 * window cheap (the ResNet root reads 49 taps from 4 phases).
 */
class Phases {
  private readonly made = new Map<number, tf.Tensor4D>();
  constructor(
    private readonly xp: tf.Tensor4D,
    private readonly g: WindowGeometry,
  ) {}

  /** Rows (or columns) of phase a along an axis: the taps i ≡ a read rows ⌊i/s⌋ … ⌊i/s⌋ + Ho − 1. */
  size(a: number, out: number): number {
    return out + Math.floor((this.g.k - 1 - a) / this.g.s);
  }

  phase(a: number, b: number): tf.Tensor4D {
    const { s, Ho, Wo } = this.g;
    if (s === 1) return this.xp;
    const key = a * s + b;
    let ph = this.made.get(key);
    if (!ph) {
      const [B, , , C] = this.xp.shape;
      const [h, w] = [this.size(a, Ho), this.size(b, Wo)];
      ph = tf.tidy(() =>
        everySth(tf.slice(this.xp, [0, a, b, 0], [B, s * h, s * w, C]), B, h, w, C, s),
      );
      this.made.set(key, ph);
    }
    return ph;
  }

  /** Makes every phase now, in the caller's scope (before taps are read inside inner `tidy`s). */
  makeAll(): this {
    const n = Math.min(this.g.s, this.g.k);
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) this.phase(a, b);
    return this;
  }

  /** Window offset (i, j): `[B, Ho, Wo, C]`. */
  tap(i: number, j: number): tf.Tensor4D {
    const { s, Ho, Wo } = this.g;
    const ph = this.phase(i % s, j % s);
    const [B, h, w, C] = ph.shape;
    const [qi, qj] = [Math.floor(i / s), Math.floor(j / s)];
    return qi === 0 && qj === 0 && h === Ho && w === Wo
      ? ph
      : tf.slice(ph, [0, qi, qj, 0], [B, Ho, Wo, C]);
  }

  dispose(): void {
    for (const ph of this.made.values()) ph.dispose();
    this.made.clear();
  }
}

/**
 * The k×k windows of `x` as `k·k` tensors `[B, Ho, Wo, C]`, window offset
 * (i, j) at index `i·k + j`. A stride s is taken by reshaping s-strided rows
 * and columns to their own axes and slicing index 0 (no stridedSlice), once
 * per phase (see `Phases`).
 */
export function windowTaps(x: tf.Tensor4D, o: ConvOptions, padValue = 0): tf.Tensor4D[] {
  const g = windowGeometry(x.shape, o);
  const phases = new Phases(padded(x, g, padValue), g);
  const taps: tf.Tensor4D[] = [];
  for (let i = 0; i < g.k; i++) for (let j = 0; j < g.k; j++) taps.push(phases.tap(i, j));
  return taps;
}

/**
 * Rows and columns 0, s, 2s, … of `[B, s·Ho, s·Wo, C]`, by reshapes and
 * slices of rank ≤ 4 (tfjs-webgpu cannot pad rank-6 tensors, the gradient of
 * a rank-6 slice).
 */
function everySth(x: tf.Tensor4D, B: number, Ho: number, Wo: number, C: number, s: number) {
  const rows = tf.slice(
    tf.reshape(x, [B, Ho, s, s * Wo * C]),
    [0, 0, 0, 0],
    [B, Ho, 1, s * Wo * C],
  );
  const cols = tf.slice(tf.reshape(rows, [B * Ho, Wo, s, C]), [0, 0, 0, 0], [B * Ho, Wo, 1, C]);
  return tf.reshape(cols, [B, Ho, Wo, C]) as tf.Tensor4D;
}

/** The adjoint of `everySth`: `[B, Ho, Wo, C]` spread to rows/cols 0, s, 2s, … of zeros. */
function spreadSth(t: tf.Tensor4D, s: number): tf.Tensor4D {
  const [B, Ho, Wo, C] = t.shape;
  const cols = tf.pad(tf.reshape(t, [B * Ho, Wo, 1, C]), [
    [0, 0],
    [0, 0],
    [0, s - 1],
    [0, 0],
  ]);
  const rows = tf.pad(tf.reshape(cols, [B, Ho, 1, s * Wo * C]), [
    [0, 0],
    [0, 0],
    [0, s - 1],
    [0, 0],
  ]);
  return tf.reshape(rows, [B, s * Ho, s * Wo, C]) as tf.Tensor4D;
}

/** `acc + t`, disposing both (a running sum that holds one partial at a time). */
function addInto(acc: tf.Tensor4D | null, t: tf.Tensor4D): tf.Tensor4D {
  if (!acc) return t;
  const sum = tf.add(acc, t) as tf.Tensor4D;
  tf.dispose([acc, t]);
  return sum;
}

/**
 * dx and dW of `y = patches(x)·W` for `dy [B, Ho, Wo, Cout]`, one window
 * offset at a time: the patches are rebuilt from x (not kept from the forward
 * pass, where they are k² times the image), dW's rows of offset t are
 * tapₜᵀ·dy, and dx sums each offset's dy·Wₜᵀ put back where the offset read it.
 */
function convGrads(
  x: tf.Tensor4D,
  w: tf.Tensor2D,
  dy: tf.Tensor4D,
  o: ConvOptions,
): [tf.Tensor4D, tf.Tensor2D] {
  const g = windowGeometry(x.shape, o);
  const [B, H, W, cin] = x.shape;
  const cout = w.shape[1];
  const M = B * g.Ho * g.Wo;
  const xp = padded(x, g);
  const [, Hp, Wp] = xp.shape;
  const phases = new Phases(xp, g).makeAll();
  const dy2 = tf.reshape(dy, [M, cout]) as tf.Tensor2D;
  const dws: tf.Tensor2D[] = [];
  // dx by phase: each offset's part is added where its phase's tap read it, and
  // the s² phase sums are spread back to the image once at the end
  const dPhase = new Map<number, tf.Tensor4D>();
  for (let i = 0; i < g.k; i++) {
    for (let j = 0; j < g.k; j++) {
      const [a, b] = [i % g.s, j % g.s];
      const [qi, qj] = [Math.floor(i / g.s), Math.floor(j / g.s)];
      const [h, wd] = [phases.size(a, g.Ho), phases.size(b, g.Wo)];
      const [dw, placed] = tf.tidy(() => {
        const tap = tf.reshape(phases.tap(i, j), [M, cin]);
        // Explicit transposes: wasm multiplies with transposeA/B set several times slower.
        const dw = tf.matMul(tf.transpose(tap), dy2) as tf.Tensor2D;
        const wt = tf.slice(w, [(i * g.k + j) * cin, 0], [cin, cout]);
        const dtap = tf.reshape(tf.matMul(dy2, tf.transpose(wt)), [B, g.Ho, g.Wo, cin]);
        const placed = tf.pad(dtap, [
          [0, 0],
          [qi, (g.s === 1 ? Hp : h) - qi - g.Ho],
          [qj, (g.s === 1 ? Wp : wd) - qj - g.Wo],
          [0, 0],
        ]) as tf.Tensor4D;
        return [dw, placed];
      });
      dws.push(dw);
      dPhase.set(a * g.s + b, addInto(dPhase.get(a * g.s + b) ?? null, placed));
    }
  }
  phases.dispose();
  let dxp: tf.Tensor4D | null = null;
  for (const [key, dph] of dPhase) {
    if (g.s === 1) {
      dxp = dph;
      continue;
    }
    const [a, b] = [Math.floor(key / g.s), key % g.s];
    const spread = tf.tidy(() => {
      const sp = spreadSth(dph, g.s);
      const [, h, wd] = sp.shape;
      return tf.pad(sp, [
        [0, 0],
        [a, Hp - a - h],
        [b, Wp - b - wd],
        [0, 0],
      ]) as tf.Tensor4D;
    });
    dph.dispose();
    dxp = addInto(dxp, spread);
  }
  const dw = dws.length === 1 ? dws[0] : (tf.concat(dws, 0) as tf.Tensor2D);
  if (dws.length > 1) tf.dispose(dws);
  const dx =
    xp === x
      ? dxp!
      : (tf.slice(dxp!, [0, g.pads[0][0], g.pads[1][0], 0], [B, H, W, cin]) as tf.Tensor4D);
  if (dx !== dxp) dxp!.dispose();
  if (xp !== x) xp.dispose();
  dy2.dispose();
  return [dx, dw];
}

/**
 * Convolution k×k with stride and symmetric zero padding, as patch
 * extraction + matMul. Its gradient keeps only x and the weight: the patch
 * matrix (k² times the image) lives only inside the forward pass and is
 * rebuilt, one window offset at a time, in the backward one.
 */
export function conv2d(x: tf.Tensor4D, w: ConvWeights, o: ConvOptions): tf.Tensor4D {
  const cin = x.shape[3];
  const [rows, cout] = w.weight.shape;
  if (rows !== o.kernel * o.kernel * cin) {
    throw new Error(
      `conv ${o.kernel}×${o.kernel}: input has ${cin} channels, weight expects ${rows / (o.kernel * o.kernel)}`,
    );
  }
  return tf.tidy(() => {
    const patchConv = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [xx, ww, save] = args as [tf.Tensor4D, tf.Tensor2D, tf.GradSaveFunc];
      save([xx, ww]);
      const value = tf.tidy(() => {
        const taps = windowTaps(xx, o);
        const cols = taps.length === 1 ? taps[0] : tf.concat(taps, 3);
        const [B, Ho, Wo] = cols.shape;
        const y = tf.matMul(tf.reshape(cols, [B * Ho * Wo, rows]) as tf.Tensor2D, ww);
        return tf.reshape(y, [B, Ho, Wo, cout]) as tf.Tensor4D;
      });
      const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() =>
          convGrads(saved[0] as tf.Tensor4D, saved[1] as tf.Tensor2D, dy as tf.Tensor4D, o),
        );
      return { value, gradFunc };
    });
    const y = patchConv(x, w.weight) as tf.Tensor4D;
    return w.bias ? (tf.add(y, w.bias) as tf.Tensor4D) : y;
  });
}

export const WEIGHT_STANDARDIZATION_EPS = 1e-5;

/**
 * StdConv2d's weight standardisation (spec §c.1): each output filter (a
 * column of the ops-layout weight) minus its mean, over √(biased variance + eps).
 */
export function standardizeWeight(w: tf.Tensor2D, eps = WEIGHT_STANDARDIZATION_EPS): tf.Tensor2D {
  return tf.tidy(() => {
    const mean = tf.mean(w, 0, true);
    const c = tf.sub(w, mean);
    const variance = tf.mean(tf.square(c), 0, true);
    return tf.mul(c, tf.rsqrt(tf.add(variance, eps))) as tf.Tensor2D;
  });
}

/** Max pooling k×k with stride and symmetric padding (padding reads as −∞, as PyTorch's). */
export function maxPool2d(x: tf.Tensor4D, o: ConvOptions): tf.Tensor4D {
  return tf.tidy(() => {
    return tf.max(tf.stack(windowTaps(x, o, -3.4e38), 4), 4) as tf.Tensor4D;
  });
}

/** Zero padding at the bottom and right, e.g. the 55 → 56 skip of spec §b (4b). */
export function zeroPadBottomRight(x: tf.Tensor4D, bottom: number, right: number): tf.Tensor4D {
  return tf.pad(x, [
    [0, 0],
    [0, bottom],
    [0, right],
    [0, 0],
  ]);
}

/**
 * The `[out, n]` matrix of 1-D linear interpolation with align_corners =
 * true: source coordinate `d·(n−1)/(out−1)` for output d.
 */
export function alignCornersMatrix(n: number, out: number): Float32Array {
  const m = new Float32Array(out * n);
  for (let d = 0; d < out; d++) {
    const src = out === 1 ? 0 : (d * (n - 1)) / (out - 1);
    const i0 = Math.min(Math.floor(src), n - 1);
    const i1 = Math.min(i0 + 1, n - 1);
    const f = src - i0;
    m[d * n + i0] += 1 - f;
    m[d * n + i1] += f;
  }
  return m;
}

/**
 * Bilinear up-sampling by `scale` with align_corners = true (PyTorch's
 * UpsamplingBilinear2d), as two matMuls with constant interpolation matrices.
 */
export function upsampleBilinear(x: tf.Tensor4D, scale = 2): tf.Tensor4D {
  return tf.tidy(() => {
    const [B, H, W, C] = x.shape;
    const Ho = H * scale;
    const Wo = W * scale;
    const ah = tf.tensor2d(alignCornersMatrix(H, Ho), [Ho, H]);
    const aw = tf.tensor2d(alignCornersMatrix(W, Wo), [Wo, W]);
    // rows: [H, B·W·C] → [Ho, B·W·C]
    const rows = tf.matMul(ah, tf.reshape(tf.transpose(x, [1, 0, 2, 3]), [H, B * W * C]));
    // cols: [W, Ho·B·C] → [Wo, Ho·B·C]
    const t = tf.transpose(tf.reshape(rows, [Ho, B, W, C]), [2, 0, 1, 3]);
    const cols = tf.matMul(aw, tf.reshape(t, [W, Ho * B * C]));
    return tf.transpose(tf.reshape(cols, [Wo, Ho, B, C]), [2, 1, 0, 3]) as tf.Tensor4D;
  });
}
