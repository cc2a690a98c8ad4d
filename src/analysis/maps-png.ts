/**
 * Pictures of the maps (src/analysis/maps.ts) over the input image: each
 * unit's values on its token grid, drawn at the image's scale (a token covers
 * `scale` pixels), outside the window darkened, the clicked pixel marked.
 * Pure: RGBA arrays, and PNG bytes through fast-png.
 */
import { encode } from 'fast-png';
import type { PixelMaps, UnitMaps } from './maps.ts';

export interface Picture {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** Per grid token: the value of the window's slots, NaN elsewhere (mean over heads). */
export function windowValues(
  u: UnitMaps,
  pick: (h: UnitMaps['heads'][number]) => number[] | undefined,
): number[] | null {
  const L = u.grid[0] * u.grid[1];
  const rows = u.heads.map(pick);
  if (rows.some((r) => !r)) return null;
  const out = new Array<number>(L).fill(NaN);
  u.members.forEach((t, j) => {
    out[t] = (rows as number[][]).reduce((a, r) => a + r[j], 0) / rows.length;
  });
  return out;
}

/**
 * `gray` (H×W, any range) under `values` (one per grid token, NaN = not in
 * the window) at `scale`: heat (0 → transparent, max → red) or, `diverging`,
 * blue for negative and red for positive, both by the largest magnitude.
 */
export function overlay(
  gray: ArrayLike<number>,
  image: [number, number],
  values: readonly number[],
  grid: [number, number],
  pixel: [number, number],
  diverging = false,
): Picture {
  const [H, W] = image;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < H * W; i++) {
    lo = Math.min(lo, gray[i]);
    hi = Math.max(hi, gray[i]);
  }
  const span = hi > lo ? hi - lo : 1;
  const top = Math.max(1e-12, ...values.filter((v) => !Number.isNaN(v)).map(Math.abs));
  const rgba = new Uint8Array(H * W * 4);
  for (let r = 0; r < H; r++) {
    for (let c = 0; c < W; c++) {
      const g = (255 * (gray[r * W + c] - lo)) / span;
      const t = Math.floor((r * grid[0]) / H) * grid[1] + Math.floor((c * grid[1]) / W);
      const v = values[t];
      let rgb: [number, number, number];
      if (Number.isNaN(v)) rgb = [g * 0.35, g * 0.35, g * 0.35];
      else {
        const a = 0.75 * Math.min(1, Math.abs(v) / top);
        const color = diverging && v < 0 ? [40, 90, 255] : [255, 40, 20];
        rgb = [0, 1, 2].map((k) => g * (1 - a) + color[k] * a) as [number, number, number];
      }
      if (
        (r === pixel[0] && Math.abs(c - pixel[1]) <= 2) ||
        (c === pixel[1] && Math.abs(r - pixel[0]) <= 2)
      )
        rgb = [0, 255, 0];
      const o = (r * W + c) * 4;
      rgba[o] = rgb[0];
      rgba[o + 1] = rgb[1];
      rgba[o + 2] = rgb[2];
      rgba[o + 3] = 255;
    }
  }
  return { width: W, height: H, rgba };
}

export const pngOf = (p: Picture): Uint8Array =>
  encode({ width: p.width, height: p.height, data: p.rgba, channels: 4, depth: 8 });

/** Every picture of the maps, by file name: `<unit>.attention.png`, `.without-memory`, `.difference`, `.memory-norm`. */
export function mapPictures(maps: PixelMaps, gray: ArrayLike<number>): Map<string, Picture> {
  const out = new Map<string, Picture>();
  const draw = (values: number[] | null, grid: [number, number], diverging = false) =>
    values && overlay(gray, maps.image, values, grid, maps.pixel, diverging);
  for (const u of maps.units) {
    const pics: [string, Picture | null][] = [
      [
        'attention',
        draw(
          windowValues(u, (h) => h.attention),
          u.grid,
        ),
      ],
      [
        'without-memory',
        draw(
          windowValues(u, (h) => h.withoutMemory),
          u.grid,
        ),
      ],
      [
        'difference',
        draw(
          windowValues(u, (h) => h.difference),
          u.grid,
          true,
        ),
      ],
      ['memory-norm', draw(u.memoryNorm ?? null, u.grid)],
    ];
    for (const [what, p] of pics) if (p) out.set(`${u.id}.${what}.png`, p);
  }
  return out;
}
