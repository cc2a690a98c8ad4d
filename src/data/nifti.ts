/**
 * NIfTI-1 / NIfTI-2 reader (.nii, .nii.gz) and a NIfTI-1 writer for label maps.
 * Byte-level parsing of our own so every failure becomes a message naming the file.
 */
import { gunzip, gzip, isGzip } from './gzip.ts';
import {
  type Case,
  type DataTypeName,
  type Result,
  type Volume,
  fail,
  formatCount,
  formatDims,
  ok,
  voxelCount,
} from './types.ts';

const DATATYPES: Record<number, { name: DataTypeName; bytes: number }> = {
  2: { name: 'uint8', bytes: 1 },
  4: { name: 'int16', bytes: 2 },
  8: { name: 'int32', bytes: 4 },
  16: { name: 'float32', bytes: 4 },
  64: { name: 'float64', bytes: 8 },
  256: { name: 'int8', bytes: 1 },
  512: { name: 'uint16', bytes: 2 },
  768: { name: 'uint32', bytes: 4 },
  1024: { name: 'int64', bytes: 8 },
  1280: { name: 'uint64', bytes: 8 },
};
type TypedCtor = new (b: ArrayBufferLike) => ArrayLike<number>;
const TYPED: Partial<Record<DataTypeName, TypedCtor>> = {
  uint8: Uint8Array,
  int8: Int8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  float32: Float32Array,
  float64: Float64Array,
};
const UNSUPPORTED: Record<number, string> = {
  1: 'binary (1-bit)',
  32: 'complex64',
  128: 'RGB24',
  1536: 'float128',
  1792: 'complex128',
  2048: 'complex256',
  2304: 'RGBA32',
};

const NIFTI2_HEADER = 540;
/** Bytes a gzipped file may inflate to beyond what its header declares (extensions are inside vox_offset; this is slack). */
export const GZIP_MARGIN = 64 * 1024;
/** The largest file (header + voxels) this reader takes: 2 GiB, a typed array's practical limit. */
export const MAX_NIFTI_BYTES = 2 ** 31 - 1;

export interface NiftiHeader {
  version: 1 | 2;
  littleEndian: boolean;
  dims: number[];
  /** pixdim[1..ndim] */
  pixdim: number[];
  qfac: number;
  datatypeCode: number;
  datatype: DataTypeName;
  bitpix: number;
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  qformCode: number;
  sformCode: number;
  quatern: [number, number, number];
  qoffset: [number, number, number];
  srow: number[][];
  xyztUnits: number;
  descrip: string;
}

export interface ReadNiftiOptions {
  /** Keep float64 data as Float64Array (default true); everything else becomes Float32Array. */
  keepFloat64?: boolean;
}

function cString(bytes: Uint8Array, start: number, len: number): string {
  let s = '';
  for (let i = start; i < start + len && i < bytes.length; i++) {
    if (bytes[i] === 0) break;
    s += String.fromCharCode(bytes[i]);
  }
  return s;
}

