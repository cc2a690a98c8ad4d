// A matrix product in WebAssembly SIMD on the wasm backend's memory (see
// wasm-simd-asm.ts): C `[M, N]` = op(A)·op(B) (+ bias), row-major C. Both
// operands are read through strides (bytes): A(i, k) at a + i·sai + k·sak,
// B(k, j) at b + k·sbk + j·sbj, so a transposed operand costs nothing extra.
//
// Register tile: 4 rows × 8 columns (8 f32x4 accumulators in locals), A's
// values splat from memory (v128.load32_splat), B's row of 8 from a packed
// panel. Loop order: blocks of KC rows of B; in each, panels of 8 columns of
// B, copied once into a contiguous scratch (KC × 32 bytes, stays in the L1
// cache; read in place, rows of B 4 KiB apart alias in L1), then tiles of 4
// rows of A over the panel. The first block starts from the bias (or 0),
// later ones from C. Edges: a panel of 4 columns, tiles of 2 rows then 1 for
// the M % 4 left, then the last N % 4 columns one at a time (scalar).
//
// The multiply-add is f32x4.mul then f32x4.add, or f32x4.relaxed_madd (fused
// where the CPU has FMA) on request: see gemmSimd.
//
// gemmBatched runs the same body over a batch of (window, head) entries, each
// moving A, B and C by its own strides, with C's row stride a parameter
// (gemm's is 4N): window attention's small products read in place from and
// written straight into its layouts (wasm-batched-product.ts). Its extra
// parameters are gemm's first locals, so both functions share every local's
// index and the one body.
import {
  F32,
  get,
  I32,
  i32c,
  instantiateSimd,
  set,
  simd,
  simdModuleBytes,
  u32,
  V128,
  vadd,
  vmul,
  whileLt,
  type SimdFunction,
} from './wasm-simd-asm.ts';

/** Rows of B per block (B's panel of KC × 8 floats, 8 KiB, stays in L1). */
export const KC = 256;

const [addI, sub, mul, and, shl, shrU, eq, ltU, gtU] = [
  0x6a, 0x6b, 0x6c, 0x71, 0x74, 0x76, 0x46, 0x49, 0x4b,
];
const tee = (i: number) => [0x22, ...u32(i)];
const vloadAt = (offset: number) => [...simd(0x00), 4, ...u32(offset)];
const vstoreAt = (offset: number) => [...simd(0x0b), 4, ...u32(offset)];
const splatLoad = [...simd(0x09), 2, 0];
const floadAt = (offset: number) => [0x2a, 2, ...u32(offset)];
const fstoreAt = (offset: number) => [0x38, 2, ...u32(offset)];
const vzero = [...simd(0x0c), ...new Array<number>(16).fill(0)];
const fzero = [0x43, 0, 0, 0, 0];
const relaxedMadd = simd(0x105);

/** if (cond on the stack) then … else … */
const ifElse = (then: number[], otherwise: number[]) => [
  0x04,
  0x40,
  ...then,
  0x05,
  ...otherwise,
  0x0b,
];
/** local += the i32 that `by` leaves on the stack. */
const advance = (local: number, by: number[]) => [...get(local), ...by, addI, ...set(local)];

// parameters of gemm
const [A, B, C, BIAS, M, N, K, SAI, SAK, SBK, SBJ, HAS_BIAS, PANEL] = [
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
];
// gemmBatched's further parameters, locals of gemm (which sets ROW = 4N): C's
// row stride, the batch's counts (windows, heads) and its strides for A, B, C
const [ROW, NW, NH, SAW, SAH, SBW, SBH, SCW, SCH] = [13, 14, 15, 16, 17, 18, 19, 20, 21];
const BATCH_PARAMS = 9;
// i32 locals: the batch's bases and counters, NB = 4N (bytes of a row's columns)
const [A0, B0, C0, WI, HI, NB] = [22, 23, 24, 25, 26, 27];
const [K0, KN, I, J, PA, PB, PC, KK, SAI2, SAI3, M4, N8, N4, FIRST, PP, Q] = [
  28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43,
];
// f32 local
const S = 44;
// v128 locals: 8 accumulators, 2 of B, 1 of A
const ACC = [45, 46, 47, 48, 49, 50, 51, 52];
const [BV0, BV1, AV] = [53, 54, 55];
// i32 local: M & ~1
const M2 = 56;
const LOCALS = [...new Array<number>(22).fill(I32), F32, ...new Array<number>(11).fill(V128), I32];

