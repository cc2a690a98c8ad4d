// The wasm backend's Slice, SplitV and Concat are JavaScript copies on the
// heap, but its Slice first reads its whole input out of the heap
// (`readSync`: a new ArrayBuffer the size of the input, for a slice of any
// size; SplitV does so once per piece) and both copy through a new typed-array
// view per row (`subarray`). A training step made ~140 slices and ~45 concats
// this way (attention's q/k/v, the roll of shifted windows, the optimizer's
// buckets): garbage for the collector and a full extra copy per slice. These
// kernels copy on the heap itself: 4-byte elements (float32, int32) by the
// SIMD transpose module's loop nests (wasm-transpose-simd.ts: runs as f32x4
// vectors, the outer axes as loops in wasm) where the runs are short, else
// each contiguous run with `copyWithin` (long runs, bool, a runtime without
// WebAssembly SIMD, over LEVELS loops). A concat along an inner axis
// (attention's dq|dk|dv, rows of 32–64 floats) took 2–9× an add of its size
// by `copyWithin` row by row, 1.8–3.7× less by one SIMD call an input.
import * as tf from '#tfjs';
import type { WasmHeapBackend as SimdBackend } from './wasm-simd-asm.ts';
import { transposeSimdOn } from './wasm-transpose.ts';
import { LEVELS } from './wasm-transpose-simd.ts';

type KernelArgs = Parameters<tf.KernelFunc>[0];