/** Parse the header; `bytes` is the decompressed file (or at least its header). */
export function parseNiftiHeader(bytes: Uint8Array, name = 'file'): Result<NiftiHeader> {
  if (bytes.length < 348) {
    return fail(
      `${name} is not a NIfTI file: ${bytes.length} bytes, a header needs at least 348`,
      name,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sizeLE = view.getInt32(0, true);
  const sizeBE = view.getInt32(0, false);
  let version: 1 | 2;
  let le: boolean;
  if (sizeLE === 348 || sizeBE === 348) {
    version = 1;
    le = sizeLE === 348;
  } else if (sizeLE === 540 || sizeBE === 540) {
    version = 2;
    le = sizeLE === 540;
  } else {
    return fail(
      `${name} is not a NIfTI file: header size field is ${sizeLE}, expected 348 (NIfTI-1) or 540 (NIfTI-2)`,
      name,
    );
  }
  if (version === 2 && bytes.length < 540) {
    return fail(
      `${name} is truncated: a NIfTI-2 header needs 540 bytes, file holds ${bytes.length}`,
      name,
    );
  }
  const i16 = (o: number) => view.getInt16(o, le);
  const i32 = (o: number) => view.getInt32(o, le);
  const f32 = (o: number) => view.getFloat32(o, le);
  const f64 = (o: number) => view.getFloat64(o, le);
  const i64 = (o: number) => Number(view.getBigInt64(o, le));

  let rawDim: number[];
  let pix: number[];
  let datatypeCode: number;
  let bitpix: number;
  let voxOffset: number;
  let sclSlope: number;
  let sclInter: number;
  let qformCode: number;
  let sformCode: number;
  let quatern: [number, number, number];
  let qoffset: [number, number, number];
  let srow: number[][];
  let xyztUnits: number;
  let descrip: string;
  if (version === 1) {
    const magic = cString(bytes, 344, 4);
    if (magic === 'ni1') {
      return fail(
        `${name} is a NIfTI-1 header of a .hdr/.img pair; convert it to a single .nii file`,
        name,
      );
    }
    if (magic !== 'n+1') {
      return fail(
        `${name} is not a NIfTI-1 file: magic is ${JSON.stringify(magic)}, expected "n+1"`,
        name,
      );
    }
    rawDim = Array.from({ length: 8 }, (_, k) => i16(40 + 2 * k));
    pix = Array.from({ length: 8 }, (_, k) => f32(76 + 4 * k));
    datatypeCode = i16(70);
    bitpix = i16(72);
    voxOffset = f32(108);
    sclSlope = f32(112);
    sclInter = f32(116);
    xyztUnits = bytes[123];
    descrip = cString(bytes, 148, 80);
    qformCode = i16(252);
    sformCode = i16(254);
    quatern = [f32(256), f32(260), f32(264)];
    qoffset = [f32(268), f32(272), f32(276)];
    srow = [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => f32(280 + 16 * r + 4 * c)));
  } else {
    const magic = cString(bytes, 4, 3);
    if (magic !== 'n+2') {
      return fail(
        `${name} is not a single-file NIfTI-2: magic is ${JSON.stringify(magic)}, expected "n+2"`,
        name,
      );
    }
    datatypeCode = i16(12);
    bitpix = i16(14);
    rawDim = Array.from({ length: 8 }, (_, k) => i64(16 + 8 * k));
    pix = Array.from({ length: 8 }, (_, k) => f64(104 + 8 * k));
    voxOffset = i64(168);
    sclSlope = f64(176);
    sclInter = f64(184);
    descrip = cString(bytes, 240, 80);
    qformCode = i32(344);
    sformCode = i32(348);
    quatern = [f64(352), f64(360), f64(368)];
    qoffset = [f64(376), f64(384), f64(392)];
    srow = [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => f64(400 + 32 * r + 8 * c)));
    xyztUnits = i32(500);
  }
  const ndim = rawDim[0];
  if (!(ndim >= 1 && ndim <= 7)) {
    return fail(`${name} has a corrupt header: dim[0] = ${ndim}, must be 1–7`, name);
  }
  const dims = rawDim.slice(1, 1 + ndim);
  if (dims.some((d) => !Number.isInteger(d) || d < 1)) {
    return fail(
      `${name} has a corrupt header: dimensions ${dims.join(', ')} must be positive`,
      name,
    );
  }
  // Trailing singleton dims beyond 3 carry nothing.
  while (dims.length > 3 && dims[dims.length - 1] === 1) dims.pop();
  const dt = DATATYPES[datatypeCode];
  if (!dt) {
    const what = UNSUPPORTED[datatypeCode];
    return fail(
      what
        ? `${name} stores ${what} voxels (NIfTI datatype ${datatypeCode}), which this reader does not support`
        : `${name} has a corrupt header: unknown NIfTI datatype ${datatypeCode}`,
      name,
    );
  }
  const headerSize = version === 1 ? 348 : 540;
  if (!(voxOffset >= headerSize) || !Number.isFinite(voxOffset)) {
    // Some writers leave vox_offset 0 in .nii files; data then follows header + 4-byte extension flag.
    voxOffset = headerSize + 4;
  }
  return ok({
    version,
    littleEndian: le,
    dims,
    pixdim: pix
      .slice(1, 1 + dims.length)
      .map((p) => (Number.isFinite(p) && p !== 0 ? Math.abs(p) : 1)),
    qfac: pix[0] === -1 ? -1 : 1,
    datatypeCode,
    datatype: dt.name,
    bitpix,
    voxOffset: Math.floor(voxOffset),
    sclSlope,
    sclInter,
    qformCode,
    sformCode,
    quatern,
    qoffset,
    srow,
    xyztUnits,
    descrip,
  });
}

