// Transposes of 4-byte elements (float32, int32) in WebAssembly SIMD on the
// wasm backend's memory, assembled by wasm-simd-asm.ts. A transpose, its
// axes merged and those of size 1 dropped (wasm-transpose.ts plans it), is
// a nest of up to six loops, each over one output axis with the byte steps
// of the input and of the output, around one of three bodies:
//
//   run(src, dst, levels…, runBytes)      the input's last axis stays last: a
//                                          contiguous run copied as f32x4 vectors
//                                          (the last one overlapping, for runs
//                                          not a multiple of 4 elements)
//   tile(src, dst, levels…, inStep, outStep)  the last axis moves: 4×4 blocks
//                                          read as four vectors inStep bytes apart,
//                                          transposed in registers by shuffles,
//                                          written as four vectors outStep apart
//   element(src, dst, levels…)             one element (edges, short runs)
//
// Each level is three parameters: count (≥ 1), input step, output step
// (bytes); unused outer levels have count 1. Bits move unchanged (a copy).

import {
  add,
  at,
  END,
  get,
  I32,
  i32c,
  instantiateSimd,
  lt,
  set,
  simd,
  u32,
  V128,
  vload,
  vstore,
  whileLt,
  type SimdFunction,
} from './wasm-simd-asm.ts';

/** Loop levels every function has. */
export const LEVELS = 6;

const i32load = [0x28, 2, 0];
const i32store = [0x36, 2, 0];
const sub = 0x6b;
const tee = (i: number) => [0x22, ...u32(i)];

/** i8x16.shuffle of two f32x4 by 32-bit lanes (0–3 the first operand, 4–7 the second). */
const shuffle = (lanes: number[]) => [
  ...simd(0x0d),
  ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]),
];

// parameters: src, dst, then count / input step / output step per level, then two extras
const [SRC, DST] = [0, 1];
const count = (k: number) => 2 + 3 * k;
const inStep = (k: number) => 3 + 3 * k;
const outStep = (k: number) => 4 + 3 * k;
const [E1, E2] = [2 + 3 * LEVELS, 3 + 3 * LEVELS];
const PARAMS = 4 + 3 * LEVELS;
// locals: per level its counter and its two pointers, then the bodies' scratch
const counter = (k: number) => PARAMS + 3 * k;
const from = (k: number) => PARAMS + 1 + 3 * k;
const to = (k: number) => PARAMS + 2 + 3 * k;
const SCRATCH_I32 = PARAMS + 3 * LEVELS;
const [C, LAST, E1X2, E1X3, E2X2, E2X3, LAST4, PI, PO] = [0, 1, 2, 3, 4, 5, 6, 7, 8].map(
  (i) => SCRATCH_I32 + i,
);
const SCRATCH_V128 = SCRATCH_I32 + 9;
const [A, B, CC, D, T0, T1, T2, T3] = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => SCRATCH_V128 + i);
const LOCALS = [
  ...Array.from({ length: 3 * LEVELS + 9 }, () => I32),
  ...Array.from({ length: 8 }, () => V128),
];

/** Level k's loop around `inner`: its pointers start at the enclosing level's (or src/dst). */
function level(k: number, inner: number[]): number[] {
  return [
    ...get(k === 0 ? SRC : from(k - 1)),
    ...set(from(k)),
    ...get(k === 0 ? DST : to(k - 1)),
    ...set(to(k)),
    ...i32c(0),
    ...set(counter(k)),
    0x03,
    0x40, // loop
    ...inner,
    ...get(from(k)),
    ...get(inStep(k)),
    add,
    ...set(from(k)),
    ...get(to(k)),
    ...get(outStep(k)),
    add,
    ...set(to(k)),
    ...get(counter(k)),
    ...i32c(1),
    add,
    ...tee(counter(k)),
    ...get(count(k)),
    lt,
    0x0d,
    0, // br_if the loop
    END,
  ];
}

const IN = from(LEVELS - 1);
const OUT = to(LEVELS - 1);

/** One element: 4 bytes. */
const element = [...get(OUT), ...get(IN), ...i32load, ...i32store];