/**
 * `body` KN times (KN ≥ 1), counting KK down; `steps` are the pointers'
 * advances after each pass.
 */
const eachK = (body: number[], steps: number[]) => [
  ...get(KN),
  ...set(KK),
  0x03,
  0x40,
  ...body,
  ...steps,
  ...get(KK),
  ...i32c(1),
  sub,
  ...tee(KK),
  0x0d,
  0,
  0x0b,
];

/** `base` + Σ x·s over the pairs of locals [x, s], on the stack. */
const plusProducts = (base: number, ...pairs: [number, number][]) => [
  ...get(base),
  ...pairs.flatMap(([x, s]) => [...get(x), ...get(s), mul, addI]),
];

/** PC = C + I·ROW + J (row I, column byte J of C); PA = A(I, K0). */
const rowStart = [
  ...plusProducts(C, [I, ROW]),
  ...get(J),
  addI,
  ...set(PC),
  ...plusProducts(A, [I, SAI], [K0, SAK]),
  ...set(PA),
];

/** `local` = B(K0, J/4): b + K0·sbk + (J/4)·sbj. */
const bAt = (local: number) => [
  ...get(B),
  ...get(K0),
  ...get(SBK),
  mul,
  addI,
  ...get(J),
  ...i32c(2),
  shrU,
  ...get(SBJ),
  mul,
  addI,
  ...set(local),
];

/**
 * `local` = where a sum starts: the bias at J (when there is one; else 0) in
 * the first block, C (`fromC`) in later ones.
 */
const sumStart = (local: number, load: number[], zero: number[], fromC: number[]) => [
  ...get(FIRST),
  ...ifElse(
    [
      ...get(HAS_BIAS),
      ...ifElse([...get(BIAS), ...get(J), addI, ...load, ...set(local)], [...zero, ...set(local)]),
    ],
    [...fromC, ...load, ...set(local)],
  ),
];

/** The address of row r of the tile in C (PC + r·ROW) on the stack. */
const cRow = (r: number) => [...get(PC), ...(r ? [...get(ROW), ...i32c(r), mul, addI] : [])];
/** The address of A(I + r, k): PA + r·sai. */
const aRow = (r: number) => [...get(PA), ...(r ? [...get([0, SAI, SAI2, SAI3][r]), addI] : [])];

/**
 * The tile of `mr` rows × `nv` vectors of 4 columns at row I, column byte J,
 * over the block's KN rows of the packed panel: start, multiply-adds, store.
 */
function tile(mr: number, nv: number, madd: boolean): number[] {
  const acc = (r: number, v: number) => ACC[r * 2 + v];
  const start: number[] = [];
  const store: number[] = [];
  const step: number[] = [...get(PB), ...vloadAt(0), ...set(BV0)];
  if (nv > 1) step.push(...get(PB), ...vloadAt(16), ...set(BV1));
  for (let r = 0; r < mr; r++) {
    step.push(...aRow(r), ...splatLoad, ...set(AV));
    for (let v = 0; v < nv; v++) {
      const [ac, bv] = [acc(r, v), v ? BV1 : BV0];
      start.push(...sumStart(ac, vloadAt(16 * v), vzero, cRow(r)));
      store.push(...cRow(r), ...get(ac), ...vstoreAt(16 * v));
      if (madd) step.push(...get(AV), ...get(bv), ...get(ac), ...relaxedMadd, ...set(ac));
      else step.push(...get(ac), ...get(AV), ...get(bv), ...vmul, ...vadd, ...set(ac));
    }
  }
  return [
    ...rowStart,
    ...start,
    ...get(PANEL),
    ...set(PB),
    ...eachK(step, [...advance(PA, get(SAK)), ...advance(PB, i32c(32))]),
    ...store,
  ];
}