/** The voxel → world affine the way NIfTI (and nibabel) choose it: sform, else qform, else pixdim. */
export function niftiAffine(h: NiftiHeader): number[][] {
  const last = [0, 0, 0, 1];
  if (h.sformCode > 0) return [...h.srow.map((r) => r.slice()), last];
  const [dx, dy, dz] = [h.pixdim[0] ?? 1, h.pixdim[1] ?? 1, h.pixdim[2] ?? 1];
  if (h.qformCode > 0) {
    const [b, c, d] = h.quatern;
    let a2 = 1 - (b * b + c * c + d * d);
    let bb = b;
    let cc = c;
    let ddd = d;
    if (a2 < 1e-7) {
      // Numerically 180° rotation: renormalise b, c, d and take a = 0.
      const n = Math.hypot(b, c, d);
      bb = b / n;
      cc = c / n;
      ddd = d / n;
      a2 = 0;
    }
    const a = Math.sqrt(a2);
    const R = [
      [a * a + bb * bb - cc * cc - ddd * ddd, 2 * (bb * cc - a * ddd), 2 * (bb * ddd + a * cc)],
      [2 * (bb * cc + a * ddd), a * a + cc * cc - bb * bb - ddd * ddd, 2 * (cc * ddd - a * bb)],
      [2 * (bb * ddd - a * cc), 2 * (cc * ddd + a * bb), a * a + ddd * ddd - cc * cc - bb * bb],
    ];
    const s = [dx, dy, dz * h.qfac];
    return [
      [R[0][0] * s[0], R[0][1] * s[1], R[0][2] * s[2], h.qoffset[0]],
      [R[1][0] * s[0], R[1][1] * s[1], R[1][2] * s[2], h.qoffset[1]],
      [R[2][0] * s[0], R[2][1] * s[1], R[2][2] * s[2], h.qoffset[2]],
      last,
    ];
  }
  // NIfTI "method 1" (no orientation given): scale by pixdim, origin at voxel 0.
  return [[dx, 0, 0, 0], [0, dy, 0, 0], [0, 0, dz, 0], last];
}

