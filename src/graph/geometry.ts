/**
 * Grid and window geometry, shared by the node specs (shape rules, counts)
 * and the kernels (src/ops). Pure: no tensor library.
 */

export type Grid = readonly number[];

export const product = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

export const formatGrid = (grid: Grid): string => grid.join('×');

/**
 * The window and shift a Swin block really uses on `grid`: when the grid is
 * not larger than the window (`min(grid) ≤ window`) the window becomes the
 * (smallest side of the) grid and the shift is 0, so `w_eff = min(w, ...grid)`.
 */
export function effectiveWindow(
  grid: Grid,
  window: number,
  shift: number,
): { window: number; shift: number } {
  const side = Math.min(...grid);
  return side <= window ? { window: side, shift: 0 } : { window, shift };
}

/** What is wrong with an effective window on `grid`, in words; none when it fits. */
export function windowProblems(grid: Grid, eff: { window: number; shift: number }): string[] {
  const { window, shift } = eff;
  if (!Number.isInteger(window) || window < 1)
    return [`window ${window} is not a positive integer`];
  const problems: string[] = [];
  if (grid.some((g) => g % window !== 0))
    problems.push(`token grid ${formatGrid(grid)} is not divisible by window ${window}`);
  if (shift < 0 || shift >= window)
    problems.push(`shift ${shift} must be smaller than window ${window}`);
  return problems;
}