/**
 * Copies the panel of B at column J (4·nv columns, the block's KN rows) into
 * PANEL, 8 floats a row: by vectors when B's rows are contiguous (sbj = 4),
 * else one float at a time.
 */
function pack(nv: number): number[] {
  const vectors: number[] = [];
  for (let v = 0; v < nv; v++)
    vectors.push(...get(PP), ...get(PB), ...vloadAt(16 * v), ...vstoreAt(16 * v));
  const floats: number[] = [...get(PB), ...set(Q)];
  for (let f = 0; f < 4 * nv; f++)
    floats.push(...get(PP), ...get(Q), ...floadAt(0), ...fstoreAt(4 * f), ...advance(Q, get(SBJ)));
  const steps = [...advance(PP, i32c(32)), ...advance(PB, get(SBK))];
  return [
    ...bAt(PB),
    ...get(PANEL),
    ...set(PP),
    ...get(SBJ),
    ...i32c(4),
    eq,
    ...ifElse(eachK(vectors, steps), eachK(floats, steps)),
  ];
}

/**
 * The panel at J packed, then tiles of 4 rows over every row, of 2 and of 1
 * over the M % 4 left (a single row reads B's vectors for half the
 * multiply-adds of two).
 */
const panel = (nv: number, madd: boolean) => [
  ...pack(nv),
  ...i32c(0),
  ...set(I),
  ...whileLt(I, M4, 4, tile(4, nv, madd)),
  ...whileLt(I, M2, 2, tile(2, nv, madd)),
  ...whileLt(I, M, 1, tile(1, nv, madd)),
];

/** The columns from J on one at a time, scalar: C[i, j] = start + Σ_k A(i, k)·B(k, j). */
const scalarColumns = whileLt(J, NB, 4, [
  ...i32c(0),
  ...set(I),
  ...whileLt(I, M, 1, [
    ...rowStart,
    ...sumStart(S, floadAt(0), fzero, get(PC)),
    ...bAt(PB),
    ...eachK(
      [...get(S), ...get(PA), ...floadAt(0), ...get(PB), ...floadAt(0), 0x94, 0x92, ...set(S)],
      [...advance(PA, get(SAK)), ...advance(PB, get(SBK))],
    ),
    ...get(PC),
    ...get(S),
    ...fstoreAt(0),
  ]),
]);

function gemmBody(madd: boolean): number[] {
  return [
    // NB = 4N (bytes of a row's columns); sai2, sai3; M4 = M & ~3; N8, N4 (bytes)
    ...get(N),
    ...i32c(2),
    shl,
    ...set(NB),
    ...get(SAI),
    ...get(SAI),
    addI,
    ...tee(SAI2),
    ...get(SAI),
    addI,
    ...set(SAI3),
    ...get(M),
    ...i32c(-4),
    and,
    ...set(M4),
    ...get(M),
    ...i32c(-2),
    and,
    ...set(M2),
    ...get(NB),
    ...i32c(-32),
    and,
    ...set(N8),
    ...get(NB),
    ...i32c(-16),
    and,
    ...set(N4),
    ...i32c(1),
    ...set(FIRST),
    ...i32c(0),
    ...set(K0),
    // blocks of KN = min(KC, K − K0) rows of B
    0x03,
    0x40,
    ...get(K),
    ...get(K0),
    sub,
    ...tee(KN),
    ...i32c(KC),
    gtU,
    ...ifElse([...i32c(KC), ...set(KN)], []),
    ...i32c(0),
    ...set(J),
    ...whileLt(J, N8, 32, panel(2, madd)),
    ...whileLt(J, N4, 16, panel(1, madd)),
    ...scalarColumns,
    ...i32c(0),
    ...set(FIRST),
    ...advance(K0, get(KN)),
    ...get(K0),
    ...get(K),
    ltU,
    0x0d,
    0,
    0x0b,
  ];
}