function decodeVoxels(
  bytes: Uint8Array,
  h: NiftiHeader,
  n: number,
  keepFloat64: boolean,
): Float32Array | Float64Array {
  const view = new DataView(
    bytes.buffer,
    bytes.byteOffset + h.voxOffset,
    n * DATATYPES[h.datatypeCode].bytes,
  );
  const le = h.littleEndian;
  const scaled =
    Number.isFinite(h.sclSlope) &&
    h.sclSlope !== 0 &&
    !(h.sclSlope === 1 && (h.sclInter === 0 || !Number.isFinite(h.sclInter)));
  const slope = scaled ? h.sclSlope : 1;
  const inter = scaled && Number.isFinite(h.sclInter) ? h.sclInter : 0;
  const out = h.datatype === 'float64' && keepFloat64 ? new Float64Array(n) : new Float32Array(n);
  if (le === isLittleEndianHost() && h.datatype !== 'int64' && h.datatype !== 'uint64') {
    // Same byte order as the host: view a copy (aligned) as the stored type.
    const Ctor = TYPED[h.datatype]!;
    const nb = n * DATATYPES[h.datatypeCode].bytes;
    const src = new Ctor(bytes.slice(h.voxOffset, h.voxOffset + nb).buffer);
    if (scaled) for (let i = 0; i < n; i++) out[i] = src[i] * slope + inter;
    else out.set(src);
    return out;
  }
  const get: (o: number) => number = (() => {
    switch (h.datatype) {
      case 'uint8':
        return (o: number) => view.getUint8(o);
      case 'int8':
        return (o: number) => view.getInt8(o);
      case 'int16':
        return (o: number) => view.getInt16(o * 2, le);
      case 'uint16':
        return (o: number) => view.getUint16(o * 2, le);
      case 'int32':
        return (o: number) => view.getInt32(o * 4, le);
      case 'uint32':
        return (o: number) => view.getUint32(o * 4, le);
      case 'int64':
        return (o: number) => Number(view.getBigInt64(o * 8, le));
      case 'uint64':
        return (o: number) => Number(view.getBigUint64(o * 8, le));
      case 'float32':
        return (o: number) => view.getFloat32(o * 4, le);
      case 'float64':
        return (o: number) => view.getFloat64(o * 8, le);
    }
  })();
  if (scaled) for (let i = 0; i < n; i++) out[i] = get(i) * slope + inter;
  else for (let i = 0; i < n; i++) out[i] = get(i);
  return out;
}

/**
 * Read a .nii or .nii.gz file's bytes (gzip is detected from the bytes, not the name).
 * `name` is only used in messages.
 */
export function readNifti(
  bytes: Uint8Array,
  name = 'file.nii',
  opts: ReadNiftiOptions = {},
): Result<Volume> {
  const gz = isGzip(bytes);
  // A gzip file is inflated twice: its first bytes for the header, then only as far as the header declares.
  const head = gz ? gunzip(bytes, { maxBytes: NIFTI2_HEADER }) : undefined;
  if (head && head.data.length < 348 && head.error) return fail(`${name} is ${head.error}`, name);
  const hr = parseNiftiHeader(head ? head.data : bytes, name);
  if (!hr.ok) return hr;
  const h = hr.value;
  const n = voxelCount(h.dims);
  const bpv = DATATYPES[h.datatypeCode].bytes;
  const need = h.voxOffset + n * bpv;
  if (!(need <= MAX_NIFTI_BYTES)) {
    return fail(
      `${name} has a corrupt or unsupported header: it declares ${formatCount(need)} bytes (${formatDims(h.dims)} voxels of ${bpv} bytes after ${formatCount(h.voxOffset)}), more than the ${formatCount(MAX_NIFTI_BYTES)} this reader takes`,
      name,
    );
  }
  const full = gz ? gunzip(bytes, { maxBytes: need + GZIP_MARGIN }) : undefined;
  if (full?.overLimit) {
    return fail(
      `${name} is corrupt: it inflates to more than the ${formatCount(need)} bytes its header declares (${formatDims(h.dims)} voxels) plus ${formatCount(GZIP_MARGIN)}; refused without reading the rest`,
      name,
    );
  }
  const raw = full ? full.data : bytes;
  const gzError = full?.error ?? null;
  if (raw.length < need) {
    const held = Math.max(0, Math.floor((raw.length - h.voxOffset) / bpv));
    const why = gzError ? ` (${gzError})` : '';
    return fail(
      `${name} is truncated: header says ${formatCount(n)} voxels (${formatDims(h.dims)}), file holds ${formatCount(held)}${why}`,
      name,
    );
  }
  if (gzError) return fail(`${name} is ${gzError}`, name);
  const data = decodeVoxels(raw, h, n, opts.keepFloat64 ?? true);
  const affine = niftiAffine(h);
  return ok({
    data,
    dims: h.dims,
    spacing: h.pixdim.slice(0, Math.min(3, h.dims.length)),
    affine,
    datatype: h.datatype,
  });
}