/** v128.load and v128.store at a constant byte offset from the address. */
const vloadAt = (offset: number) => [...simd(0x00), 4, ...u32(offset)];
const vstoreAt = (offset: number) => [...simd(0x0b), 4, ...u32(offset)];

/**
 * A run of E1 ≥ 16 bytes: 64 bytes a pass while they fit, then vectors while
 * below E1 − 16, then the last 16 bytes.
 */
const run = [
  ...i32c(0),
  ...set(C),
  ...whileLt(C, LAST4, 64, [
    ...at(IN, C),
    ...set(PI),
    ...at(OUT, C),
    ...set(PO),
    ...[0, 16, 32, 48].flatMap((o) => [...get(PO), ...get(PI), ...vloadAt(o), ...vstoreAt(o)]),
  ]),
  ...whileLt(C, LAST, 16, [...at(OUT, C), ...at(IN, C), ...vload, ...vstore]),
  ...at(OUT, LAST),
  ...at(IN, LAST),
  ...vload,
  ...vstore,
];

/** The 4×4 block at IN (rows E1 bytes apart) transposed to OUT (rows E2 bytes apart). */
const tile = [
  ...[
    [A, []],
    [B, [E1]],
    [CC, [E1X2]],
    [D, [E1X3]],
  ].flatMap(([v, offsets]) => [...at(IN, ...(offsets as number[])), ...vload, ...set(v as number)]),
  // T0 = a0 b0 a1 b1, T1 = a2 b2 a3 b3, T2 = c0 d0 c1 d1, T3 = c2 d2 c3 d3
  ...[
    [T0, A, B, [0, 4, 1, 5]],
    [T1, A, B, [2, 6, 3, 7]],
    [T2, CC, D, [0, 4, 1, 5]],
    [T3, CC, D, [2, 6, 3, 7]],
  ].flatMap(([t, x, y, lanes]) => [
    ...get(x as number),
    ...get(y as number),
    ...shuffle(lanes as number[]),
    ...set(t as number),
  ]),
  // row m of the output: lane m of a, b, c, d
  ...[
    [[], T0, T2, [0, 1, 4, 5]],
    [[E2], T0, T2, [2, 3, 6, 7]],
    [[E2X2], T1, T3, [0, 1, 4, 5]],
    [[E2X3], T1, T3, [2, 3, 6, 7]],
  ].flatMap(([offsets, x, y, lanes]) => [
    ...at(OUT, ...(offsets as number[])),
    ...get(x as number),
    ...get(y as number),
    ...shuffle(lanes as number[]),
    ...vstore,
  ]),
];

/** LAST = E1 − 16, LAST4 = max(E1 − 63, 0), and the doubles and triples of E1 and E2. */
const prologue = [
  ...get(E1),
  ...i32c(16),
  sub,
  ...set(LAST),
  ...get(E1),
  ...i32c(63),
  sub,
  ...i32c(0),
  ...get(E1),
  ...i32c(63),
  0x4a, // i32.gt_s
  0x1b, // select: E1 − 63 where positive, else 0
  ...set(LAST4),
  ...[
    [E1, E1X2, E1X3],
    [E2, E2X2, E2X3],
  ].flatMap(([e, x2, x3]) => [...get(e), ...get(e), add, ...tee(x2), ...get(e), add, ...set(x3)]),
];

/** The nest of LEVELS loops around `body`. */
function nest(name: string, body: number[]): SimdFunction {
  let code = body;
  for (let k = LEVELS - 1; k >= 0; k--) code = level(k, code);
  return {
    name,
    params: Array.from({ length: PARAMS }, () => I32),
    locals: LOCALS,
    body: [...prologue, ...code],
  };
}

/** Arguments after src and dst: LEVELS × (count, input step, output step), then two extras. */
type Rest = number[];

export interface TransposeSimd {
  run(src: number, dst: number, ...rest: Rest): void;
  tile(src: number, dst: number, ...rest: Rest): void;
  element(src: number, dst: number, ...rest: Rest): void;
}

/** The SIMD transpose on `memory`, or null where WebAssembly SIMD is not there. */
export function transposeSimd(memory: WebAssembly.Memory): TransposeSimd | null {
  return instantiateSimd<TransposeSimd>(memory, [
    nest('run', run),
    nest('tile', tile),
    nest('element', element),
  ]);
}
