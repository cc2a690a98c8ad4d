/**
 * NumPy .npy reader/writer (format versions 1.0–3.0), pure TypeScript on
 * bytes (no fs).
 *
 * Layout: magic `\x93NUMPY`, major, minor, header length (u16 LE for v1,
 * u32 LE for v2/v3), an ASCII Python dict
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` padded with
 * spaces and a newline so the data starts 64-byte aligned, then the data.
 */
import { elementType, halfToNumber, type NumericArray } from './safetensors.ts';

/** Supported element types (the descr without its byte-order character). */
export type NpyDtype =
  'f8' | 'f4' | 'f2' | 'i8' | 'i4' | 'i2' | 'i1' | 'u8' | 'u4' | 'u2' | 'u1' | 'b1';

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  /** values in C (row-major) order; f2 widens to Float32Array, b1 is Uint8Array */
  data: NumericArray;
}

const ITEM: Record<NpyDtype, number> = {
  f8: 8,
  f4: 4,
  f2: 2,
  i8: 8,
  i4: 4,
  i2: 2,
  i1: 1,
  u8: 8,
  u4: 4,
  u2: 2,
  u1: 1,
  b1: 1,
};
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function parseHeader(h: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(h)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(h)?.[1];
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(h)?.[1];
  if (descr === undefined || fortran === undefined || shape === undefined)
    throw new Error(`has an unreadable .npy header: ${h.trim().slice(0, 120)}`);
  return {
    descr,
    fortran: fortran === 'True',
    shape: shape
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0)
      .map((s) => Number.parseInt(s, 10)),
  };
}

/**
 * Reads one element array; big-endian data is byte-swapped, Fortran order is
 * reordered to C order. Throws an Error whose message reads after the file's
 * name (`x.npy ${message}`): the one .npy reader of the project (src/data/npy.ts wraps it).
 */
export function readNpy(bytes: Uint8Array): NpyArray {
  if (bytes.byteLength < 10 || MAGIC.some((m, i) => bytes[i] !== m))
    throw new Error('is not a .npy file (no \\x93NUMPY magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const hstart = major === 1 ? 10 : 12;
  if (bytes.byteLength < hstart) throw new Error('is truncated inside its header');
  const hlen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (hstart + hlen > bytes.byteLength) throw new Error('is truncated inside its header');
  const { descr, fortran, shape } = parseHeader(
    new TextDecoder().decode(bytes.subarray(hstart, hstart + hlen)),
  );
  const order = descr[0];
  const dtype = descr.slice(1) as NpyDtype;
  const item = ITEM[dtype];
  if (!item || !'<>|='.includes(order))
    throw new Error(`holds dtype ${descr}, which this reader does not support`);
  const n = size(shape);
  const start = hstart + hlen;
  if (start + n * item > bytes.byteLength) {
    const held = Math.max(0, Math.floor((bytes.byteLength - start) / item));
    throw new Error(
      `is truncated: header says ${n.toLocaleString('en-US')} values (shape ${shape.join('×')}), file holds ${held.toLocaleString('en-US')}`,
    );
  }
  // a copy of exactly these bytes: a Node Buffer's own slice() is a view into its (pooled) memory
  const raw = Uint8Array.prototype.slice.call(bytes, start, start + n * item);
  if (order === '>' && item > 1) {
    for (let i = 0; i < raw.length; i += item) raw.subarray(i, i + item).reverse();
  }
  let data = typed(dtype, raw.buffer);
  if (fortran && shape.length > 1) data = fortranToC(data, shape);
  return { dtype, shape, data };
}

function typed(dtype: NpyDtype, buf: ArrayBuffer): NumericArray {
  switch (dtype) {
    case 'f8':
      return new Float64Array(buf);
    case 'f4':
      return new Float32Array(buf);
    case 'f2':
      return Float32Array.from(new Uint16Array(buf), halfToNumber);
    case 'i8':
      return new BigInt64Array(buf);
    case 'u8':
      return new BigUint64Array(buf);
    case 'i4':
      return new Int32Array(buf);
    case 'u4':
      return new Uint32Array(buf);
    case 'i2':
      return new Int16Array(buf);
    case 'u2':
      return new Uint16Array(buf);
    case 'i1':
      return new Int8Array(buf);
    case 'u1':
    case 'b1':
      return new Uint8Array(buf);
  }
}

function fortranToC(src: NumericArray, shape: number[]): NumericArray {
  const out = new (src.constructor as new (n: number) => NumericArray)(src.length);
  const k = shape.length;
  const idx = new Array<number>(k).fill(0);
  for (let c = 0; c < src.length; c++) {
    // c is the C-order position of idx; its Fortran position has the first axis fastest
    let f = 0;
    for (let a = k - 1; a >= 0; a--) f = f * shape[a] + idx[a];
    (out as unknown as number[])[c] = (src as unknown as number[])[f];
    for (let a = k - 1; a >= 0; a--) {
      if (++idx[a] < shape[a]) break;
      idx[a] = 0;
    }
  }
  return out;
}

/** Writes a C-order little-endian .npy v1.0. `dtype` 'b1' stores Uint8Array data as bool. */
export function writeNpy(
  data: NumericArray,
  shape: number[],
  dtype: NpyDtype = elementType(data),
): Uint8Array {
  if (data.length !== size(shape))
    throw new Error(`npy: ${data.length} values for shape (${shape.join(', ')})`);
  if (data.BYTES_PER_ELEMENT !== ITEM[dtype] || dtype === 'f2')
    throw new Error(`npy: cannot write ${data.constructor.name} as ${dtype}`);
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const order = ITEM[dtype] === 1 ? '|' : '<';
  let header = `{'descr': '${order}${dtype}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return out;
}
