/**
 * safetensors reader/writer, pure TypeScript on bytes (no fs), so it runs in
 * the browser, a worker and Node.
 *
 * Format: 8-byte little-endian u64 header length N, N bytes of JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {…}}`
 * (offsets relative to the byte after the header), then the tensor bytes,
 * little-endian, C order.
 */

export type SafetensorsDtype =
  | 'F64'
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'I64'
  | 'I32'
  | 'I16'
  | 'I8'
  | 'U64'
  | 'U32'
  | 'U16'
  | 'U8'
  | 'BOOL';

const ITEM_SIZE: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

/** One stored tensor: its raw little-endian bytes (a copy, 8-byte aligned). */
export interface SafeTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  bytes: Uint8Array;
}

export interface SafetensorsFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

export type NumericArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint32Array
  | Uint16Array
  | Uint8Array
  | BigInt64Array
  | BigUint64Array;

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** IEEE half → number. */
export function halfToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Parses a safetensors file. Throws with a message on malformed input. */
export function readSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.byteLength < 8)
    throw new Error('safetensors: file shorter than its 8-byte header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (8 + n > bytes.byteLength) throw new Error(`safetensors: header length ${n} exceeds the file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new Error(`safetensors: header is not JSON (${(e as Error).message})`, { cause: e });
  }
  const dataStart = 8 + n;
  const dataLength = bytes.byteLength - dataStart;
  const tensors = new Map<string, SafeTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (raw ?? {}) as Record<string, string>;
      continue;
    }
    const info = raw as {
      dtype: SafetensorsDtype;
      shape: number[];
      data_offsets: [number, number];
    };
    const item = ITEM_SIZE[info.dtype];
    if (!item) throw new Error(`safetensors: tensor ${name} has unknown dtype ${info.dtype}`);
    const [begin, end] = info.data_offsets;
    if (!(begin >= 0 && end >= begin && end <= dataLength))
      throw new Error(`safetensors: tensor ${name} offsets out of range`);
    if (end - begin !== size(info.shape) * item) {
      throw new Error(
        `safetensors: tensor ${name} has ${end - begin} bytes, shape ${info.shape} needs ${size(info.shape) * item}`,
      );
    }
    tensors.set(name, {
      dtype: info.dtype,
      shape: info.shape.slice(),
      bytes: bytes.slice(dataStart + begin, dataStart + end),
    });
  }
  return { tensors, metadata };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The tensor's values as a typed array of its dtype (F16/BF16 widen to Float32Array, BOOL is Uint8Array). */
export function tensorValues(t: SafeTensor): NumericArray {
  if (!LITTLE_ENDIAN) throw new Error('safetensors: big-endian hosts are not supported');
  const buf = t.bytes.buffer.slice(t.bytes.byteOffset, t.bytes.byteOffset + t.bytes.byteLength);
  switch (t.dtype) {
    case 'F64':
      return new Float64Array(buf);
    case 'F32':
      return new Float32Array(buf);
    case 'F16':
      return Float32Array.from(new Uint16Array(buf), halfToNumber);
    case 'BF16': {
      const src = new Uint16Array(buf);
      const out = new Uint32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = src[i] << 16;
      return new Float32Array(out.buffer);
    }
    case 'I64':
      return new BigInt64Array(buf);
    case 'U64':
      return new BigUint64Array(buf);
    case 'I32':
      return new Int32Array(buf);
    case 'U32':
      return new Uint32Array(buf);
    case 'I16':
      return new Int16Array(buf);
    case 'U16':
      return new Uint16Array(buf);
    case 'I8':
      return new Int8Array(buf);
    case 'U8':
    case 'BOOL':
      return new Uint8Array(buf);
  }
}

/** The tensor's values converted to float32 (the tfjs working type). */
export function toFloat32(t: SafeTensor): Float32Array {
  const v = tensorValues(t);
  if (v instanceof Float32Array) return v;
  if (v instanceof BigInt64Array || v instanceof BigUint64Array)
    return Float32Array.from(v, (x) => Number(x));
  return Float32Array.from(v as ArrayLike<number>);
}

export interface TensorToWrite {
  dtype?: SafetensorsDtype;
  shape: number[];
  data: NumericArray;
}

function defaultDtype(data: NumericArray): SafetensorsDtype {
  if (data instanceof Float64Array) return 'F64';
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Int32Array) return 'I32';
  if (data instanceof Int16Array) return 'I16';
  if (data instanceof Int8Array) return 'I8';
  if (data instanceof Uint32Array) return 'U32';
  if (data instanceof Uint16Array) return 'U16';
  if (data instanceof BigInt64Array) return 'I64';
  if (data instanceof BigUint64Array) return 'U64';
  return 'U8';
}

/**
 * Serialises tensors (names sorted, data 8-byte aligned). `dtype` defaults to
 * the typed array's; it must have the same item size (e.g. U8 data as BOOL,
 * U16 data holding F16/BF16 bits).
 */
export function writeSafetensors(
  tensors: Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    const dtype = t.dtype ?? defaultDtype(t.data);
    if (t.data.BYTES_PER_ELEMENT !== ITEM_SIZE[dtype])
      throw new Error(`safetensors: ${name}: ${dtype} needs ${ITEM_SIZE[dtype]}-byte items`);
    if (t.data.length !== size(t.shape))
      throw new Error(`safetensors: ${name}: ${t.data.length} values for shape ${t.shape}`);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const name of names) {
    const d = tensors[name].data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos);
    pos += d.byteLength;
  }
  return out;
}
