/**
 * Volume ops of SwinUNETR and nnFormer (3D-MAM-SPEC.md §c) on tfjs.
 * Volumes are channels-last `[B, D, H, W, C]`. Every op here has forward and
 * gradient kernels on webgpu, webgl, wasm and cpu: conv3d and its two
 * backprop kernels, pad, slice, concat, reshape, transpose (rank ≤ 5, as the
 * wasm kernel needs), matMul, reductions.
 */
import * as tf from '#tfjs';
import type { LinearIndex3d, Triple } from '../graph/geometry3d.ts';
import { concatFlat, padFlat, sliceFlat, stackFlat } from './flat-slice.ts';
import { roll } from './windows.ts';
import { tapeActive } from './tape.ts';

export type Vol = tf.Tensor5D;

export interface Conv3dOptions {
  stride?: Triple;
  /** Zeros before and after on each axis, as PyTorch's `padding` (not TF's 'same'). */
  padding?: Triple;
}

/**
 * Unpadded conv3d whose input gradient is a forward conv3d of the dilated,
 * padded output gradient with the flipped filter: tfjs 4.22's wasm
 * Conv3DBackpropInputV2 returns wrong values (zeros at stride 2) and its
 * Conv3DBackpropFilterV2 too for a non-uniform output gradient, while its
 * Conv3D agrees with cpu (ops-vol3d.test.ts); the filter gradient is
 * matmuls of strided input taps with the output gradient.
 */
