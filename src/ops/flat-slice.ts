/**
 * Slices and channel concats of any rank as slices of a view of rank ≤ 4.
 * tfjs 4.22's wasm Slice copies rows for rank ≤ 4 (and one block when the
 * slice is contiguous), but a non-contiguous slice of rank 5 goes through
 * the cpu backend's generic loop: one index conversion and two small arrays
 * per element. A depth tap of a 3D conv, `[B, od, H, W, C]` of a
 * `[B, D, H, W, C]` volume, is contiguous only at B = 1, so at 2 crops every
 * tap of every conv (and its gradient's) took that loop: a 2-crop training
 * step of swinunetr-mam-demo cost ~12× the CPU of a 1-crop one. The gradient
 * of a conv's padding (a slice of the padded gradient, `[B, 64, 64, 64, C]`
 * of `[B, 66, 66, 66, C]`) took it at any batch, and so did SplitV (the
 * gradient of a concat) and Unpack (of a stack), which slice the same way.
 */
import * as tf from '#tfjs';

/** A slice as one of a view: axes merged where the slice allows, as shape, begin and size. */
export interface FlatSlice {
  shape: number[];
  begin: number[];
  size: number[];
}

/**
 * Merges each axis into the one before it when that one is taken at a single
 * index (size 1) or this one is taken whole: the slice stays a box of the
 * merged view. `[2, 66, 66, 66, 12]` from `[0, i, 0, 0, 0]`, size
 * `[2, 64, 66, 66, 12]` becomes `[2, 66·66·66·12]`, two rows.
 */
export function flatSlice(
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
): FlatSlice {
  const out: FlatSlice = { shape: [], begin: [], size: [] };
  shape.forEach((n, a) => {
    const [b, s] = [begin[a], size[a]];
    const last = out.shape.length - 1;
    if (last >= 0 && (out.size[last] === 1 || (b === 0 && s === n))) {
      out.begin[last] = out.begin[last] * n + b;
      out.size[last] = out.size[last] === 1 ? s : out.size[last] * n;
      out.shape[last] *= n;
    } else {
      out.shape.push(n);
      out.begin.push(b);
      out.size.push(s);
    }
  });
  return out;
}

/**
 * `tf.slice(x, begin, size)` (sizes given in full, no −1) on the merged view
 * of {@link flatSlice}; its gradient is a pad of that view.
 */
export function sliceFlat<T extends tf.Tensor>(x: T, begin: number[], size: number[]): T {
  const f = flatSlice(x.shape, begin, size);
  if (f.shape.length > 4) return tf.slice(x, begin, size);
  // in a tidy: a view left behind would keep its buffer alive after the caller frees the result
  return tf.tidy(() => tf.reshape(tf.slice(tf.reshape(x, f.shape), f.begin, f.size), size) as T);
}

/**
 * `tf.concat(parts, axis)` as a concat of `[outer, n·inner]` views (axes
 * before `axis` as rows): its gradient (SplitV) then slices rank 2 tensors.
 */
export function concatFlat<T extends tf.Tensor>(parts: T[], axis: number): T {
  const shape = parts[0].shape;
  const outer = shape.slice(0, axis).reduce((p, q) => p * q, 1);
  const n = parts.reduce((sum, t) => sum + t.shape[axis], 0);
  return tf.tidy(() => {
    const flat = parts.map((t) => tf.reshape(t, [outer, t.size / outer]));
    return tf.reshape(
      tf.concat(flat, 1),
      shape.map((m, a) => (a === axis ? n : m)),
    ) as T;
  });
}

/** `tf.stack(parts, axis)` by {@link concatFlat} (its gradient, Unpack, slices the same way). */
export const stackFlat = (parts: tf.Tensor[], axis: number): tf.Tensor =>
  tf.tidy(() =>
    concatFlat(
      parts.map((t) => tf.expandDims(t, axis)),
      axis,
    ),
  );

/** `tf.pad(x, paddings)` (zeros) whose gradient is {@link sliceFlat} of the output gradient. */
export function padFlat<T extends tf.Tensor>(x: T, paddings: [number, number][]): T {
  const f = tf.customGrad(((xx: tf.Tensor) => ({
    value: tf.pad(xx, paddings),
    gradFunc: (dy: tf.Tensor) =>
      sliceFlat(
        dy,
        paddings.map(([before]) => before),
        xx.shape,
      ),
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as T;
}
