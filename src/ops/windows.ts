/**
 * Windows of Swin attention: effective window/shift, cyclic roll, window
 * partition and reverse, the shifted-window mask and the relative-position
 * bias. Grid-rank generic (`grid` is `[H, W]` or `[D, H, W]`); 2D is what is
 * tested and used. Orders follow MAM-SPEC.md §1 (as in Swin):
 *
 * - tokens of a grid are row-major (`t = r·W + c`), channels last;
 * - windows are row-major over the `(H/w)×(W/w)` window grid, tokens
 *   row-major inside a window, and the batch is the outermost index:
 *   partitioned row `(b·nW + win)·N + n`, `N = w²`.
 */
import * as tf from '#tfjs';
import { effectiveWindow, product, windowProblems, type Grid } from '../graph/geometry.ts';
import { reshapeTo } from './layers.ts';

export type { Grid };

/**
 * The effective window and shift of a block on `grid` (see
 * src/graph/geometry.ts); throws when they do not fit the grid.
 */
export function fitWindow(
  grid: Grid,
  window: number,
  shift: number,
): { window: number; shift: number } {
  const eff = effectiveWindow(grid, window, shift);
  const problems = windowProblems(grid, eff);
  if (problems.length) throw new Error(problems[0]);
  return eff;
}

/**
 * `x`, the elements of a `dims` tensor in row-major order (of any shape),
 * rolled by `shifts[i]` on `axes[i]`: each axis as the rows `[outer, n·inner]`
 * cut once and joined the other way round (each slice copies runs of
 * `k·inner` or `(n − k)·inner` elements). Returns the last rows (the rolled
 * elements, in the shape of whichever view came last).
 */
function rollRows(
  x: tf.Tensor,
  dims: readonly number[],
  shifts: readonly number[],
  axes: readonly number[],
): tf.Tensor {
  let y = x;
  axes.forEach((axis, i) => {
    const n = dims[axis];
    const k = ((shifts[i] % n) + n) % n;
    if (k === 0) return;
    const outer = product(dims.slice(0, axis));
    const inner = product(dims.slice(axis + 1));
    const rows = reshapeTo(y, [outer, n * inner]);
    const head = tf.slice(rows, [0, (n - k) * inner], [outer, k * inner]);
    const tail = tf.slice(rows, [0, 0], [outer, (n - k) * inner]);
    y = tf.concat([head, tail], 1);
  });
  return y;
}

const rollAxes = (x: tf.Tensor, shifts: readonly number[], axes: readonly number[]): tf.Tensor =>
  reshapeTo(rollRows(x, x.shape, shifts, axes), x.shape);

/**
 * `forward(x)` for a rearrangement of x's elements (a permutation: its
 * gradient is the inverse rearrangement, `inverse(dy)`), as one custom
 * gradient: one node on the tape, nothing saved, and the kernels of both
 * directions off the tape (recorded there, each reshape would save its input
 * and add one more to the backward pass).
 */
function rearrange<T extends tf.Tensor>(
  x: tf.Tensor,
  forward: (t: tf.Tensor) => tf.Tensor,
  inverse: (dy: tf.Tensor) => tf.Tensor,
): T {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: forward(args[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => tf.tidy(() => inverse(dy)),
  }));
  return tf.tidy(() => op(x) as T);
}

/**
 * Cyclic roll with torch.roll semantics on the given axes:
 * `out[i] = x[(i − k) mod n]` (so `k = −s` moves element `s` to index 0).
 * Built from slice + concat (tfjs has no roll kernel); its gradient is the
 * roll back (autodiff would pad each slice's gradient to full size and add).
 */
export function roll<T extends tf.Tensor>(
  x: T,
  shifts: readonly number[],
  axes: readonly number[],
): T {
  if (axes.every((axis, i) => shifts[i] % x.shape[axis] === 0)) return tf.clone(x);
  const back = shifts.map((s) => -s);
  return rearrange(
    x,
    (t) => rollAxes(t, shifts, axes),
    (dy) => rollAxes(dy, back, axes),
  );
}