export interface WriteNiftiOptions {
  /** Affine to store as sform (default: the identity scaled by spacing). */
  affine?: number[][];
  spacing?: number[];
  /** sform_code to write (default 2, "aligned"); 0 writes no sform. */
  sformCode?: number;
  /** Also write the rigid part of the affine as qform (default true). */
  writeQform?: boolean;
  description?: string;
  /** gzip the output (default true). */
  gzip?: boolean;
}

/** Closest quaternion of a rotation matrix (Shepperd's method), with qfac for a reflection. */
function affineToQuaternion(
  affine: number[][],
  spacing: number[],
): { b: number; c: number; d: number; qfac: number } {
  const cols = [0, 1, 2].map((j) => [affine[0][j], affine[1][j], affine[2][j]]);
  const R = cols.map((c, j) => {
    const n = Math.hypot(c[0], c[1], c[2]) || spacing[j] || 1;
    return c.map((x) => x / n);
  });
  // R here is column-major: R[j] is column j.
  let m = [
    [R[0][0], R[1][0], R[2][0]],
    [R[0][1], R[1][1], R[2][1]],
    [R[0][2], R[1][2], R[2][2]],
  ];
  const det =
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
    m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
    m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  let qfac = 1;
  if (det < 0) {
    qfac = -1;
    m = m.map((row) => [row[0], row[1], -row[2]]);
  }
  const tr = m[0][0] + m[1][1] + m[2][2];
  let a: number, b: number, c: number, d: number;
  if (tr > 0) {
    const s = Math.sqrt(tr + 1) * 2;
    a = 0.25 * s;
    b = (m[2][1] - m[1][2]) / s;
    c = (m[0][2] - m[2][0]) / s;
    d = (m[1][0] - m[0][1]) / s;
  } else if (m[0][0] > m[1][1] && m[0][0] > m[2][2]) {
    const s = Math.sqrt(1 + m[0][0] - m[1][1] - m[2][2]) * 2;
    a = (m[2][1] - m[1][2]) / s;
    b = 0.25 * s;
    c = (m[0][1] + m[1][0]) / s;
    d = (m[0][2] + m[2][0]) / s;
  } else if (m[1][1] > m[2][2]) {
    const s = Math.sqrt(1 + m[1][1] - m[0][0] - m[2][2]) * 2;
    a = (m[0][2] - m[2][0]) / s;
    b = (m[0][1] + m[1][0]) / s;
    c = 0.25 * s;
    d = (m[1][2] + m[2][1]) / s;
  } else {
    const s = Math.sqrt(1 + m[2][2] - m[0][0] - m[1][1]) * 2;
    a = (m[1][0] - m[0][1]) / s;
    b = (m[0][2] + m[2][0]) / s;
    c = (m[1][2] + m[2][1]) / s;
    d = 0.25 * s;
  }
  if (a < 0) {
    b = -b;
    c = -c;
    d = -d;
  }
  return { b, c, d, qfac };
}

const WRITE_TYPES: Record<string, { code: number; bitpix: number }> = {
  uint8: { code: 2, bitpix: 8 },
  int16: { code: 4, bitpix: 16 },
  float32: { code: 16, bitpix: 32 },
};

/**
 * Write a NIfTI-1 file (gzipped by default) in the given voxel order (dims fastest-first).
 * Uint8Array data is written as uint8 (label maps), Int16Array as int16, Float32Array as float32.
 */
