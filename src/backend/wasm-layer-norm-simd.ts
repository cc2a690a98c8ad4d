// LayerNorm's two passes a row in WebAssembly SIMD (f32x4), on the wasm
// backend's own memory: a small module, assembled here byte by byte, imports
// that memory, so it reads and writes the tensors where they lie. JavaScript
// loops over the same data run ~1 ns an element a pass here, these ~0.2.
//
// Sums are shifted by the row's first value K (x − K is exact for values
// within a factor 2 of K; the sums of these small numbers lose no digits to
// the row's offset from 0), and x − mean is formed as (x − K) − shift, never
// through a rounded mean. Sums are float32, four lanes (as the products
// XNNPACK runs for the composite path).
//
// Rows of C floats, C a multiple of 4; pointers are byte offsets in memory.
//   forward(x, γ, β, y, M, C, eps)
//   backward(dy, x, γ, dx, dγ, dβ, M, C, eps)   dγ and dβ accumulate: zero them first
//   sumRows(x, out, M, C)                       the rows' sum (gradients of biases), out zeroed first

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;

/** Unsigned LEB128. */
function u32(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** Signed LEB128 (i32.const). */
function s32(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...out, b];
    out.push(b | 0x80);
  }
}

const vec = (items: number[][]) => [...u32(items.length), ...items.flat()];
const name = (s: string) => vec([...s].map((c) => [c.charCodeAt(0)]));
const section = (id: number, body: number[]) => [id, ...u32(body.length), ...body];

// instructions
const get = (i: number) => [0x20, ...u32(i)];
const set = (i: number) => [0x21, ...u32(i)];
const i32c = (n: number) => [0x41, ...s32(n)];
const f32c = (v: number) => [0x43, ...new Uint8Array(new Float32Array([v]).buffer)];
const add = 0x6a;
const lt = 0x49; // i32.lt_u
const eqz = 0x45;
const [fadd, fsub, fmul, fdiv, fsqrt, fmax] = [0x92, 0x93, 0x94, 0x95, 0x91, 0x97];
const u32ToF32 = 0xb3;
const fload = [0x2a, 2, 0];
const simd = (op: number) => [0xfd, ...u32(op)];
const vload = [...simd(0x00), 4, 0];
const vstore = [...simd(0x0b), 4, 0];
const splat = simd(0x13);
const lane = (i: number) => [...simd(0x1f), i];
const [vadd, vsub, vmul] = [simd(0xe4), simd(0xe5), simd(0xe6)];
const END = 0x0b;

/** Sum of the four lanes of the v128 in local `v`. */
const hsum = (v: number) => [
  ...get(v),
  ...lane(0),
  ...get(v),
  ...lane(1),
  fadd,
  ...get(v),
  ...lane(2),
  fadd,
  ...get(v),
  ...lane(3),
  fadd,
];

/** `body` for c = 0, 16, … < `limit` (bytes; at least one pass), c in local `c`. */
const forBytes = (c: number, limit: number, body: number[]) => [
  ...i32c(0),
  ...set(c),
  0x03,
  0x40,
  ...body,
  ...get(c),
  ...i32c(16),
  add,
  0x22, // local.tee
  ...u32(c),
  ...get(limit),
  lt,
  0x0d,
  0, // br_if the loop
  END,
];

/** `body` for each row r < M (local `r`), advancing the byte offset local `o` by `rowBytes`. */
const forRows = (r: number, M: number, o: number, rowBytes: number, body: number[]) => [
  ...i32c(0),
  ...set(r),
  ...i32c(0),
  ...set(o),
  0x02,
  0x40, // block
  0x03,
  0x40, // loop
  ...get(r),
  ...get(M),
  lt,
  eqz,
  0x0d,
  1, // br_if out of the block
  ...body,
  ...get(o),
  ...get(rowBytes),
  add,
  ...set(o),
  ...get(r),
  ...i32c(1),
  add,
  ...set(r),
  0x0c,
  0, // br to the loop
  END,
  END,
];

/** The address local `base` + local `o` + local `c`. */
const at = (base: number, ...offsets: number[]) => [
  ...get(base),
  ...offsets.flatMap((l) => [...get(l), add]),
];

/** rowBytes = 4·C, Cf = C as f32, then `row` for each row (see forRows). */
const eachRow = (
  C: number,
  rowBytes: number,
  Cf: number,
  r: number,
  M: number,
  o: number,
  row: number[],
) => [
  ...get(C),
  ...i32c(2),
  0x74, // i32.shl
  ...set(rowBytes),
  ...get(C),
  u32ToF32,
  ...set(Cf),
  ...forRows(r, M, o, rowBytes, row),
];

/** K = the row's first value (x at byte offset o), Kv its splat, and the vectors `zeroed` set to 0. */
const rowStart = (x: number, o: number, K: number, Kv: number, zeroed: number[]) => [
  ...at(x, o),
  ...fload,
  ...set(K),
  ...get(K),
  ...splat,
  ...set(Kv),
  ...zeroed.flatMap((l) => [...f32c(0), ...splat, ...set(l)]),
];

