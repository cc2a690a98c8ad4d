/**
 * The pixel math of the volume viewer (editor/volume-view.ts): three
 * orthogonal planes through a cursor voxel, their sizes on screen with the
 * voxel spacing honoured, where the cross-hair falls and which voxel a point
 * of a view is. Volumes are in NIfTI voxel order (i fastest; voxel (i, j, k)
 * at i + nx·(j + ny·k)); a view's rows are drawn with its row axis pointing
 * up, as overlayPixels draws the slice view (+j, anterior in RAS data, up on
 * the axial plane; +k, superior, up on the others).
 */
import { overlayPixels, type SliceDisplay } from './slice-pixels.ts';

export type Plane = 'axial' | 'coronal' | 'sagittal';
export const PLANES: readonly Plane[] = ['axial', 'coronal', 'sagittal'];
type Axis = 0 | 1 | 2;

/** The voxel axes a plane shows across (col) and upwards (row), and the one it scrolls along. */
export const PLANE_AXES: Record<Plane, { col: Axis; row: Axis; normal: Axis }> = {
  axial: { col: 0, row: 1, normal: 2 },
  coronal: { col: 0, row: 2, normal: 1 },
  sagittal: { col: 1, row: 2, normal: 0 },
};

/** A volume as the viewer takes it: intensities in [0, 1], labels on the same grid. */
export interface VolumeData {
  id: string;
  /** Voxels per axis, i fastest (NIfTI order). */
  dims: [number, number, number];
  /** Voxel size per axis, mm. */
  spacing: [number, number, number];
  image: Float32Array;
  label?: Uint8Array;
}

export type Cursor = [number, number, number];

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** The middle voxel: where the viewer starts. */
export const centreVoxel = (v: VolumeData): Cursor => v.dims.map((n) => n >> 1) as Cursor;

/**
 * The plane through `cursor`, row-major with its first row at row axis 0
 * (overlayPixels draws it at the bottom), image and labels.
 */
export function planeSlice(v: VolumeData, plane: Plane, cursor: Cursor) {
  const { col, row, normal } = PLANE_AXES[plane];
  const width = v.dims[col];
  const height = v.dims[row];
  const stride = [1, v.dims[0], v.dims[0] * v.dims[1]];
  const base = cursor[normal] * stride[normal];
  const image = new Float32Array(width * height);
  const label = v.label ? new Uint8Array(width * height) : undefined;
  for (let r = 0; r < height; r++)
    for (let c = 0; c < width; c++) {
      const at = base + c * stride[col] + r * stride[row];
      image[r * width + c] = v.image[at];
      if (label) label[r * width + c] = v.label![at];
    }
  return { width, height, image, label };
}

/** RGBA pixels of a plane through `cursor`: grey by window/level, labels blended by opacity. */
export function planePixels(v: VolumeData, plane: Plane, cursor: Cursor, display: SliceDisplay) {
  const s = planeSlice(v, plane, cursor);
  return {
    width: s.width,
    height: s.height,
    pixels: overlayPixels(s.image, s.label, s.width, s.height, display),
  };
}

/**
 * The three views' sizes in CSS px at one scale (px per mm), the largest at
 * which each fits `box`: a view is as wide and tall as its plane is in mm.
 */
export function viewSizes(
  v: VolumeData,
  box: { width: number; height: number },
): Record<Plane, { width: number; height: number }> {
  const mm = (p: Plane) => {
    const { col, row } = PLANE_AXES[p];
    return { width: v.dims[col] * v.spacing[col], height: v.dims[row] * v.spacing[row] };
  };
  const scale = Math.min(
    ...PLANES.map((p) => Math.min(box.width / mm(p).width, box.height / mm(p).height)),
  );
  const sizes = {} as Record<Plane, { width: number; height: number }>;
  for (const p of PLANES) sizes[p] = { width: mm(p).width * scale, height: mm(p).height * scale };
  return sizes;
}

/** Where the cross-hair through the cursor voxel's centre falls in a view, as fractions (0 left/top … 1). */
export function crosshair(v: VolumeData, plane: Plane, cursor: Cursor): { x: number; y: number } {
  const { col, row } = PLANE_AXES[plane];
  return { x: (cursor[col] + 0.5) / v.dims[col], y: 1 - (cursor[row] + 0.5) / v.dims[row] };
}

/** The cursor moved to the voxel under a point of a view (fractions of its width and height). */
export function pointAt(v: VolumeData, plane: Plane, cursor: Cursor, x: number, y: number): Cursor {
  const { col, row } = PLANE_AXES[plane];
  const next = [...cursor] as Cursor;
  next[col] = clamp(Math.floor(x * v.dims[col]), 0, v.dims[col] - 1);
  next[row] = clamp(v.dims[row] - 1 - Math.floor(y * v.dims[row]), 0, v.dims[row] - 1);
  return next;
}

/** The cursor moved `steps` slices along a view's normal (the wheel over that view), kept inside. */
export function scrolled(v: VolumeData, plane: Plane, cursor: Cursor, steps: number): Cursor {
  const { normal } = PLANE_AXES[plane];
  const next = [...cursor] as Cursor;
  next[normal] = clamp(cursor[normal] + steps, 0, v.dims[normal] - 1);
  return next;
}

/** Intensities scaled to [0, 1] by the volume's range (a constant volume: all 0). */
export function unitRange(data: ArrayLike<number>): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  const span = hi > lo ? hi - lo : 1;
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = (data[i] - lo) / span;
  return out;
}