export function writeNifti(
  data: Uint8Array | Int16Array | Float32Array,
  dims: number[],
  opts: WriteNiftiOptions = {},
): Uint8Array {
  if (dims.length < 1 || dims.length > 7) throw new Error(`writeNifti: ${dims.length} dimensions`);
  if (voxelCount(dims) !== data.length) {
    throw new Error(`writeNifti: ${data.length} values for dims ${formatDims(dims)}`);
  }
  const type =
    data instanceof Uint8Array
      ? WRITE_TYPES.uint8
      : data instanceof Int16Array
        ? WRITE_TYPES.int16
        : WRITE_TYPES.float32;
  const spacing =
    opts.spacing ??
    (opts.affine
      ? [0, 1, 2].map(
          (j) => Math.hypot(opts.affine![0][j], opts.affine![1][j], opts.affine![2][j]) || 1,
        )
      : [1, 1, 1]);
  const affine = opts.affine ?? [
    [spacing[0] ?? 1, 0, 0, 0],
    [0, spacing[1] ?? 1, 0, 0],
    [0, 0, spacing[2] ?? 1, 0],
    [0, 0, 0, 1],
  ];
  const voxOffset = 352;
  const out = new Uint8Array(voxOffset + data.byteLength);
  const v = new DataView(out.buffer);
  v.setInt32(0, 348, true);
  v.setInt16(40, dims.length, true);
  dims.forEach((d, k) => v.setInt16(42 + 2 * k, d, true));
  for (let k = dims.length; k < 7; k++) v.setInt16(42 + 2 * k, 1, true);
  v.setInt16(70, type.code, true);
  v.setInt16(72, type.bitpix, true);
  const q = affineToQuaternion(affine, spacing);
  v.setFloat32(76, q.qfac, true);
  for (let k = 0; k < 7; k++) v.setFloat32(80 + 4 * k, k < 3 ? (spacing[k] ?? 1) : 1, true);
  v.setFloat32(108, voxOffset, true);
  v.setFloat32(112, 1, true); // scl_slope
  v.setFloat32(116, 0, true); // scl_inter
  out[123] = 2 | 8; // mm, seconds
  const desc = (opts.description ?? 'mam-studio').slice(0, 79);
  for (let i = 0; i < desc.length; i++) out[148 + i] = desc.charCodeAt(i) & 0x7f;
  const writeQ = opts.writeQform ?? true;
  v.setInt16(252, writeQ ? 2 : 0, true);
  v.setInt16(254, opts.sformCode ?? 2, true);
  v.setFloat32(256, q.b, true);
  v.setFloat32(260, q.c, true);
  v.setFloat32(264, q.d, true);
  v.setFloat32(268, affine[0][3], true);
  v.setFloat32(272, affine[1][3], true);
  v.setFloat32(276, affine[2][3], true);
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 4; c++) v.setFloat32(280 + 16 * r + 4 * c, affine[r][c], true);
  out.set([0x6e, 0x2b, 0x31, 0], 344); // "n+1\0"
  // bytes 348..351: extension flag 0 (no extensions)
  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (type.bitpix === 8 || isLittleEndianHost()) out.set(body, voxOffset);
  else {
    const dv = new DataView(out.buffer, voxOffset);
    for (let i = 0; i < data.length; i++) {
      if (type.bitpix === 16) dv.setInt16(2 * i, data[i], true);
      else dv.setFloat32(4 * i, data[i], true);
    }
  }
  return opts.gzip === false ? out : gzip(out);
}

function isLittleEndianHost(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

/** Write a prediction (uint8 labels) on the grid of the volume it was predicted from. */
export function writeLabelNifti(
  labels: Uint8Array,
  like: { dims: number[]; affine: number[][]; spacing: number[] },
): Uint8Array {
  return writeNifti(labels, like.dims.slice(0, 3), { affine: like.affine, spacing: like.spacing });
}

/**
 * A case's prediction as `mam eval` writes it: on the grid, voxel order and
 * affine of the case's label file, or of its first image channel when it has
 * no label.
 */
export function writePredictionNifti(labels: Uint8Array, c: Case): Uint8Array {
  const like = c.label ?? c.channels[0];
  return writeLabelNifti(labels, like);
}

/** The file name a case's prediction gets: its id made safe for a file name, `.nii.gz`. */
export const predictionFileName = (caseId: string) => `${caseId.replace(/[^\w.-]+/g, '_')}.nii.gz`;
