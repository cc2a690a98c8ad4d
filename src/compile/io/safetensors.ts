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

/** A typed array's element type as numpy spells it (kind letter, bytes): each format's name for it follows. */
export type ElementType = 'f8' | 'f4' | 'i8' | 'i4' | 'i2' | 'i1' | 'u8' | 'u4' | 'u2' | 'u1';

export function elementType(data: NumericArray): ElementType {
  const kind =
    data instanceof Float64Array || data instanceof Float32Array
      ? 'f'
      : data instanceof BigInt64Array ||
          data instanceof Int32Array ||
          data instanceof Int16Array ||
          data instanceof Int8Array
        ? 'i'
        : 'u';
  return `${kind}${data.BYTES_PER_ELEMENT}` as ElementType;
}

/** IEEE half → number. */
export function halfToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/**
 * A malformed safetensors file, or one whose weights hold NaN or infinity.
 * `tensor` names the entry at fault when there is one.
 */
export class SafetensorsError extends Error {
  constructor(
    message: string,
    readonly tensor?: string,
  ) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

/** The reference library's cap on the JSON header (safetensors' MAX_HEADER_SIZE). */
export const MAX_HEADER_BYTES = 100_000_000;

export interface ReadSafetensorsOptions {
  /**
   * Accept floating-point tensors holding NaN or ±infinity. Off by default:
   * such weights make every output NaN, and nothing mam-studio writes holds
   * them (training stops when the loss diverges), so a file that does is refused.
   */
  allowNonFinite?: boolean;
}

/** A JSON number the reference reads as a u64 (float-looking literals are replaced by parseHeader). */
const isCount = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 64;

/**
 * JSON.parse, except that number literals written with a fraction or an
 * exponent (`4.0`, `1e3`) come back as a marked pair ["\u0000float", text]
 * that no integer, string or map check accepts. The reference library refuses
 * them wherever it wants an integer, a string or a map; JSON.parse alone
 * would make `4.0` an integer.
 */
function parseHeader(text: string): unknown {
  return JSON.parse(
    text.replace(
      /"(?:[^"\\]|\\.)*"|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g,
      (token: string, num?: string) =>
        num !== undefined && /[.eE]/.test(num) ? `["\\u0000float","${num}"]` : token,
    ),
  );
}

/** A header value as written (float literals back in their own form). */
const show = (v: unknown) => JSON.stringify(v).replace(/\["\\u0000float","([^"]*)"\]/g, '$1');

interface Entry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

/** One header entry, checked the way the reference library's types check it (unknown fields are ignored, as there). */
function checkEntry(name: string, raw: unknown): Entry {
  const bad = (why: string) => new SafetensorsError(`safetensors: tensor '${name}' ${why}`, name);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw bad('is not an object with dtype, shape and data_offsets');
  const info = raw as Record<string, unknown>;
  for (const field of ['dtype', 'shape', 'data_offsets'])
    if (info[field] === undefined) throw bad(`has no ${field}`);
  const dtype = info.dtype;
  if (typeof dtype !== 'string' || !Object.hasOwn(ITEM_SIZE, dtype))
    throw bad(`has unknown dtype ${show(dtype)}`);
  const shape = info.shape;
  if (!Array.isArray(shape) || !shape.every(isCount))
    throw bad(`has shape ${show(shape)}: it must be a list of whole numbers ≥ 0`);
  const offsets = info.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount))
    throw bad(`has data_offsets ${show(offsets)}: they must be two whole numbers ≥ 0`);
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw bad(`has data_offsets [${begin}, ${end}]: the end comes before the start`);
  return { name, dtype: dtype as SafetensorsDtype, shape, begin, end };
}

/** Bytes a tensor of this shape and dtype takes; refused past 2^64, like the reference's checked product. */
function byteLength(e: Entry): number {
  let n = 1n;
  for (const d of [...e.shape, ITEM_SIZE[e.dtype]]) {
    n *= BigInt(d);
    if (n >= 2n ** 64n)
      throw new SafetensorsError(
        `safetensors: tensor '${e.name}' has shape [${e.shape}], too large to store`,
        e.name,
      );
  }
  return Number(n);
}

/** How many NaN and infinite values a floating-point tensor's bytes hold (0 for other dtypes). */
export function countNonFinite(t: Pick<SafeTensor, 'dtype' | 'bytes'>): number {
  const v = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  const check = {
    F64: [8, 6, 0x7ff0],
    F32: [4, 2, 0x7f80],
    F16: [2, 0, 0x7c00],
    BF16: [2, 0, 0x7f80],
  } as const;
  if (!(t.dtype in check)) return 0;
  // The high 16 bits of each value: all exponent bits set means NaN or ±infinity.
  const [step, high, mask] = check[t.dtype as keyof typeof check];
  let n = 0;
  for (let i = high; i < t.bytes.length; i += step) n += +((v.getUint16(i, true) & mask) === mask);
  return n;
}

