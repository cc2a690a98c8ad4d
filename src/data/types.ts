/**
 * Shared data types. Errors a user can cause (bad file, mismatched sizes) are
 * values, never throws: every loader returns a `Result`.
 */

import type { IntensityRange } from './volume-crops.ts';

export type Result<T> = { ok: true; value: T } | { ok: false; message: string; file?: string };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function fail(
  message: string,
  file?: string,
): { ok: false; message: string; file?: string } {
  return file === undefined ? { ok: false, message } : { ok: false, message, file };
}

/** NIfTI datatype names we read (and the ones we write). */
export type DataTypeName =
  | 'uint8'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'float32'
  | 'float64';

/**
 * A volume in file voxel order: `dims` are fastest-first (NIfTI order: i, j, k, t),
 * so voxel (i, j, k) is `data[i + dims[0] * (j + dims[1] * k)]`. A NumPy array of
 * shape (D, H, W) in C order is the volume with dims [W, H, D].
 */
export interface Volume {
  data: Float32Array | Float64Array;
  dims: number[];
  /** Voxel size per spatial axis (mm for NIfTI), same order as dims. */
  spacing: number[];
  /** 4×4 voxel (i, j, k, 1) → world, row-major. */
  affine: number[][];
  /** The datatype stored in the file. */
  datatype: DataTypeName;
  /**
   * The data set's intensity range (its dataset.json `intensity_range`, MONAI's
   * ScaleIntensityRanged): what the 'auto' normalisation applies to this volume.
   */
  intensity?: IntensityRange;
}

/** A label map in the same voxel order as its image. */
export interface LabelVolume {
  data: Uint8Array;
  dims: number[];
  spacing: number[];
  affine: number[][];
}

/** One case: one or more image channels (same grid) and an optional label map. */
export interface Case {
  id: string;
  /** Each channel a 3D (or 2D as [W, H, 1]) volume; all share dims. */
  channels: Volume[];
  label: LabelVolume | null;
  /** The files it came from, for messages. */
  files: string[];
}

export interface DataSet {
  cases: Case[];
  /** Class names in label order: index 0 is background. */
  classNames: string[];
  /** Spacing of the first case (cases may differ; each case carries its own). */
  spacing: number[];
  /** Where it came from (folder, layout), for display. */
  source: string;
}

/** What kind of problem a data issue is, so a caller can act on it (the CLI maps each to an exit code). */
export type DataProblem = 'empty' | 'sizeMismatch' | 'labelRange' | 'bad';

export interface DataIssue {
  file: string;
  message: string;
  /** Absent: 'bad' (unreadable or malformed data). */
  kind?: DataProblem;
  /** What a warning is about, for callers that act on it (never its message text). */
  warning?: 'classesByNumber';
}

/** A data set loads with warnings, or fails with every issue found (each names its file). */
export type DataSetResult =
  | { ok: true; value: DataSet; warnings: DataIssue[] }
  | { ok: false; message: string; issues: DataIssue[] };

export function identityAffine(spacing: number[] = [1, 1, 1]): number[][] {
  return [
    [spacing[0] ?? 1, 0, 0, 0],
    [0, spacing[1] ?? 1, 0, 0],
    [0, 0, spacing[2] ?? 1, 0],
    [0, 0, 0, 1],
  ];
}

export function voxelCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** "512×512×90" */
export function formatDims(dims: readonly number[]): string {
  return dims.join('×');
}

/** 1048576 → "1,048,576" (locale-independent). */
export function formatCount(n: number): string {
  return String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