interface WasmHeapBackend {
  wasm: { HEAPU8: Uint8Array; HEAP32: Int32Array; HEAPF32: Float32Array };
  dataIdMap: { get(id: tf.DataId): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

/**
 * The heap as elements of `dtype`, or null for strings. Take it after every
 * allocation and every `offset` (either may grow the heap and replace the views).
 */
function heapOf(
  b: WasmHeapBackend,
  dtype: tf.DataType,
): Uint8Array | Int32Array | Float32Array | null {
  if (dtype === 'float32') return b.wasm.HEAPF32;
  if (dtype === 'int32') return b.wasm.HEAP32;
  if (dtype === 'bool') return b.wasm.HEAPU8;
  return null;
}

/**
 * Byte offset of a tensor's first element on the heap. Asking for it moves a
 * tensor that lives on another backend onto this one, which may grow the heap
 * and detach every view taken before: take the offsets first, then the view.
 */
const offset = (b: WasmHeapBackend, t: tf.TensorInfo) => b.dataIdMap.get(t.dataId).memoryOffset;

/**
 * Runs longer than this (elements) go by `copyWithin` (a memmove per run,
 * faster than the SIMD loop there: 2.7 against 6.2 µs for [2, 2048]·2 along
 * axis 1, 6.3 against 15 µs for [32, 16, 64]·3 along axis 0).
 */
const SIMD_RUN_MAX = 256;

/**
 * Copies `run` contiguous 4-byte elements for every index of `loops`
 * (outermost first: count, source step, destination step, in elements) from
 * byte offset `src` to `dst` by the SIMD module; false (nothing copied) where
 * there is none or the loops are too many.
 */
function simdCopy(
  b: WasmHeapBackend,
  src: number,
  dst: number,
  loops: [number, number, number][],
  run: number,
): boolean {
  const simd = transposeSimdOn(b as unknown as SimdBackend);
  if (!simd || run > SIMD_RUN_MAX || loops.length + 1 > LEVELS) return false;
  const levels = loops.map(([n, from, to]) => [n, 4 * from, 4 * to]);
  // short runs element by element (the run body needs 16 bytes), in one more loop
  const body = run >= 4 ? 'run' : 'element';
  if (body === 'element') levels.push([run, 4, 4]);
  const unused = Array.from({ length: LEVELS - levels.length }, () => [1, 0, 0]);
  simd[body](src, dst, ...unused.flat(), ...levels.flat(), body === 'run' ? 4 * run : 0, 0);
  return true;
}

/**
 * Copies the box `begin`/`size` of `x` into the new tensor `out`: the
 * trailing axes the box spans whole, and the one before them, form one
 * contiguous run per index of the axes in front (an odometer over those).
 */
export function copyBox(
  b: WasmHeapBackend,
  x: tf.TensorInfo,
  begin: readonly number[],
  size: readonly number[],
  out: tf.TensorInfo,
): void {
  if (tf.util.sizeFromShape(size as number[]) === 0) return;
  const [xAt, outAt] = [offset(b, x), offset(b, out)];
  const heap = heapOf(b, x.dtype)!;
  const rank = x.shape.length;
  const strides = new Array<number>(rank);
  for (let a = rank - 1, s = 1; a >= 0; a--) {
    strides[a] = s;
    s *= x.shape[a];
  }
  // axes inner..rank-1 form the run: inner is the first axis from which on the box is whole, less one
  let inner = rank;
  while (inner > 0 && size[inner - 1] === x.shape[inner - 1]) inner--;
  if (inner > 0) inner--;
  let run = 1;
  for (let a = inner; a < rank; a++) run *= size[a];
  let from = xAt / heap.BYTES_PER_ELEMENT;
  for (let a = 0; a < rank; a++) from += begin[a] * strides[a];
  if (heap.BYTES_PER_ELEMENT === 4) {
    const loops: [number, number, number][] = [];
    for (let a = inner - 1, step = run; a >= 0; step *= size[a], a--)
      loops.unshift([size[a], strides[a], step]);
    if (simdCopy(b, 4 * from, outAt, loops, run)) return;
  }
  let to = outAt / heap.BYTES_PER_ELEMENT;
  const index = new Array<number>(inner).fill(0);
  for (;;) {
    heap.copyWithin(to, from, from + run);
    to += run;
    let a = inner - 1;
    for (; a >= 0; a--) {
      from += strides[a];
      if (++index[a] < size[a]) break;
      from -= index[a] * strides[a];
      index[a] = 0;
    }
    if (a < 0) return;
  }
}

function sliceKernel(args: KernelArgs): tf.TensorInfo {
  const b = args.backend as unknown as WasmHeapBackend;
  const x = args.inputs.x as tf.TensorInfo;
  const { begin, size } = args.attrs as { begin: number[]; size: number[] };
  const [begin_, size_] = tf.backend_util.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
  const out = b.makeOutput(size_, x.dtype);
  copyBox(b, x, begin_, size_, out);
  return out;
}

function splitKernel(args: KernelArgs): tf.TensorInfo[] {
  const b = args.backend as unknown as WasmHeapBackend;
  const x = args.inputs.x as tf.TensorInfo;
  const { numOrSizeSplits, axis } = args.attrs as { numOrSizeSplits: number[]; axis: number };
  const ax = tf.util.parseAxisParam(axis, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = x.shape.slice();
    size[ax] = s;
    const out = b.makeOutput(size, x.dtype);
    copyBox(b, x, begin, size, out);
    begin[ax] += s;
    return out;
  });
}

function concatKernel(args: KernelArgs): tf.TensorInfo {
  const b = args.backend as unknown as WasmHeapBackend;
  const inputs = (args.inputs as unknown as tf.TensorInfo[]).filter(
    (t) => tf.util.sizeFromShape(t.shape) > 0,
  );
  const all = args.inputs as unknown as tf.TensorInfo[];
  const ax = tf.util.parseAxisParam((args.attrs as { axis: number }).axis, all[0].shape)[0];
  tf.backend_util.assertParamsConsistent(
    all.map((t) => t.shape),
    ax,
  );
  const outShape = tf.backend_util.computeOutShape(
    all.map((t) => t.shape),
    ax,
  );
  const out = b.makeOutput(outShape, all[0].dtype);
  const at = inputs.map((t) => offset(b, t));
  const outAt = offset(b, out);
  const heap = heapOf(b, all[0].dtype)!;
  const rows = tf.util.sizeFromShape(outShape.slice(0, ax));
  const widths = inputs.map((t) => tf.util.sizeFromShape(t.shape.slice(ax)));
  if (heap.BYTES_PER_ELEMENT === 4) {
    const total = widths.reduce((x, y) => x + y, 0);
    let done = 0;
    for (let i = 0; i < inputs.length; i++) {
      if (!simdCopy(b, at[i], outAt + 4 * done, [[rows, widths[i], total]], widths[i])) break;
      done += widths[i];
    }
    if (done === total) return out;
  }
  const starts = at.map((o) => o / heap.BYTES_PER_ELEMENT);
  let to = outAt / heap.BYTES_PER_ELEMENT;
  for (let r = 0; r < rows; r++)
    for (let i = 0; i < inputs.length; i++) {
      const w = widths[i];
      heap.copyWithin(to, starts[i] + r * w, starts[i] + (r + 1) * w);
      to += w;
    }
  return out;
}

/** Strings (not on the heap) go to the backend's own kernel. */
function onHeapOnly<R>(
  original: tf.KernelConfig,
  kernel: (args: KernelArgs) => R,
  dtypeOf: (args: KernelArgs) => tf.DataType,
) {
  return (args: KernelArgs) =>
    heapOf(args.backend as unknown as WasmHeapBackend, dtypeOf(args))
      ? (kernel(args) as tf.TensorInfo)
      : original.kernelFunc(args);
}

let replaced = false;

/** Replaces the wasm backend's Slice, SplitV and Concat by heap-to-heap copies (idempotent). */
export function copyOnWasmHeap(): void {
  if (replaced) return;
  const kernels: [string, (a: KernelArgs) => unknown, (a: KernelArgs) => tf.DataType][] = [
    [tf.Slice, sliceKernel, (a) => (a.inputs.x as tf.TensorInfo).dtype],
    [tf.SplitV, splitKernel, (a) => (a.inputs.x as tf.TensorInfo).dtype],
    [tf.Concat, concatKernel, (a) => (a.inputs as unknown as tf.TensorInfo[])[0].dtype],
  ];
  for (const [name, kernel, dtypeOf] of kernels) {
    const original = tf.getKernel(name, 'wasm');
    if (!original) throw new Error('copyOnWasmHeap: the wasm backend is not loaded');
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({
      ...original,
      kernelFunc: onHeapOnly(original, kernel, dtypeOf) as tf.KernelFunc,
    });
  }
  replaced = true;
}
