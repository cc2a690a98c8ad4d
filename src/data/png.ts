/** PNG decoding to one gray channel (images) or label indices (masks), via fast-png. */
import { decode } from 'fast-png';
import { type Result, fail, ok } from './types.ts';

export interface GrayImage {
  /** Row-major, width fastest. */
  data: Float32Array;
  width: number;
  height: number;
}

function decodeAny(bytes: Uint8Array, name: string): Result<ReturnType<typeof decode>> {
  if (
    bytes.length < 8 ||
    bytes[0] !== 0x89 ||
    bytes[1] !== 0x50 ||
    bytes[2] !== 0x4e ||
    bytes[3] !== 0x47
  ) {
    return fail(`${name} is not a PNG file`, name);
  }
  try {
    return ok(decode(bytes));
  } catch (e) {
    return fail(`${name} is a corrupt PNG: ${e instanceof Error ? e.message : String(e)}`, name);
  }
}

/**
 * Decode to gray values in the file's own range (0–255 or 0–65535). Colour images
 * become luminance (ITU-R 601: 0.299 R + 0.587 G + 0.114 B); alpha is ignored;
 * palette images use their palette's colours.
 */
export function decodePngGray(bytes: Uint8Array, name = 'image.png'): Result<GrayImage> {
  const r = decodeAny(bytes, name);
  if (!r.ok) return r;
  const png = r.value;
  const n = png.width * png.height;
  const out = new Float32Array(n);
  const src = png.data as ArrayLike<number>;
  if (png.palette) {
    for (let i = 0; i < n; i++) {
      const c = png.palette[src[i]] ?? [0, 0, 0];
      out[i] = 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
    }
  } else {
    const ch = png.channels;
    if (ch <= 2) for (let i = 0; i < n; i++) out[i] = src[i * ch];
    else
      for (let i = 0; i < n; i++)
        out[i] = 0.299 * src[i * ch] + 0.587 * src[i * ch + 1] + 0.114 * src[i * ch + 2];
  }
  return ok({ data: out, width: png.width, height: png.height });
}

/**
 * Decode a mask whose pixel values are class indices: gray, palette (the index is the
 * class) or RGB with equal channels. A colour mask is refused with a message.
 */
export function decodePngLabels(
  bytes: Uint8Array,
  name = 'mask.png',
): Result<{ data: Uint8Array; width: number; height: number }> {
  const r = decodeAny(bytes, name);
  if (!r.ok) return r;
  const png = r.value;
  const n = png.width * png.height;
  const out = new Uint8Array(n);
  const src = png.data as ArrayLike<number>;
  const ch = png.palette ? 1 : png.channels;
  for (let i = 0; i < n; i++) {
    const v = src[i * ch];
    if (ch >= 3 && (src[i * ch + 1] !== v || src[i * ch + 2] !== v)) {
      const x = i % png.width;
      const y = Math.floor(i / png.width);
      return fail(
        `${name} is a colour mask (pixel ${x},${y} is not gray); save masks with class indices as gray values`,
        name,
      );
    }
    if (v > 255)
      return fail(
        `${name} holds label ${v} at pixel ${i % png.width},${Math.floor(i / png.width)}; labels must be 0–255`,
        name,
      );
    out[i] = v;
  }
  return ok({ data: out, width: png.width, height: png.height });
}