/** The tensor entries of a parsed header, in header order, and its metadata. */
function readHeader(header: object): { entries: Entry[]; metadata: Record<string, string> } {
  const entries: Entry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name !== '__metadata__') entries.push(checkEntry(name, raw));
    else if (raw === null) continue;
    else if (
      typeof raw !== 'object' ||
      Array.isArray(raw) ||
      !Object.values(raw).every((v) => typeof v === 'string')
    )
      throw new SafetensorsError('safetensors: __metadata__ must map names to strings');
    else metadata = raw as Record<string, string>;
  }
  return { entries, metadata };
}

/** Sorted by offset, the tensors must lie end to end from 0 and fill the data exactly. */
function checkLayout(entries: readonly Entry[], dataLength: number): void {
  let at = 0;
  for (const e of [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end)) {
    if (e.begin !== at)
      throw new SafetensorsError(
        e.begin < at
          ? `safetensors: tensor '${e.name}' (bytes ${e.begin}–${e.end}) overlaps the tensor before it, which ends at ${at}`
          : `safetensors: tensor '${e.name}' starts at byte ${e.begin}, leaving bytes ${at}–${e.begin} unused`,
        e.name,
      );
    const need = byteLength(e);
    if (e.end - e.begin !== need)
      throw new SafetensorsError(
        `safetensors: tensor '${e.name}' has ${e.end - e.begin} bytes, shape [${e.shape}] of ${e.dtype} needs ${need}`,
        e.name,
      );
    at = e.end;
  }
  if (at !== dataLength)
    throw new SafetensorsError(
      at > dataLength
        ? `safetensors: the tensors need ${at} bytes of data, the file holds ${dataLength}`
        : `safetensors: the file holds ${dataLength} bytes of data, the tensors use ${at}`,
    );
}

/**
 * Parses a safetensors file, checking it as the reference library does: a
 * header length within the file and under its cap, a UTF-8 JSON object, a
 * `__metadata__` map of strings, and for every tensor a known dtype, a shape
 * of whole numbers and two whole-number offsets; sorted by offset, the tensors
 * lie end to end from 0, fill the data exactly, and each is as long as its
 * shape and dtype say. Throws a SafetensorsError otherwise, and (unless
 * allowed) when a floating-point tensor holds NaN or infinity.
 */
export function readSafetensors(
  bytes: Uint8Array,
  opts: ReadSafetensorsOptions = {},
): SafetensorsFile {
  if (bytes.byteLength < 8)
    throw new SafetensorsError('safetensors: file shorter than its 8-byte header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES))
    throw new SafetensorsError(
      `safetensors: header length ${n64} is over the ${MAX_HEADER_BYTES}-byte limit`,
    );
  const n = Number(n64);
  if (8 + n > bytes.byteLength)
    throw new SafetensorsError(
      `safetensors: header length ${n} exceeds the file (${bytes.byteLength} bytes)`,
    );
  let header: unknown;
  try {
    header = parseHeader(
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)),
    );
  } catch (e) {
    throw new SafetensorsError(`safetensors: header is not JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw new SafetensorsError('safetensors: header is not a JSON object');
  const { entries, metadata } = readHeader(header);
  const dataStart = 8 + n;
  checkLayout(entries, bytes.byteLength - dataStart);
  const tensors = new Map<string, SafeTensor>();
  for (const e of entries) {
    const t = {
      dtype: e.dtype,
      shape: e.shape.slice(),
      bytes: bytes.slice(dataStart + e.begin, dataStart + e.end),
    };
    const bad = opts.allowNonFinite ? 0 : countNonFinite(t);
    if (bad)
      throw new SafetensorsError(
        `safetensors: tensor '${e.name}' holds ${bad} NaN or infinite value${bad === 1 ? '' : 's'} (of ${size(e.shape)}); refused`,
        e.name,
      );
    tensors.set(e.name, t);
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

/** The typed array's own dtype: 'f4' is F32, 'i8' I64, 'u1' U8. */
function defaultDtype(data: NumericArray): SafetensorsDtype {
  const t = elementType(data);
  return `${t[0].toUpperCase()}${Number(t.slice(1)) * 8}` as SafetensorsDtype;
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
