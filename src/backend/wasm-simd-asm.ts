// A small assembler for WebAssembly SIMD modules that import the wasm
// backend's memory (src/backend/wasm-layer-norm-simd.ts, wasm-gelu-simd.ts):
// LEB128, sections, the instructions these kernels use, loops over rows and
// over the bytes of a row, and the module around a list of functions.
import * as tf from '#tfjs';

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

/** Unsigned LEB128. */
export function u32(n: number): number[] {
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

export const vec = (items: number[][]) => [...u32(items.length), ...items.flat()];
export const name = (s: string) => vec([...s].map((c) => [c.charCodeAt(0)]));
export const section = (id: number, body: number[]) => [id, ...u32(body.length), ...body];

// instructions
export const get = (i: number) => [0x20, ...u32(i)];
export const set = (i: number) => [0x21, ...u32(i)];
export const i32c = (n: number) => [0x41, ...s32(n)];
export const f32c = (v: number) => [0x43, ...new Uint8Array(new Float32Array([v]).buffer)];
export const add = 0x6a;
export const lt = 0x49; // i32.lt_u
export const eqz = 0x45;
export const [fadd, fsub, fmul, fdiv, fsqrt, fmax] = [0x92, 0x93, 0x94, 0x95, 0x91, 0x97];
export const u32ToF32 = 0xb3;
export const fload = [0x2a, 2, 0];
export const simd = (op: number) => [0xfd, ...u32(op)];
export const vload = [...simd(0x00), 4, 0];
export const vstore = [...simd(0x0b), 4, 0];
export const splat = simd(0x13);
export const lane = (i: number) => [...simd(0x1f), i];
export const [vadd, vsub, vmul] = [simd(0xe4), simd(0xe5), simd(0xe6)];
export const END = 0x0b;

/** Sum of the four lanes of the v128 in local `v`. */
export const hsum = (v: number) => [
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
export const forBytes = (c: number, limit: number, body: number[]) => [
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

/** `body` while local `i` < local `end` (unsigned), then i += `step` (a constant); i starts as it is. */
export const whileLt = (i: number, end: number, step: number, body: number[]) => [
  0x02,
  0x40, // block
  0x03,
  0x40, // loop
  ...get(i),
  ...get(end),
  lt,
  eqz,
  0x0d,
  1, // br_if out of the block
  ...body,
  ...get(i),
  ...i32c(step),
  add,
  ...set(i),
  0x0c,
  0, // br to the loop
  END,
  END,
];

/** `body` for each row r < M (local `r`), advancing the byte offset local `o` by `rowBytes`. */
export const forRows = (r: number, M: number, o: number, rowBytes: number, body: number[]) => [
  ...i32c(0),
  ...set(r),
  ...i32c(0),
  ...set(o),
  ...whileLt(r, M, 1, [...body, ...get(o), ...get(rowBytes), add, ...set(o)]),
];

/** The address local `base` + local `o` + local `c`. */
export const at = (base: number, ...offsets: number[]) => [
  ...get(base),
  ...offsets.flatMap((l) => [...get(l), add]),
];

/** A function of the module: its name, parameter types, locals and body. */
export interface SimdFunction {
  name: string;
  params: number[];
  locals: number[];
  body: number[];
}

function code({ locals, body }: { locals: number[]; body: number[] }): number[] {
  const groups = vec(locals.map((t) => [1, t]));
  const fn = [...groups, ...body, END];
  return [...u32(fn.length), ...fn];
}

/**
 * The module's bytes: `functions` exported by name, each of its own type (no
 * results), importing `env.memory` (shared: the threaded build's memory).
 */
export function simdModuleBytes(
  shared: boolean,
  functions: SimdFunction[],
): Uint8Array<ArrayBuffer> {
  const types = functions.map((f) => [0x60, ...vec(f.params.map((t) => [t])), 0]);
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
    ...section(1, vec(types)),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, ...limits]])),
    ...section(3, vec(functions.map((_, i) => u32(i)))),
    ...section(7, vec(functions.map((f, i) => [...name(f.name), 0x00, ...u32(i)]))),
    ...section(10, vec(functions.map(code))),
  ]);
}

/** The module's exports on `memory`, or null where WebAssembly SIMD is not there. */
export function instantiateSimd<T>(
  memory: WebAssembly.Memory,
  functions: SimdFunction[],
): T | null {
  const shared =
    typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const bytes = simdModuleBytes(shared, functions);
  if (!WebAssembly.validate(bytes)) return null;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  return instance.exports as unknown as T;
}

// for elementwise kernels: constants, math and selection on f32x4
/** v128.const of four equal floats. */
export const vconstF = (v: number) => [
  ...simd(0x0c),
  ...new Uint8Array(new Float32Array([v, v, v, v]).buffer),
];
/** v128.const of four equal 32-bit integers. */
export const vconstI = (n: number) => [
  ...simd(0x0c),
  ...new Uint8Array(new Int32Array([n, n, n, n]).buffer),
];
export const [vabs, vdiv, vmax, vnearest, vlt] = [
  simd(0xe0),
  simd(0xe7),
  simd(0xe9),
  simd(0x6a),
  simd(0x43),
];
/** i32x4.trunc_sat_f32x4_s, i32x4.add, i32x4.shl (by an i32), v128.bitselect. */
export const [truncSat, iadd, ishl, bitselect] = [simd(0xf8), simd(0xae), simd(0xab), simd(0x52)];

/** c_n·t^n + … + c_0 by Horner in local `t` (coefficients from c_n down to c_0), on the stack. */
export const horner = (t: number, coefficients: number[]) => [
  ...vconstF(coefficients[0]),
  ...coefficients.slice(1).flatMap((c) => [...get(t), ...vmul, ...vconstF(c), ...vadd]),
];

/** What kernels on the wasm backend's heap use of it. */
export interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  getMemoryOffset(dataId: tf.DataId): number;
  wasm: { asm?: { memory?: WebAssembly.Memory }; wasmMemory?: WebAssembly.Memory };
}

/**
 * Views of `tensors` on the backend's heap. Asking for a tensor's place moves
 * one that lives on another backend onto this one, which may grow the heap
 * and detach every view made before; so all are placed first, then viewed.
 */
export function heapViews(backend: WasmHeapBackend, tensors: tf.TensorInfo[]): Float32Array[] {
  for (const t of tensors) backend.getMemoryOffset(t.dataId);
  return tensors.map((t) => backend.typedArrayFromHeap(t));
}

/**
 * `instantiate` on the backend's memory (exported by the single-threaded
 * build, imported by the threaded one), made once per memory; null where
 * there is none or no SIMD.
 */
export function simdOnBackend<T>(
  instantiate: (memory: WebAssembly.Memory) => T | null,
): (backend: WasmHeapBackend) => T | null {
  let made: { memory: WebAssembly.Memory; kernels: T | null } | null = null;
  return (backend) => {
    const memory = backend.wasm.asm?.memory ?? backend.wasm.wasmMemory;
    if (!memory) return null;
    if (made?.memory !== memory) made = { memory, kernels: instantiate(memory) };
    return made.kernels;
  };
}

/** Registers kernels (name → function) for the wasm backend, each once. */
export function registerOnWasm(kernels: Record<string, (args: never) => unknown>): void {
  for (const [kernelName, kernelFunc] of Object.entries(kernels))
    if (!tf.getKernel(kernelName, 'wasm'))
      tf.registerKernel({
        kernelName,
        backendName: 'wasm',
        kernelFunc: kernelFunc as tf.KernelFunc,
      });
}
