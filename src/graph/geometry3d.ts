/**
 * Window geometry of the 3D transformers (3D-MAM-SPEC.md §c.3–c.4): per-axis
 * windows and shifts, padding, the shift-mask region ids and the linear
 * relative-position index rules of SwinUNETR and nnFormer. Pure: no tensor
 * library; the nodes (counts) and src/ops/vol3d.ts (math) share it.
 */
import { product } from './geometry.ts';

export type Triple = [number, number, number];

export interface Windows3d {
  /** Effective window per axis (D, H, W). */
  window: Triple;
  /** Shift per axis; 0 on axes the window covers whole. */
  shift: Triple;
  /** Grid padded at the end of each axis to a multiple of the window. */
  padded: Triple;
  /** Windows per sample and tokens per window. */
  count: number;
  tokens: number;
}

const triple = (f: (a: number) => number): Triple => [f(0), f(1), f(2)];

function withPadding(grid: Triple, window: Triple, shift: Triple): Windows3d {
  const padded = triple((a) => Math.ceil(grid[a] / window[a]) * window[a]);
  return {
    window,
    shift,
    padded,
    count: product(padded) / product(window),
    tokens: product(window),
  };
}

/**
 * SwinUNETR decides per axis at run time (MONAI `get_window_size`): an axis
 * not longer than the window is covered whole and not shifted.
 */
export function swinWindows3d(grid: Triple, window: number, shift: number): Windows3d {
  const w = triple((a) => (grid[a] <= window ? grid[a] : window));
  const s = triple((a) => (grid[a] <= window ? 0 : shift));
  return withPadding(grid, w, s);
}

/**
 * nnFormer decides once per stage: when the smallest side is not larger than
 * the window, the (cubic) window becomes that side and the shift 0.
 */
export function nnformerWindows3d(grid: Triple, window: number, shift: number): Windows3d {
  const side = Math.min(...grid);
  const w = side <= window ? side : window;
  const s = side <= window ? 0 : shift;
  return withPadding(grid, [w, w, w], [s, s, s]);
}

/**
 * Region id of every voxel of the padded grid for the shift mask (§c.3): per
 * axis the intervals [0, P−w), [P−w, P−s), [P−s, P), numbered by a running
 * counter in nested D, H, W loops; with s = 0 the last interval covers the
 * axis. Row-major over the padded grid.
 */
export function shiftRegions3d(padded: Triple, window: Triple, shift: Triple): Int32Array {
  // Python slice semantics: with s = 0 the last slice, slice(-0, None), is the whole axis.
  const bounds = [0, 1, 2].map((a) => {
    const [P, w, s] = [padded[a], window[a], shift[a]];
    return s === 0 ? [0, 0, 0, P] : [0, P - w, P - s, P];
  });
  const ids = new Int32Array(product(padded));
  let cnt = 0;
  for (let d = 0; d < 3; d++)
    for (let h = 0; h < 3; h++)
      for (let w = 0; w < 3; w++) {
        for (let z = bounds[0][d]; z < bounds[0][d + 1]; z++)
          for (let y = bounds[1][h]; y < bounds[1][h + 1]; y++)
            for (let x = bounds[2][w]; x < bounds[2][w + 1]; x++)
              ids[(z * padded[1] + y) * padded[2] + x] = cnt;
        cnt++;
      }
  return ids;
}

/**
 * A relative-position index of the linear form
 * R[i,j] = Σ_a stride_a·(p_ia − p_ja + w_a − 1), over the tokens of a window
 * of `window` (token t at (d,h,w) row-major). SwinUNETR: 7³ window, strides
 * (169, 13, 1), bijective; nnFormer: cubic w, strides (3w−1, 2w−1, 1), not
 * injective (§c.4).
 */
export interface LinearIndex3d {
  window: Triple;
  strides: Triple;
  /** Rows of the table (`relative_position_bias_table`). */
  rows: number;
}

export const swinIndex3d = (window = 7): LinearIndex3d => {
  const r = 2 * window - 1;
  return { window: [window, window, window], strides: [r * r, r, 1], rows: r ** 3 };
};

export const nnformerIndex3d = (w: number): LinearIndex3d => ({
  window: [w, w, w],
  strides: [3 * w - 1, 2 * w - 1, 1],
  rows: (2 * w - 1) ** 3,
});

/** The index matrix as the reference stores it (`relative_position_index`), N×N row-major. */
export function relativeIndex3d(ix: LinearIndex3d): Int32Array {
  const [a, b, c] = ix.window;
  const N = a * b * c;
  const pos = (t: number): Triple => [Math.floor(t / (b * c)), Math.floor(t / c) % b, t % c];
  const out = new Int32Array(N * N);
  for (let i = 0; i < N; i++) {
    const p = pos(i);
    for (let j = 0; j < N; j++) {
      const q = pos(j);
      let r = 0;
      for (let k = 0; k < 3; k++) r += ix.strides[k] * (p[k] - q[k] + ix.window[k] - 1);
      out[i * N + j] = r;
    }
  }
  return out;
}