export interface GemmSimd {
  /**
   * C `[M, N]` = op(A)·op(B) (+ bias `[N]` when hasBias), A(i, k) at a + i·sai
   * + k·sak and B(k, j) at b + k·sbk + j·sbj (bytes); `panel` is scratch of
   * PANEL_BYTES; M, N, K ≥ 1.
   */
  gemm(
    a: number,
    b: number,
    c: number,
    bias: number,
    M: number,
    N: number,
    K: number,
    sai: number,
    sak: number,
    sbk: number,
    sbj: number,
    hasBias: number,
    panel: number,
  ): void;
  /**
   * gemm for each window w < nw and head h < nh, A, B and C (and the
   * bias, if any: the same for all) moved to a + w·saw + h·sah, b + w·sbw +
   * h·sbh, c + w·scw + h·sch, C's rows ldc bytes apart (bytes throughout):
   * products read in place from and written straight into layouts such as
   * `[windows, tokens, heads·d]`.
   */
  gemmBatched(
    ...args: [
      ...gemm: Parameters<GemmSimd['gemm']>,
      ldc: number,
      nw: number,
      nh: number,
      saw: number,
      sah: number,
      sbw: number,
      sbh: number,
      scw: number,
      sch: number,
    ]
  ): void;
}

/** Bytes of the scratch panel: KC rows of 8 floats. */
export const PANEL_BYTES = KC * 32;

/** `base` = `base0` + WI·`perWindow` + HI·`perHead`: the batch entry's operand. */
const batchEntry = (base: number, base0: number, perWindow: number, perHead: number) => [
  ...plusProducts(base0, [WI, perWindow], [HI, perHead]),
  ...set(base),
];

/** gemm's body over every (window, head) of the batch, from A, B, C as bases. */
const batchedBody = (madd: boolean) => [
  ...get(A),
  ...set(A0),
  ...get(B),
  ...set(B0),
  ...get(C),
  ...set(C0),
  ...i32c(0),
  ...set(WI),
  ...whileLt(WI, NW, 1, [
    ...i32c(0),
    ...set(HI),
    ...whileLt(HI, NH, 1, [
      ...batchEntry(A, A0, SAW, SAH),
      ...batchEntry(B, B0, SBW, SBH),
      ...batchEntry(C, C0, SCW, SCH),
      ...gemmBody(madd),
    ]),
  ]),
];

const gemmFunctions = (madd: boolean): SimdFunction[] => [
  {
    name: 'gemm',
    params: new Array<number>(13).fill(I32),
    locals: [...new Array<number>(BATCH_PARAMS).fill(I32), ...LOCALS],
    // C's rows are N floats apart
    body: [...get(N), ...i32c(2), shl, ...set(ROW), ...gemmBody(madd)],
  },
  {
    name: 'gemmBatched',
    params: new Array<number>(13 + BATCH_PARAMS).fill(I32),
    locals: LOCALS,
    body: batchedBody(madd),
  },
];

/**
 * The module's bytes (mul then add) importing a shared memory: what the
 * helper threads of wasm-threads.ts instantiate on the backend's memory.
 */
export const sharedGemmModuleBytes = (): Uint8Array<ArrayBuffer> =>
  simdModuleBytes(true, gemmFunctions(false));

/**
 * The product on `memory`, null without SIMD: multiply-adds by f32x4.mul then
 * f32x4.add, or with `madd` by f32x4.relaxed_madd where that validates (else
 * null; measured no faster here, and its rounding differs by CPU).
 */
export function gemmSimd(memory: WebAssembly.Memory, madd = false): GemmSimd | null {
  return instantiateSimd<GemmSimd>(memory, gemmFunctions(madd));
}
