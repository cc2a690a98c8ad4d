/** The pixels of the slice view (editor/image-view.ts): grey by window/level, labels in fixed colours. */

/** Class colours (index 0, background, is never drawn). Distinct on a grey MRI. */
export const CLASS_COLORS = [
  '#000000',
  '#e6194b',
  '#3cb44b',
  '#4363d8',
  '#f58231',
  '#ffe119',
  '#911eb4',
  '#42d4f4',
  '#f032e6',
  '#bfef45',
  '#fabed4',
  '#469990',
];

export const classColor = (i: number) => CLASS_COLORS[i % CLASS_COLORS.length];

const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

/**
 * How a slice is shown: window width and level over the image's [0, 1]
 * intensities (as NiiVue and 3D Slicer window: black at level − width/2,
 * white at level + width/2), and the label overlay's opacity.
 */
export interface SliceDisplay {
  window: number;
  level: number;
  opacity: number;
}

export const DEFAULT_DISPLAY: SliceDisplay = { window: 1, level: 0.5, opacity: 0.5 };

/**
 * RGBA pixels of a grey image with a label overlay. Rows are flipped so the
 * volume's +j axis (anterior in RAS data) points up, as radiology viewers show it.
 */
export function overlayPixels(
  image: Float32Array,
  labels: Uint8Array | undefined,
  width: number,
  height: number,
  display: SliceDisplay = DEFAULT_DISPLAY,
): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(width * height * 4);
  const colors = CLASS_COLORS.map(rgb);
  const alpha = display.opacity;
  const lo = display.level - display.window / 2;
  const span = Math.max(display.window, 1e-6);
  for (let y = 0; y < height; y++) {
    const src = (height - 1 - y) * width;
    for (let x = 0; x < width; x++) {
      const t = (image[src + x] - lo) / span;
      const g = (t < 0 ? 0 : t > 1 ? 1 : t) * 255;
      const o = (y * width + x) * 4;
      const c = labels?.[src + x] ?? 0;
      const a = c ? alpha : 0;
      const col = colors[c % colors.length];
      out[o] = g * (1 - a) + col[0] * a;
      out[o + 1] = g * (1 - a) + col[1] * a;
      out[o + 2] = g * (1 - a) + col[2] * a;
      out[o + 3] = 255;
    }
  }
  return out;
}