/** The grid axes of a `[B, ...grid, C]` tensor of rank `rank`. */
const gridAxes = (rank: number): number[] => Array.from({ length: rank - 2 }, (_, i) => i + 1);

/** Rolls the grid axes of `[B, ...grid, C]` by `shift` on every axis (torch.roll semantics). */
export function rollGrid<T extends tf.Tensor>(x: T, shift: number): T {
  const axes = gridAxes(x.rank);
  return roll(
    x,
    axes.map(() => shift),
    axes,
  );
}

/**
 * `x`, the elements of a `[B, ...grid, C]` tensor `dims` in row-major order
 * (of any shape), partitioned into windows `[B·nW, w^k, C]`.
 */
function partitionOf(x: tf.Tensor, dims: readonly number[], w: number): tf.Tensor3D {
  const B = dims[0];
  const C = dims[dims.length - 1];
  const grid = dims.slice(1, -1);
  const k = grid.length;
  const split: number[] = [B];
  for (const n of grid) split.push(n / w, w);
  split.push(C);
  // axes of split: 0 = B, 1 + 2a = window index on axis a, 2 + 2a = offset on axis a
  const perm = [0, ...grid.map((_, a) => 1 + 2 * a), ...grid.map((_, a) => 2 + 2 * a), 2 * k + 1];
  const t = tf.transpose(tf.reshape(x, split), perm);
  return tf.reshape(t, [-1, w ** k, C]) as tf.Tensor3D;
}

/**
 * `[B, ...grid, C]` → `[B·nW, w^k, C]` (k = grid rank): windows row-major over
 * the window grid, tokens row-major in a window, batch outermost.
 */
export function windowPartition(x: tf.Tensor, w: number): tf.Tensor3D {
  return tf.tidy(() => partitionOf(x, x.shape, w));
}

/**
 * Windows `[B·nW, w^k, C]` back on the grid: the elements of `[B, ...grid, C]`
 * in row-major order (the shape is the last transpose's).
 */
function reverseOf(windows: tf.Tensor, w: number, grid: Grid): tf.Tensor {
  const k = grid.length;
  const C = windows.shape[windows.rank - 1];
  const nW = product(grid.map((n) => n / w));
  const B = windows.shape[0] / nW;
  const split = [B, ...grid.map((n) => n / w), ...grid.map(() => w), C];
  // inverse of the partition permutation: interleave (window index, offset) per axis
  const perm = [0];
  for (let a = 0; a < k; a++) perm.push(1 + a, 1 + k + a);
  perm.push(2 * k + 1);
  return tf.transpose(tf.reshape(windows, split), perm);
}

/** Inverse of {@link windowPartition}: `[B·nW, w^k, C]` → `[B, ...grid, C]`. */
export function windowReverse(windows: tf.Tensor, w: number, grid: Grid): tf.Tensor {
  return tf.tidy(() => {
    const C = windows.shape[windows.rank - 1];
    const B = windows.shape[0] / product(grid.map((n) => n / w));
    return tf.reshape(reverseOf(windows, w, grid), [B, ...grid, C]);
  });
}

/** The elements of `x` (as `dims`, `[B, ...grid, C]`) rolled by `shift` on every grid axis. */
const rollGridRows = (x: tf.Tensor, dims: readonly number[], shift: number): tf.Tensor => {
  const axes = gridAxes(dims.length);
  return rollRows(
    x,
    dims,
    axes.map(() => shift),
    axes,
  );
};

/**
 * Tokens `[B, L, C]` on `grid` → partitioned windows after rolling by
 * `−shift`, as kernels: the tokens are already the grid's elements in order,
 * so each step reshapes only to the view it needs.
 */
function partitionTokens(x: tf.Tensor3D, grid: Grid, w: number, shift: number): tf.Tensor3D {
  const [B, , C] = x.shape;
  const dims = [B, ...grid, C];
  return partitionOf(shift !== 0 ? rollGridRows(x, dims, -shift) : x, dims, w);
}

