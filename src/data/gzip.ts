/**
 * gzip reading that checks what fflate leaves unchecked: each member's CRC-32
 * and length (ISIZE), a stream cut anywhere (header, data, trailer), and an
 * output cap so a small file cannot inflate to gigabytes.
 *
 * fflate's streaming Gunzip inflates; member boundaries come from its
 * `onmember` callback. After the input we push a tiny empty gzip member of
 * our own (the sentinel): a stream that ends where it should then reports
 * the sentinel as a member starting at exactly the input's length, and any
 * other outcome means the input ended inside a member.
 */
import { Gunzip, gzipSync } from 'fflate';

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

export interface GunzipOptions {
  /** Stop inflating once the output passes this many bytes (default: no cap). */
  maxBytes?: number;
}

export interface GunzipResult {
  /** The bytes inflated before any error, at most `maxBytes`. */
  data: Uint8Array;
  /** Why the stream is not a whole, intact gzip file ("truncated: …", "corrupt: …"), or null. */
  error: string | null;
  /** Inflating stopped because the output passed `maxBytes`. */
  overLimit: boolean;
  /** Bytes the inflater produced in all (at most `maxBytes` + MAX_OVERSHOOT). */
  inflated: number;
}

/**
 * Input goes to fflate in pieces of PIECE_MIN..PIECE_MAX bytes, sized to the
 * room left under the cap. Deflate expands at most 1032:1 and fflate keeps
 * back at most a partial symbol (a few bytes) between pushes, so the output
 * passes a cap by at most MAX_OVERSHOOT before inflating stops.
 */
const PIECE_MIN = 4096;
const PIECE_MAX = 65536;
const RATIO = 1032;
export const MAX_OVERSHOOT = (PIECE_MIN + 8) * RATIO;
/** The most one call inflates (a typed array's practical limit). */
const MAX_OUTPUT = 2 ** 31 - 1;

/** An empty gzip member: header, an empty final stored block, CRC 0, length 0. */
const SENTINEL = new Uint8Array([
  0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
]);