export function conv3dValid(x: Vol, w: tf.Tensor5D, strides: Triple): Vol {
  const f = tf.customGrad(((xx: tf.Tensor, ww: tf.Tensor, save: tf.GradSaveFunc) => {
    save([xx, ww]);
    return {
      value: conv3dByPlanes(xx as Vol, ww as tf.Tensor5D, strides),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [Vol, tf.Tensor5D];
        const dx = conv3dInputGrad(dy as Vol, ws, strides, xs.shape);
        const dw = conv3dFilterGrad(xs, dy as Vol, ws.shape, strides);
        return [dx, dw];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x, w) as Vol;
}

/**
 * A valid conv3d as a sum over the kD depth taps of conv2d on the depth
 * planes: tfjs 4.22's wasm Conv3D is a plain loop (20 s for a 64³×24 → 12
 * 3³ conv on this machine) while its Conv2D runs on XNNPACK (0.7 s). Only
 * the forward kernel of conv2d is used: gradients are conv3dValid's own.
 */
function conv3dByPlanes(x: Vol, w: tf.Tensor5D, strides: Triple): Vol {
  return tf.tidy(() => {
    const [B, D, H, W, C] = x.shape;
    const [kd, kh, kw, cin, cout] = w.shape;
    const od = Math.floor((D - kd) / strides[0]) + 1;
    let acc: tf.Tensor4D | undefined;
    for (let i = 0; i < kd; i++) {
      const planes =
        strides[0] === 1
          ? sliceFlat(x, [0, i, 0, 0, 0], [B, od, H, W, C])
          : strided3d(x, [i, 0, 0], [strides[0], 1, 1], [od, H, W]);
      const wi = tf.reshape(sliceFlat(w, [i, 0, 0, 0, 0], [1, kh, kw, cin, cout]), [
        kh,
        kw,
        cin,
        cout,
      ]) as tf.Tensor4D;
      const flat = tf.reshape(planes, [B * od, H, W, C]) as tf.Tensor4D;
      const y = tf.conv2d(flat, wi, [strides[1], strides[2]], 'valid');
      const sum = acc ? (tf.add(acc, y) as tf.Tensor4D) : y;
      // without a tape each tap's planes and partial sums are dead once added: at
      // 96³ × 96 channels a tap's planes are 337 MiB, and kD of them stayed
      if (!tapeActive())
        tf.dispose([...(planes !== x ? [planes, flat] : []), ...(acc ? [acc, y] : [])]);
      acc = sum;
    }
    const [, oh, ow] = acc!.shape;
    return tf.reshape(acc!, [B, od, oh, ow, cout]) as Vol;
  });
}

/**
 * x[:, b + s·i, …] for i < count on each spatial axis, by slice + reshape (no
 * stridedSlice), on rank-3/4 views of one axis at a time: tfjs 4.22's wasm
 * Slice is slow on rank 5.
 */
function strided3d(x: Vol, begin: Triple, stride: Triple, count: Triple): Vol {
  let y = x;
  for (let a = 0; a < 3; a++) {
    const [b, s, n] = [begin[a], stride[a], count[a]];
    const shape = y.shape;
    if (b === 0 && s === 1 && n === shape[a + 1]) continue;
    const pre = shape.slice(0, a + 1).reduce((p, q) => p * q, 1);
    const post = shape.slice(a + 2).reduce((p, q) => p * q, 1);
    // take s·n entries from b, padding the end when the last stride runs past the axis
    const take = Math.min(shape[a + 1] - b, s * n);
    let part = tf.slice(tf.reshape(y, [pre, shape[a + 1], post]), [0, b, 0], [pre, take, post]);
    if (take < s * n)
      part = tf.pad(part, [
        [0, 0],
        [0, s * n - take],
        [0, 0],
      ]);
    const picked =
      s === 1 ? part : tf.slice(tf.reshape(part, [pre, n, s, post]), 0, [pre, n, 1, post]);
    y = tf.reshape(
      picked,
      shape.map((m, i) => (i === a + 1 ? n : m)) as [number, number, number, number, number],
    );
  }
  return y;
}

/**
 * d(conv3d_valid)/dW, per depth tap i a forward conv2d with batch and channels
 * swapped: dW[i, j, l, c, o] = Σ_(b,z,y,x) x[b, s·z + i, s·y + j, s·x + l, c] · dy[b, z, y, x, o]
 * is the correlation of the input planes (channels as the batch, the (b, z)
 * planes as channels) with dy (as a filter of (b, z) → o), dilated by the
 * stride. wasm has no Conv2DBackpropFilter; its Conv2D forward runs on XNNPACK.
 */
function conv3dFilterGrad(
  x: Vol,
  dy: Vol,
  wShape: [number, number, number, number, number],
  strides: Triple,
): tf.Tensor5D {
  return tf.tidy(() => {
    const [kd, kh, kw, cin, cout] = wShape;
    const [B, od, oh, ow] = dy.shape;
    const [, , H, W] = x.shape;
    const filter = tf.transpose(
      tf.reshape(dy, [B * od, oh, ow, cout]),
      [1, 2, 0, 3],
    ) as tf.Tensor4D;
    const taps: tf.Tensor[] = [];
    for (let i = 0; i < kd; i++)
      taps.push(
        tf.tidy(() => {
          const planes =
            strides[0] === 1 && od === x.shape[1] - kd + 1
              ? sliceFlat(x, [0, i, 0, 0, 0], [B, od, H, W, cin])
              : strided3d(x, [i, 0, 0], [strides[0], 1, 1], [od, H, W]);
          const input = tf.transpose(tf.reshape(planes, [B * od, H, W, cin]), [3, 1, 2, 0]);
          const g = tf.conv2d(input as tf.Tensor4D, filter, 1, 'valid', 'NHWC', [
            strides[1],
            strides[2],
          ]); // [cin, ≥kh, ≥kw, cout]
          return tf.slice(g, [0, 0, 0, 0], [cin, kh, kw, cout]);
        }),
      );
    // [kd][cin, kh, kw, cout] → [kd, kh, kw, cin, cout]
    return tf.transpose(tf.stack(taps), [0, 2, 3, 1, 4]) as tf.Tensor5D;
  });
}

/** d(conv3d_valid)/dx as a forward conv3d (full correlation with the flipped filter). */
function conv3dInputGrad(
  dy: Vol,
  w: tf.Tensor5D,
  strides: Triple,
  xShape: [number, number, number, number, number],
): Vol {
  return tf.tidy(() => {
    const [kd, kh, kw] = w.shape;
    let d = dy;
    for (let a = 0; a < 3; a++) {
      const s = strides[a];
      if (s === 1) continue;
      const zeros = tf.zerosLike(d);
      const parts = [d, ...Array.from({ length: s - 1 }, () => zeros)];
      const dil = interleave(parts, (a + 1) as 1 | 2 | 3);
      const size = dil.shape.map((n, i) => (i === a + 1 ? s * (d.shape[a + 1] - 1) + 1 : n));
      d = sliceFlat(dil, [0, 0, 0, 0, 0], size);
    }
    const full = tf.pad(d, [
      [0, 0],
      [kd - 1, kd - 1],
      [kh - 1, kh - 1],
      [kw - 1, kw - 1],
      [0, 0],
    ]);
    const flipped = tf.transpose(tf.reverse(w, [0, 1, 2]), [0, 1, 2, 4, 3]);
    const g = conv3dByPlanes(full as Vol, flipped as tf.Tensor5D, [1, 1, 1]);
    // rows of x past the last window get no gradient
    return tf.pad(g, [
      [0, 0],
      ...[0, 1, 2].map((a): [number, number] => [0, xShape[a + 1] - g.shape[a + 1]]),
      [0, 0],
    ]) as Vol;
  });
}

/**
 * Conv3d with explicit symmetric padding. Weight in tfjs's layout
 * `[kD, kH, kW, Cin, Cout]` (PyTorch's `(Cout, Cin, kD, kH, kW)` permuted
 * (2,3,4,1,0)).
 */
export function conv3d(
  x: Vol,
  weight: tf.Tensor5D,
  bias?: tf.Tensor1D,
  o: Conv3dOptions = {},
): Vol {
  return tf.tidy(() => {
    const [pd, ph, pw] = o.padding ?? [0, 0, 0];
    const padded =
      pd || ph || pw
        ? padFlat(x, [
            [0, 0],
            [pd, pd],
            [ph, ph],
            [pw, pw],
            [0, 0],
          ])
        : x;
    const y = conv3dValid(padded, weight, o.stride ?? [1, 1, 1]);
    return bias ? tf.add(y, bias) : y;
  });
}

/**
 * Interleaves `parts[a]` (each `[B, D, H, W, C]`) along `axis` (1..3):
 * output index k·i + a holds parts[a] at i. Stack on the axis after, then merge.
 */
function interleave(parts: Vol[], axis: 1 | 2 | 3): Vol {
  if (parts.length === 1) return parts[0];
  const s = tf.stack(parts, axis + 1);
  const shape = [...parts[0].shape] as number[];
  shape[axis] *= parts.length;
  return tf.reshape(s, shape as [number, number, number, number, number]);
}

/**
 * Transposed conv3d with kernel = stride (no overlap, §c.11): one matmul of
 * the input with W as `[Cin, (kD, kH, kW, Cout)]`, then the k-offsets moved
 * beside their axes by two rank-4 transposes (depth-to-space). Weight as
 * PyTorch stores it, `(Cin, Cout, kD, kH, kW)`.
 */
export function convTranspose3d(x: Vol, weight: tf.Tensor5D, bias?: tf.Tensor1D): Vol {
  return tf.tidy(() => {
    const [B, D, H, W, Cin] = x.shape;
    const [, Cout, kd, kh, kw] = weight.shape;
    const w = tf.reshape(tf.transpose(weight, [0, 2, 3, 4, 1]), [Cin, kd * kh * kw * Cout]);
    const y = tf.matMul(tf.reshape(x, [B * D * H * W, Cin]), w); // (b,d,h,w) × (a,e,c,o)
    // (b·d, h·w, a, e·c·o) → (b·d, a, h·w, e·c·o)
    const s1 = tf.transpose(tf.reshape(y, [B * D, H * W, kd, kh * kw * Cout]), [0, 2, 1, 3]);
    // (b·d·a·h, w, e, c·o) → (b·d·a·h, e, w, c·o)
    const s2 = tf.transpose(tf.reshape(s1, [B * D * kd * H, W, kh, kw * Cout]), [0, 2, 1, 3]);
    const out = tf.reshape(s2, [B, D * kd, H * kh, W * kw, Cout]) as Vol;
    return bias ? tf.add(out, bias) : out;
  });
}

/**
 * The mean over D, H and W, one axis at a time (W, then H, then D): each float32 sum then runs
 * over one side instead of all D·H·W voxels at once, whose one long running sum (tfjs wasm's
 * reduction) drifted 6e-5 relative in an instance norm at 64³ (ops-vol3d.test.ts).
 */
const spatialMean = (x: tf.Tensor): tf.Tensor =>
  tf.mean(tf.mean(tf.mean(x, 3, true), 2, true), 1, true);

/**
 * InstanceNorm3d without affine: per sample and channel over D·H·W, biased variance. The
 * mean is refined once (m + mean(x − m)): the sums of the rounded first mean's residuals are
 * small, so a large offset of the data (mean ≫ spread) costs no accuracy; the variance is
 * the mean of the squared residuals (two passes). Its gradient keeps only x̂ and 1/σ:
 * dx = (dy − mean(dy) − x̂·mean(dy·x̂))/σ, with the same per-axis means.
 */
export function instanceNorm3d(x: Vol, eps = 1e-5): Vol {
  const norm = tf.customGrad(((xx: tf.Tensor, save: tf.GradSaveFunc) => {
    const first = spatialMean(xx);
    const centred = tf.sub(xx, tf.add(first, spatialMean(tf.sub(xx, first))));
    const rstd = tf.rsqrt(tf.add(spatialMean(tf.square(centred)), eps));
    const xhat = tf.mul(centred, rstd);
    save([xhat, rstd]);
    return {
      value: xhat,
      gradFunc: (dy: tf.Tensor, [xh, rs]: tf.Tensor[]) =>
        tf.tidy(() => {
          const gx = spatialMean(tf.mul(dy, xh));
          return tf.mul(tf.sub(tf.sub(dy, spatialMean(dy)), tf.mul(xh, gx)), rs);
        }),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return norm(x) as Vol;
}

/** LeakyReLU as max(x, αx) for 0 ≤ α ≤ 1 (gradient 1 or α). */
export const leakyRelu = (x: tf.Tensor, alpha = 0.01): tf.Tensor =>
  tf.tidy(() => tf.maximum(x, tf.mul(x, alpha)));

/** Zero-pads the end of axes D, H, W to `padded`. */
export function padEnd3d(x: Vol, padded: Triple): Vol {
  const [, D, H, W] = x.shape;
  if (D === padded[0] && H === padded[1] && W === padded[2]) return x;
  return padFlat(x, [
    [0, 0],
    [0, padded[0] - D],
    [0, padded[1] - H],
    [0, padded[2] - W],
    [0, 0],
  ]);
}

/**
 * Roll by −shift on each spatial axis: u′[p] = u[(p + s) mod P] (`sign` −1),
 * or back (+1); windows.ts's roll (each axis as one cut of a rank-2 view, the
 * gradient the roll back).
 */
export function roll3d(x: Vol, shift: Triple, sign: 1 | -1): Vol {
  return roll(
    x,
    shift.map((s) => sign * s),
    [1, 2, 3],
  );
}

/**
 * Window partition (§c.3): `[B, Pd, Ph, Pw, C]` → `[B·nW, a·b·c, C]`, windows
 * ordered (batch, D-block, H-block, W-block), tokens (d, h, w) row-major.
 * Two rank-≤5 transposes instead of one rank-8 one.
 */
export function windowPartition3d(x: Vol, window: Triple): tf.Tensor3D {
  const [B, Pd, Ph, Pw, C] = x.shape;
  const [a, b, c] = window;
  // one voxel a window (a 1³ conv's patches): the order is the volume's own, no copy
  if (a * b * c === 1) return tf.reshape(x, [B * Pd * Ph * Pw, 1, C]);
  const [nd, nh, nw] = [Pd / a, Ph / b, Pw / c];
  const s1 = tf.transpose(tf.reshape(x, [B * nd, a, nh, b * Pw * C]), [0, 2, 1, 3]);
  const s2 = tf.transpose(tf.reshape(s1, [B * nd * nh, a * b, nw, c, C]), [0, 2, 1, 3, 4]);
  return tf.reshape(s2, [B * nd * nh * nw, a * b * c, C]);
}

/** The inverse of {@link windowPartition3d} onto the padded grid `padded`. */
export function windowReverse3d(w: tf.Tensor, window: Triple, padded: Triple, B: number): Vol {
  const [a, b, c] = window;
  const [Pd, Ph, Pw] = padded;
  const [nd, nh, nw] = [Pd / a, Ph / b, Pw / c];
  const C = w.shape[w.shape.length - 1];
  const s2 = tf.transpose(tf.reshape(w, [B * nd * nh, nw, a * b, c, C]), [0, 2, 1, 3, 4]);
  const s1 = tf.transpose(tf.reshape(s2, [B * nd, nh, a, b * Pw * C]), [0, 2, 1, 3]);
  return tf.reshape(s1, [B, Pd, Ph, Pw, C]);
}

/**
 * The relative-position bias `[heads, N, N]` of a linear index rule
 * (geometry3d.ts) from the table `[rows, heads]`, with gradients on every
 * backend and without the N²×rows one-hot matrix: with q_i = Σ stride·p_i and
 * K = max q, Bias[i,j] = T[q_i + (K − q_j)]. Rows M[i, t] = T[q_i + t] come
 * from 3 rounds of slices (one per axis, w slices each); the key columns
 * K − q_j are picked by a one-hot [K+1, N] matmul.
 */
export function relativeBias3d(table: tf.Tensor2D, ix: LinearIndex3d): tf.Tensor3D {
  return tf.tidy(() => {
    const heads = table.shape[1];
    const [a, b, c] = ix.window;
    const [sd, sh] = ix.strides;
    const K = sd * (a - 1) + sh * (b - 1) + (c - 1);
    const N = a * b * c;
    const lenW = K + 1;
    const lenH = lenW + (c - 1);
    const lenD = lenH + sh * (b - 1);
    // M[pd] = T[sd·pd : +lenD] → [a, lenD, h]
    const rounds1 = [];
    for (let p = 0; p < a; p++) rounds1.push(tf.slice(table, [sd * p, 0], [lenD, heads]));
    const m1 = stackFlat(rounds1, 0); // [a, lenD, h]
    const rounds2 = [];
    for (let p = 0; p < b; p++) rounds2.push(tf.slice(m1, [0, sh * p, 0], [a, lenH, heads]));
    const m2 = stackFlat(rounds2, 1); // [a, b, lenH, h]
    const rounds3 = [];
    for (let p = 0; p < c; p++) rounds3.push(tf.slice(m2, [0, 0, p, 0], [a, b, lenW, heads]));
    const m3 = tf.reshape(stackFlat(rounds3, 2), [N, lenW, heads]); // token i = (pd, ph, pw)
    const rows = tf.reshape(tf.transpose(m3, [2, 0, 1]), [heads * N, lenW]);
    // Column K − q_j of rows, reversed, is column q_j = sd·pd + sh·ph + pw.
    // Nested strides (SwinUNETR's 169, 13, 1): pad, reshape and slice per axis.
    if (sd % sh === 0 && sh >= c && sd >= sh * (b - 1) + c) {
      const rev = tf.pad(tf.reverse(rows, 1), [
        [0, 0],
        [0, a * sd - lenW],
      ]);
      const byD = tf.slice(tf.reshape(rev, [heads * N, a, sd]), [0, 0, 0], [heads * N, a, sh * b]);
      const byH = tf.slice(tf.reshape(byD, [heads * N, a, b, sh]), 0, [heads * N, a, b, c]);
      return tf.reshape(byH, [heads, N, N]);
    }
    // Otherwise (nnFormer's 3w−1, 2w−1, 1; K + 1 ≤ 146): a one-hot [K+1, N] matmul.
    const pick = new Float32Array(lenW * N);
    for (let j = 0; j < N; j++) {
      const qj = sd * Math.floor(j / (b * c)) + sh * (Math.floor(j / c) % b) + (j % c);
      pick[(K - qj) * N + j] = 1;
    }
    const bias = tf.matMul(rows, tf.tensor2d(pick, [lenW, N]));
    return tf.reshape(bias, [heads, N, N]);
  });
}

/** The order in which 3D patch merging concatenates the 8 sub-grids y[a::2, b::2, c::2]. */
export type MergeOrder = 'monai-0.9' | 'all-eight';

/**
 * `monai-0.9`: SwinUNETR's reference (MONAI ≤ 1.4, §c.8): (0,1,0) and (0,0,1)
 * twice, (1,1,0) and (0,1,1) never. `all-eight`: MONAI ≥ 1.5's `PatchMerging`
 * (SwinUNETR's default `downsample="merging"` since the fix), which sees every
 * neighbour: (1,1,0), (1,0,1), (0,1,1) after the three single offsets.
 */
export const MERGE_OFFSETS: Record<MergeOrder, readonly Triple[]> = {
  'monai-0.9': [
    [0, 0, 0],
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
    [1, 0, 1],
    [0, 1, 0],
    [0, 0, 1],
    [1, 1, 1],
  ],
  'all-eight': [
    [0, 0, 0],
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
    [1, 1, 0],
    [1, 0, 1],
    [0, 1, 1],
    [1, 1, 1],
  ],
};

/** y[:, a::2, b::2, c::2, :] of an even-sided volume, by reshape + slice (no stridedSlice). */
function subGrid(y: Vol, [a, b, c]: Triple): Vol {
  const [B, D, H, W, C] = y.shape;
  const [d2, h2, w2] = [D / 2, H / 2, W / 2];
  const byD = tf.slice(tf.reshape(y, [B * d2, 2, H * W * C]), [0, a, 0], [B * d2, 1, H * W * C]);
  const byH = tf.slice(
    tf.reshape(byD, [B * d2 * h2, 2, W * C]),
    [0, b, 0],
    [B * d2 * h2, 1, W * C],
  );
  const byW = tf.slice(
    tf.reshape(byH, [B * d2 * h2 * w2, 2, C]),
    [0, c, 0],
    [B * d2 * h2 * w2, 1, C],
  );
  return tf.reshape(byW, [B, d2, h2, w2, C]);
}

/**
 * The 8C concatenation of 3D patch merging before its norm and reduction:
 * odd axes zero-padded at their end, sub-grids in `order`.
 */
export function mergeGather3d(x: Vol, order: MergeOrder): Vol {
  return tf.tidy(() => {
    const [, D, H, W] = x.shape;
    const y = padEnd3d(x, [D + (D % 2), H + (H % 2), W + (W % 2)]);
    return concatFlat(
      MERGE_OFFSETS[order].map((o) => subGrid(y, o)),
      4,
    );
  });
}

/**
 * The shift-mask region of every token of every window `[nW·N]`, windows
 * and tokens in windowPartition3d's order, from the padded grid's regions
 * (geometry3d.ts shiftRegions3d). Small (one int a padded voxel); the mask
 * itself, nW·N² floats, is made per slice of windows by {@link shiftMaskSlice3d}.
 */
export function windowRegions3d(regions: Int32Array, padded: Triple, window: Triple): Int32Array {
  const [a, b, c] = window;
  const [nd, nh, nw] = [padded[0] / a, padded[1] / b, padded[2] / c];
  const N = a * b * c;
  const ids = new Int32Array(nd * nh * nw * N);
  for (let wd = 0, w = 0; wd < nd; wd++)
    for (let wh = 0; wh < nh; wh++)
      for (let ww = 0; ww < nw; ww++, w++)
        for (let t = 0; t < N; t++) {
          const z = wd * a + Math.floor(t / (b * c));
          const y = wh * b + (Math.floor(t / c) % b);
          const x = ww * c + (t % c);
          ids[w * N + t] = regions[(z * padded[1] + y) * padded[2] + x];
        }
  return ids;
}

/**
 * The −100 / 0 shift mask `[count, N, N]` of windows `first … first+count−1`
 * (§c.3), as a constant built in JS (it has no gradient); undefined when none
 * of them mixes regions (adding it would change nothing).
 */
export function shiftMaskSlice3d(
  ids: Int32Array,
  N: number,
  first: number,
  count: number,
): tf.Tensor3D | undefined {
  const mask = new Float32Array(count * N * N);
  let mixed = false;
  for (let w = 0; w < count; w++) {
    const id = ids.subarray((first + w) * N, (first + w + 1) * N);
    if (id.every((r) => r === id[0])) continue;
    mixed = true;
    for (let i = 0; i < N; i++)
      for (let j = 0; j < N; j++) if (id[i] !== id[j]) mask[(w * N + i) * N + j] = -100;
  }
  return mixed ? tf.tensor3d(mask, [count, N, N]) : undefined;
}

/** The whole −100 / 0 shift mask `[nW, N, N]` of a padded grid (§c.3). */
export function shiftMask3d(regions: Int32Array, padded: Triple, window: Triple): tf.Tensor3D {
  const N = window[0] * window[1] * window[2];
  const ids = windowRegions3d(regions, padded, window);
  const nW = ids.length / N;
  return shiftMaskSlice3d(ids, N, 0, nW) ?? tf.zeros([nW, N, N]);
}