/** Inverse of {@link partitionTokens}: windows → grid, roll by `+shift`, → `[B, L, C]`. */
function reverseToTokens(xw: tf.Tensor3D, grid: Grid, w: number, shift: number): tf.Tensor3D {
  const C = xw.shape[2];
  const B = xw.shape[0] / product(grid.map((n) => n / w));
  const g = reverseOf(xw, w, grid);
  const rolled = shift !== 0 ? rollGridRows(g, [B, ...grid, C], shift) : g;
  return tf.reshape(rolled, [B, product(grid), C]) as tf.Tensor3D;
}

/**
 * Tokens `[B, L, C]` on `grid` → partitioned windows after rolling by
 * `−shift` (one node on the tape: its gradient is {@link windowsToTokens}).
 */
export function tokensToWindows(x: tf.Tensor3D, grid: Grid, w: number, shift: number): tf.Tensor3D {
  return rearrange(
    x,
    (t) => partitionTokens(t as tf.Tensor3D, grid, w, shift),
    (dy) => reverseToTokens(dy as tf.Tensor3D, grid, w, shift),
  );
}

/** Inverse of {@link tokensToWindows}: windows → grid, roll by `+shift`, → `[B, L, C]`. */
export function windowsToTokens(
  xw: tf.Tensor3D,
  grid: Grid,
  w: number,
  shift: number,
): tf.Tensor3D {
  return rearrange(
    xw,
    (t) => reverseToTokens(t as tf.Tensor3D, grid, w, shift),
    (dy) => partitionTokens(dy as tf.Tensor3D, grid, w, shift),
  );
}

/**
 * Shift-mask values, `[nW, N, N]` row-major: label every position of the
 * rolled grid by its region (per axis `[0, n−w)`, `[n−w, n−s)`, `[n−s, n)`),
 * then `mask[win, i, j] = −100` where tokens i, j of window `win` have
 * different labels, else 0. Returns null when `shift` is 0 (no mask).
 */
export function shiftMaskData(grid: Grid, w: number, shift: number): Float32Array | null {
  if (shift === 0) return null;
  const k = grid.length;
  const N = w ** k;
  const wg = grid.map((n) => n / w);
  const nW = product(wg);
  const region = (p: number, n: number): number => (p < n - w ? 0 : p < n - shift ? 1 : 2);
  const out = new Float32Array(nW * N * N);
  const labels = new Int32Array(N);
  const wi = new Array<number>(k).fill(0);
  const off = new Array<number>(k).fill(0);
  for (let win = 0; win < nW; win++) {
    // window coordinates, row-major over the window grid
    for (let a = k - 1, r = win; a >= 0; a--) {
      wi[a] = r % wg[a];
      r = Math.floor(r / wg[a]);
    }
    for (let n = 0; n < N; n++) {
      for (let a = k - 1, r = n; a >= 0; a--) {
        off[a] = r % w;
        r = Math.floor(r / w);
      }
      let label = 0;
      for (let a = 0; a < k; a++) label = label * 3 + region(wi[a] * w + off[a], grid[a]);
      labels[n] = label;
    }
    const base = win * N * N;
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) out[base + i * N + j] = labels[i] === labels[j] ? 0 : -100;
    }
  }
  return out;
}

/**
 * Relative-position index `[N·N]` of a window of `w^k` tokens: for 2D,
 * `(r_i − r_j + w − 1)·(2w − 1) + (c_i − c_j + w − 1)`; in general the
 * offsets (shifted by `w − 1`) read as mixed-radix digits of base `2w − 1`.
 */
export function relativePositionIndex(w: number, k = 2): Int32Array {
  const N = w ** k;
  const out = new Int32Array(N * N);
  const ci = new Array<number>(k);
  const cj = new Array<number>(k);
  const coords = (n: number, c: number[]): void => {
    for (let a = k - 1, r = n; a >= 0; a--) {
      c[a] = r % w;
      r = Math.floor(r / w);
    }
  };
  for (let i = 0; i < N; i++) {
    coords(i, ci);
    for (let j = 0; j < N; j++) {
      coords(j, cj);
      let idx = 0;
      for (let a = 0; a < k; a++) idx = idx * (2 * w - 1) + (ci[a] - cj[a] + w - 1);
      out[i * N + j] = idx;
    }
  }
  return out;
}

const oneHotCache = new Map<string, Float32Array>();