/** CRC-32 tables for four bytes at a time ("slicing by 4"): TABLES[k][n] is n's CRC shifted through k more zero bytes. */
const TABLES = (() => {
  const t = Array.from({ length: 4 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[0][n] = c >>> 0;
  }
  for (let k = 1; k < 4; k++)
    for (let n = 0; n < 256; n++) t[k][n] = (t[k - 1][n] >>> 8) ^ t[0][t[k - 1][n] & 0xff];
  return t;
})();

/** CRC-32 (gzip's) of `bytes`, continuing from `crc` (pass the previous result). */
export function crc32(bytes: Uint8Array, crc = 0): number {
  const [t0, t1, t2, t3] = TABLES;
  let c = ~crc >>> 0;
  let i = 0;
  for (const end = bytes.length - 3; i < end; i += 4) {
    c ^= bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    c = t3[c & 0xff] ^ t2[(c >>> 8) & 0xff] ^ t1[(c >>> 16) & 0xff] ^ t0[c >>> 24];
  }
  for (; i < bytes.length; i++) c = t0[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const count = (n: number) => n.toLocaleString('en-US');
const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

/** Length of the gzip header at the start of `b`, or why it cannot be read. */
function headerLength(b: Uint8Array): number | string {
  const total = b.length;
  const cut = (what: string) =>
    `truncated: the file ends after ${count(total)} bytes, inside the gzip header's ${what}`;
  if (total < 10) return cut('fixed 10 bytes');
  if (b[0] !== 0x1f || b[1] !== 0x8b) return 'corrupt: not a gzip stream (wrong magic bytes)';
  if (b[2] !== 8) return `corrupt: unknown gzip compression method ${b[2]} (only 8, deflate)`;
  const flags = b[3];
  if (flags & 0xe0) return `corrupt: reserved gzip header flags are set (${hex(flags)})`;
  let at = 10;
  if (flags & 4) {
    if (total < 12) return cut('extra field length');
    at += 2 + (b[10] | (b[11] << 8));
    if (at > total) return cut('extra field');
  }
  for (const [bit, what] of [
    [8, 'file name'],
    [16, 'comment'],
  ] as const) {
    if (!(flags & bit)) continue;
    while (at < total && b[at] !== 0) at++;
    if (at >= total) return cut(what);
    at++;
  }
  if (flags & 2) at += 2;
  if (at > total) return cut('header CRC');
  if (at === total)
    return `truncated: the file ends after ${count(total)} bytes, right after the gzip header: no compressed data follows`;
  return at;
}

/** Output collected into one buffer that grows to fit, never past `cap`. */
class Output {
  buf: Uint8Array;
  length = 0;
  constructor(
    private readonly cap: number,
    hint: number,
  ) {
    this.buf = new Uint8Array(Math.min(cap, Math.max(hint, 1 << 16)));
  }
  add(chunk: Uint8Array): void {
    const take = Math.min(chunk.length, this.cap - this.length);
    if (this.length + take > this.buf.length) {
      const grown = new Uint8Array(
        Math.min(this.cap, Math.max(this.length + take, this.buf.length * 2)),
      );
      grown.set(this.buf.subarray(0, this.length));
      this.buf = grown;
    }
    this.buf.set(chunk.subarray(0, take), this.length);
    this.length += take;
  }
}

/**
 * Push `bytes` into `g` in pieces small enough that the output passes `cap`
 * by at most MAX_OVERSHOOT; true when it passed `cap`. The last piece is
 * pushed as final when `final` (fflate then inflates all it can and throws at a cut).
 */
function feed(
  g: Gunzip,
  bytes: Uint8Array,
  cap: number,
  produced: () => number,
  final: boolean,
  stop: () => boolean,
): boolean {
  for (let at = 0; at < bytes.length && !stop();) {
    const room = Math.floor((cap - produced()) / RATIO);
    const piece = Math.max(PIECE_MIN, Math.min(PIECE_MAX, room));
    g.push(bytes.subarray(at, at + piece), final && at + piece >= bytes.length);
    at += piece;
    if (produced() > cap) return true;
  }
  return false;
}

/**
 * Inflate a gzip file (one or more members), checking every member's CRC-32
 * and length. Whatever inflated before an error is kept, so a truncated file
 * can still say how much it holds.
 */
export function gunzip(bytes: Uint8Array, opts: GunzipOptions = {}): GunzipResult {
  const cap = Math.min(opts.maxBytes ?? MAX_OUTPUT, MAX_OUTPUT);
  const total = bytes.length;
  const head = headerLength(bytes);
  if (typeof head === 'string')
    return { data: new Uint8Array(0), error: head, overLimit: false, inflated: 0 };
  // The last member's ISIZE, a hint for the output size (checked, never trusted past the cap).
  const hint =
    total >= 18
      ? (bytes[total - 4] |
          (bytes[total - 3] << 8) |
          (bytes[total - 2] << 16) |
          (bytes[total - 1] << 24)) >>>
        0
      : 0;
  let out = new Output(cap, Math.min(hint, total * RATIO));
  let inflated = 0;
  let crc = 0;
  let memberStart = 0;
  let memberOut = 0;
  let member = 1;
  let error: string | null = null;
  let ended = false; // the sentinel was reached at exactly the input's end
  const g = new Gunzip((chunk) => {
    inflated += chunk.length;
    crc = crc32(chunk, crc);
    out.add(chunk);
  });
  g.onmember = (offset) => {
    if (error || offset > total) return; // past the input: the member was cut (see below)
    const t = offset - 8;
    const storedCrc =
      (bytes[t] | (bytes[t + 1] << 8) | (bytes[t + 2] << 16) | (bytes[t + 3] << 24)) >>> 0;
    const storedSize =
      (bytes[t + 4] | (bytes[t + 5] << 8) | (bytes[t + 6] << 16) | (bytes[t + 7] << 24)) >>> 0;
    const size = inflated - memberOut;
    if (t < memberStart)
      error = `corrupt: gzip member ${member} ends before its 8-byte trailer (at byte ${count(offset)})`;
    else if (storedCrc !== crc)
      error = `corrupt: gzip member ${member} fails its CRC-32 check (stored ${hex(storedCrc)}, computed ${hex(crc)} over ${count(size)} bytes)`;
    else if (storedSize !== size % 2 ** 32)
      error = `corrupt: gzip member ${member} says it holds ${count(storedSize)} bytes (mod 2^32) but inflated to ${count(size)}`;
    if (error) return;
    if (offset === total) ended = true;
    member++;
    memberStart = offset;
    memberOut = inflated;
    crc = 0;
  };
  let overLimit = false;
  try {
    overLimit = feed(
      g,
      bytes,
      cap,
      () => inflated,
      false,
      () => error !== null,
    );
  } catch (e) {
    const why = (e as Error).message;
    error =
      why === 'invalid gzip data'
        ? `corrupt: the bytes after gzip member ${member} are not another gzip member`
        : `corrupt: ${why} in gzip member ${member} (after ${count(inflated)} bytes inflated)`;
  }
  if (!error && !overLimit) {
    try {
      g.push(SENTINEL, true);
    } catch {
      // The bytes after the input's end were read as part of a member: it was cut.
    }
    if (!error && !ended) {
      // Inflate again, told the input ends here, to keep all it holds (the sentinel's output is not the file's).
      const salvaged = new Output(cap, out.length);
      const again = new Gunzip((chunk) => salvaged.add(chunk));
      try {
        feed(
          again,
          bytes,
          cap,
          () => salvaged.length,
          true,
          () => false,
        );
      } catch {
        // the cut: what inflated before it is kept
      }
      out = salvaged;
      error = `truncated: the file ends after ${count(total)} bytes, inside gzip member ${member}, with ${count(out.length)} bytes inflated`;
    }
  }
  if (overLimit) error = `inflates to more than ${count(cap)} bytes (stopped there)`;
  return { data: out.buf.subarray(0, out.length), error, overLimit, inflated };
}

export function gzip(
  bytes: Uint8Array,
  level: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 = 6,
): Uint8Array {
  return gzipSync(bytes, { level });
}
