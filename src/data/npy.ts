/** NumPy .npy / .npz reading (and .npy writing, used to hand arrays to Python oracles). */
import { unzipSync } from 'fflate';
import { type Result, fail, formatCount, ok, voxelCount } from './types.ts';

export type NpyData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array;

export interface NpyArray {
  /** NumPy shape (slowest axis first). */
  shape: number[];
  /** Values in C order (transposed from Fortran order if the file was). */
  data: NpyData;
  dtype: string;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

function parseHeaderDict(text: string): { descr: string; fortran: boolean; shape: number[] } | null {
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) return null;
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => Number(s.replace(/L$/, '')));
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) return null;
  return { descr, fortran: fortran === 'True', shape };
}

/** Reverse axis order of a Fortran-order buffer into C order. */
function fortranToC<T extends NpyData>(src: T, shape: number[]): T {
  const n = src.length;
  const out = new (src.constructor as new (n: number) => T)(n);
  const nd = shape.length;
  const idx = new Array<number>(nd).fill(0);
  // C strides
  const cStride = new Array<number>(nd);
  let s = 1;
  for (let k = nd - 1; k >= 0; k--) {
    cStride[k] = s;
    s *= shape[k];
  }
  for (let f = 0; f < n; f++) {
    let c = 0;
    for (let k = 0; k < nd; k++) c += idx[k] * cStride[k];
    out[c] = src[f];
    for (let k = 0; k < nd; k++) {
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

export function parseNpy(bytes: Uint8Array, name = 'array.npy'): Result<NpyArray> {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    return fail(`${name} is not a .npy file (no \\x93NUMPY magic)`, name);
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlenAt = 8;
  const hstart = major === 1 ? 10 : 12;
  if (bytes.length < hstart) return fail(`${name} is truncated inside its header`, name);
  const hlen = major === 1 ? view.getUint16(hlenAt, true) : view.getUint32(hlenAt, true);
  if (bytes.length < hstart + hlen) return fail(`${name} is truncated inside its header`, name);
  const text = new TextDecoder('latin1').decode(bytes.subarray(hstart, hstart + hlen));
  const hdr = parseHeaderDict(text);
  if (!hdr) return fail(`${name} has an unreadable .npy header: ${text.trim().slice(0, 120)}`, name);
  const m = /^([<>|=])([a-z])(\d+)$/.exec(hdr.descr);
  if (!m) return fail(`${name} holds dtype ${hdr.descr}, which this reader does not support`, name);
  const [, order, kind, sizeText] = m;
  const size = Number(sizeText);
  const le = order !== '>';
  const n = voxelCount(hdr.shape);
  const start = hstart + hlen;
  const need = start + n * size;
  if (bytes.length < need) {
    return fail(
      `${name} is truncated: header says ${formatCount(n)} values (shape ${hdr.shape.join('×')}), file holds ${formatCount(Math.max(0, Math.floor((bytes.length - start) / size)))}`,
      name,
    );
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset + start, n * size);
  let data: NpyData;
  const key = `${kind}${size}`;
  switch (key) {
    case 'f4':
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = dv.getFloat32(4 * i, le);
      break;
    case 'f8':
      data = new Float64Array(n);
      for (let i = 0; i < n; i++) data[i] = dv.getFloat64(8 * i, le);
      break;
    case 'f2':
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = halfToFloat(dv.getUint16(2 * i, le));
      break;
    case 'u1':
    case 'b1':
      data = new Uint8Array(n);
      for (let i = 0; i < n; i++) data[i] = dv.getUint8(i);
      break;
    case 'i1':
      data = new Int8Array(n);
      for (let i = 0; i < n; i++) data[i] = dv.getInt8(i);
      break;
    case 'i2':
      data = new Int16Array(n);
      for (let i = 0; i < n; i++) data[i] = dv.getInt16(2 * i, le);
      break;
    case 'u2':
      data = new Uint16Array(n);
      for (let i = 0; i < n; i++) data[i] = dv.getUint16(2 * i, le);
      break;
    case 'i4':
      data = new Int32Array(n);
      for (let i = 0; i < n; i++) data[i] = dv.getInt32(4 * i, le);
      break;
    case 'u4':
      data = new Uint32Array(n);
      for (let i = 0; i < n; i++) data[i] = dv.getUint32(4 * i, le);
      break;
    case 'i8':
      data = new Float64Array(n);
      for (let i = 0; i < n; i++) data[i] = Number(dv.getBigInt64(8 * i, le));
      break;
    case 'u8':
      data = new Float64Array(n);
      for (let i = 0; i < n; i++) data[i] = Number(dv.getBigUint64(8 * i, le));
      break;
    default:
      return fail(`${name} holds dtype ${hdr.descr}, which this reader does not support`, name);
  }
  if (hdr.fortran && hdr.shape.length > 1) data = fortranToC(data, hdr.shape);
  return ok({ shape: hdr.shape, data, dtype: hdr.descr });
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** An .npz file (a zip of .npy members), keyed by member name without ".npy". */
export function parseNpz(bytes: Uint8Array, name = 'arrays.npz'): Result<Record<string, NpyArray>> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (e) {
    return fail(`${name} is not a readable .npz (zip) file: ${e instanceof Error ? e.message : String(e)}`, name);
  }
  const out: Record<string, NpyArray> = {};
  for (const [member, content] of Object.entries(files)) {
    if (!member.endsWith('.npy')) continue;
    const r = parseNpy(content, `${name}:${member}`);
    if (!r.ok) return fail(r.message, name);
    out[member.slice(0, -4)] = r.value;
  }
  return ok(out);
}

/** Write a C-order .npy (version 1.0). */
export function writeNpy(data: NpyData, shape: number[]): Uint8Array {
  if (voxelCount(shape) !== data.length) throw new Error(`writeNpy: ${data.length} values for shape ${shape.join('×')}`);
  const descr =
    data instanceof Float32Array
      ? '<f4'
      : data instanceof Float64Array
        ? '<f8'
        : data instanceof Uint8Array
          ? '|u1'
          : data instanceof Int8Array
            ? '|i1'
            : data instanceof Int16Array
              ? '<i2'
              : data instanceof Uint16Array
                ? '<u2'
                : data instanceof Int32Array
                  ? '<i4'
                  : '<u4';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  out.set(body, 10 + header.length); // typed arrays are little-endian on every host we run on
  return out;
}