/** The constant one-hot matrix `[N·N, (2w−1)^k]` with a 1 at each pair's bias index (cached). */
export function relativeBiasOneHotData(w: number, k = 2): Float32Array {
  const key = `${w}:${k}`;
  let data = oneHotCache.get(key);
  if (!data) {
    const index = relativePositionIndex(w, k);
    const T = (2 * w - 1) ** k;
    data = new Float32Array(index.length * T);
    index.forEach((idx, p) => (data![p * T + idx] = 1));
    oneHotCache.set(key, data);
  }
  return data;
}

/**
 * Keeps constant tensors (masks, index matrices) by key: `make` runs on the
 * first use of a key and the tensor is kept, for the life of a compiled model
 * (see CompiledModel), instead of being built on every step.
 */
export type ConstantCache = <T extends tf.Tensor>(key: string, make: () => T) => T;

/** No cache: every constant is built where it is used (and released with its tidy scope). */
export const buildEachTime: ConstantCache = (_key, make) => make();

/** The one-hot matrix of {@link relativeBiasOneHotData} as a tensor `[N·N, (2w−1)^k]`, from `constants`. */
export function relativeBiasOneHot(w: number, k = 2, constants = buildEachTime): tf.Tensor2D {
  return constants(`relative-bias-one-hot:${w}:${k}`, () =>
    tf.tensor2d(relativeBiasOneHotData(w, k), [w ** (2 * k), (2 * w - 1) ** k]),
  );
}

/**
 * The transpose of {@link relativeBiasOneHot}, `[(2w−1)^k, N·N]`, from
 * `constants`: the bias's gradient reads it on every step, so it is built
 * once from the index (wasm moved the `[2401, 169]` one-hot element by
 * element on every call when the product's gradient transposed it).
 */
export function relativeBiasOneHotT(w: number, k = 2, constants = buildEachTime): tf.Tensor2D {
  return constants(`relative-bias-one-hot-t:${w}:${k}`, () => {
    const index = relativePositionIndex(w, k);
    const data = new Float32Array(index.length * (2 * w - 1) ** k);
    index.forEach((idx, p) => (data[idx * index.length + p] = 1));
    return tf.tensor2d(data, [(2 * w - 1) ** k, index.length]);
  });
}

/** The shift mask of {@link shiftMaskData} as a tensor `[nW, N, N]` (null for shift 0), from `constants`. */
export function shiftMask(
  grid: Grid,
  w: number,
  shift: number,
  constants = buildEachTime,
): tf.Tensor3D | null {
  if (shift === 0) return null;
  return constants(`shift-mask:${grid.join('x')}:${w}:${shift}`, () => {
    const data = shiftMaskData(grid, w, shift)!;
    const N = w ** grid.length;
    return tf.tensor3d(data, [data.length / (N * N), N, N]);
  });
}

/**
 * Relative-position bias `[h, N, N]` from its table `[(2w−1)^k, h]`, computed
 * as one-hot · table (a matMul) so that the table has gradients on every
 * backend (gather's gradient is missing on wasm). The gradient is
 * one-hotᵀ · dBiasᵀ with the transposed one-hot a constant too: only the
 * small `[h, N·N]` bias and its gradient are transposed.
 */
export function relativePositionBias(
  table: tf.Tensor2D,
  w: number,
  k = 2,
  constants = buildEachTime,
): tf.Tensor3D {
  const T = (2 * w - 1) ** k;
  const [rows, h] = table.shape;
  if (rows !== T) throw new Error(`bias table has ${rows} rows, window ${w} needs ${T}`);
  const N = w ** k;
  const bias = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.tidy(() => {
      const perPair = tf.matMul(relativeBiasOneHot(w, k, constants), args[0] as tf.Tensor2D);
      return tf.reshape(tf.transpose(perPair, [1, 0]), [h, N, N]);
    }),
    gradFunc: (dy: tf.Tensor) =>
      tf.tidy(() =>
        tf.matMul(
          relativeBiasOneHotT(w, k, constants),
          tf.transpose(tf.reshape(dy, [h, N * N]), [1, 0]),
        ),
      ),
  }));
  return tf.tidy(() => bias(table) as tf.Tensor3D);
}