/** sum = the lanes of v summed, mean = sum / C. */
const laneMean = (v: number, sum: number, mean: number, Cf: number) => [
  ...hsum(v),
  ...set(sum),
  ...get(sum),
  ...get(Cf),
  fdiv,
  ...set(mean),
];

/**
 * From the lane sums sv = Σ(x − K) and qv = Σ(x − K)²: s, shift = s/C (the
 * mean − K) and rs = 1/√(max(0, (q − s·shift)/C) + eps).
 */
const moments = (
  sv: number,
  qv: number,
  s: number,
  shift: number,
  rs: number,
  Cf: number,
  eps: number,
) => [
  ...laneMean(sv, s, shift, Cf),
  ...f32c(1),
  ...hsum(qv),
  ...get(s),
  ...get(shift),
  fmul,
  fsub,
  ...get(Cf),
  fdiv,
  ...f32c(0),
  fmax,
  ...get(eps),
  fadd,
  fsqrt,
  fdiv,
  ...set(rs),
];

/** local += value (v128). */
const accumulate = (local: number, value: number[]) => [
  ...get(local),
  ...value,
  ...vadd,
  ...set(local),
];

/** v = x − K for four values; sv += v, qv += v². */
const shiftedSums = (
  x: number,
  o: number,
  c: number,
  Kv: number,
  v: number,
  sv: number,
  qv: number,
) => [
  ...at(x, o, c),
  ...vload,
  ...get(Kv),
  ...vsub,
  ...set(v),
  ...accumulate(sv, get(v)),
  ...accumulate(qv, [...get(v), ...get(v), ...vmul]),
];

/** memory[base + c] += value (four floats). */
const addTo = (base: number, c: number, value: number[]) => [
  ...at(base, c),
  ...at(base, c),
  ...vload,
  ...value,
  ...vadd,
  ...vstore,
];

/** x̂ of four values, ((x − K) − shift)·rs, on the stack. */
const normalised = (x: number, o: number, c: number, Kv: number, shiftv: number, rsv: number) => [
  ...at(x, o, c),
  ...vload,
  ...get(Kv),
  ...vsub,
  ...get(shiftv),
  ...vsub,
  ...get(rsv),
  ...vmul,
];

function forwardBody(): { locals: number[]; body: number[] } {
  // params: 0 x, 1 g, 2 b, 3 y, 4 M, 5 C, 6 eps
  const [x, g, b, y, M, C, eps] = [0, 1, 2, 3, 4, 5, 6];
  // locals: i32 r, o, c, rowBytes; f32 Cf, K, s, shift, rs; v128 Kv, sv, qv, v, shiftv, rsv
  const [r, o, c, rowBytes] = [7, 8, 9, 10];
  const [Cf, K, s, shift, rs] = [11, 12, 13, 14, 15];
  const [Kv, sv, qv, v, shiftv, rsv] = [16, 17, 18, 19, 20, 21];
  const locals = [
    ...[r, o, c, rowBytes].map(() => I32),
    ...[Cf, K, s, shift, rs].map(() => F32),
    ...[Kv, sv, qv, v, shiftv, rsv].map(() => V128),
  ];
  const row = [
    ...rowStart(x, o, K, Kv, [sv, qv]),
    ...forBytes(c, rowBytes, shiftedSums(x, o, c, Kv, v, sv, qv)),
    ...moments(sv, qv, s, shift, rs, Cf, eps),
    ...get(shift),
    ...splat,
    ...set(shiftv),
    ...get(rs),
    ...splat,
    ...set(rsv),
    ...forBytes(c, rowBytes, [
      ...at(y, o, c),
      ...normalised(x, o, c, Kv, shiftv, rsv),
      ...at(g, c),
      ...vload,
      ...vmul,
      ...at(b, c),
      ...vload,
      ...vadd,
      ...vstore,
    ]),
  ];
  const body = eachRow(C, rowBytes, Cf, r, M, o, row);
  return { locals, body };
}

function backwardBody(): { locals: number[]; body: number[] } {
  // params: 0 dy, 1 x, 2 g, 3 dx, 4 dg, 5 db, 6 M, 7 C, 8 eps
  const [dy, x, g, dx, dg, db, M, C, eps] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [r, o, c, rowBytes] = [9, 10, 11, 12];
  const [Cf, K, s, shift, rs, sumG, meanG, meanGx] = [13, 14, 15, 16, 17, 18, 19, 20];
  const [Kv, sv, qv, gv, gdv, v, d, gc, xh, shiftv, rsv, meanGv, meanGxv] = [
    21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33,
  ];
  const locals = [
    ...[r, o, c, rowBytes].map(() => I32),
    ...[Cf, K, s, shift, rs, sumG, meanG, meanGx].map(() => F32),
    ...[Kv, sv, qv, gv, gdv, v, d, gc, xh, shiftv, rsv, meanGv, meanGxv].map(() => V128),
  ];
  const row = [
    ...rowStart(x, o, K, Kv, [sv, qv, gv, gdv]),
    // v = x − K, d = dy, gc = d·γ: s += v, q += v², Σg += gc, Σg·v += gc·v, dβ += d
    ...forBytes(c, rowBytes, [
      ...shiftedSums(x, o, c, Kv, v, sv, qv),
      ...at(dy, o, c),
      ...vload,
      ...set(d),
      ...get(d),
      ...at(g, c),
      ...vload,
      ...vmul,
      ...set(gc),
      ...accumulate(gv, get(gc)),
      ...accumulate(gdv, [...get(gc), ...get(v), ...vmul]),
      ...addTo(db, c, get(d)),
    ]),
    ...moments(sv, qv, s, shift, rs, Cf, eps),
    ...laneMean(gv, sumG, meanG, Cf),
    // mean(g·x̂) = rs·(Σg·(x − K) − shift·Σg)/C
    ...get(rs),
    ...hsum(gdv),
    ...get(shift),
    ...get(sumG),
    fmul,
    fsub,
    fmul,
    ...get(Cf),
    fdiv,
    ...set(meanGx),
    ...[
      [shift, shiftv],
      [rs, rsv],
      [meanG, meanGv],
      [meanGx, meanGxv],
    ].flatMap(([f, vv]) => [...get(f), ...splat, ...set(vv)]),
    // x̂ = ((x − K) − shift)·rs; dγ += d·x̂; dx = (d·γ − mean(g) − x̂·mean(g·x̂))·rs
    ...forBytes(c, rowBytes, [
      ...normalised(x, o, c, Kv, shiftv, rsv),
      ...set(xh),
      ...at(dy, o, c),
      ...vload,
      ...set(d),
      ...addTo(dg, c, [...get(d), ...get(xh), ...vmul]),
      ...at(dx, o, c),
      ...get(d),
      ...at(g, c),
      ...vload,
      ...vmul,
      ...get(meanGv),
      ...vsub,
      ...get(xh),
      ...get(meanGxv),
      ...vmul,
      ...vsub,
      ...get(rsv),
      ...vmul,
      ...vstore,
    ]),
  ];
  const body = eachRow(C, rowBytes, Cf, r, M, o, row);
  return { locals, body };
}

/** out[c] = Σ_r x[r, c] for x `[M, n]` (out zeroed first). */
function sumRowsBody(): { locals: number[]; body: number[] } {
  // params: 0 x, 1 out, 2 M, 3 n; locals: r, o, c, rowBytes
  const [x, out, M, n, r, o, c, rowBytes] = [0, 1, 2, 3, 4, 5, 6, 7];
  const body = [
    ...get(n),
    ...i32c(2),
    0x74, // i32.shl
    ...set(rowBytes),
    ...forRows(r, M, o, rowBytes, forBytes(c, rowBytes, addTo(out, c, [...at(x, o, c), ...vload]))),
  ];
  return { locals: [I32, I32, I32, I32], body };
}

function code({ locals, body }: { locals: number[]; body: number[] }): number[] {
  const groups = vec(locals.map((t) => [1, t]));
  const fn = [...groups, ...body, END];
  return [...u32(fn.length), ...fn];
}

/** The module's bytes, importing `env.memory` (shared: the threaded build's memory). */
export function layerNormModuleBytes(shared: boolean): Uint8Array<ArrayBuffer> {
  const forwardType = [0x60, ...vec([I32, I32, I32, I32, I32, I32, F32].map((t) => [t])), 0];
  const backwardType = [
    0x60,
    ...vec([I32, I32, I32, I32, I32, I32, I32, I32, F32].map((t) => [t])),
    0,
  ];
  const sumRowsType = [0x60, ...vec([I32, I32, I32, I32].map((t) => [t])), 0];
  // limits: min 0; shared memory needs a max (4 GiB, the most any memory has)
  const limits = shared ? [0x03, 0, ...u32(65536)] : [0x00, 0];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    ...section(1, vec([forwardType, backwardType, sumRowsType])),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, ...limits]])),
    ...section(3, vec([[0], [1], [2]])),
    ...section(
      7,
      vec([
        [...name('forward'), 0x00, 0],
        [...name('backward'), 0x00, 1],
        [...name('sumRows'), 0x00, 2],
      ]),
    ),
    ...section(10, vec([code(forwardBody()), code(backwardBody()), code(sumRowsBody())])),
  ]);
}

export interface LayerNormSimd {
  forward(x: number, g: number, b: number, y: number, M: number, C: number, eps: number): void;
  backward(
    dy: number,
    x: number,
    g: number,
    dx: number,
    dg: number,
    db: number,
    M: number,
    C: number,
    eps: number,
  ): void;
  /** out[c] = Σ_r x[r, c], x `[M, n]`: out accumulates, zero it first */
  sumRows(x: number, out: number, M: number, n: number): void;
}

/** The SIMD LayerNorm on `memory`, or null where WebAssembly SIMD is not there. */
export function layerNormSimd(memory: WebAssembly.Memory): LayerNormSimd | null {
  const shared =
    typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const bytes = layerNormModuleBytes(shared);
  if (!WebAssembly.validate(bytes)) return null;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  return instance.exports as unknown as LayerNormSimd;
}
