// The wasm backend's Slice (and SplitV, which calls it once per part) reads
// its whole input out of the heap into a new JavaScript array (readSync
// copies) before it copies the part it keeps: a third of a [384, 1152] qkv
// weight moved four times the bytes it kept, and left a 1.7 MB array for the
// garbage collector, on every call. The replacements copy only the part,
// within the heap, one contiguous run at a time (copyWithin: no JavaScript
// array per run; the axes taken whole at the end of the shape join the run).
import * as tf from '#tfjs';

type KernelArgs = Parameters<tf.KernelFunc>[0];

interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  dataIdMap: { get(id: tf.DataId): { memoryOffset: number } };
  wasm: { HEAPU8: Uint8Array };
}

/**
 * Copies the box `begin`, `size` of the tensor at byte `from` of `heap`
 * (row-major `shape`, `bytes` an element) to byte `to`: the trailing axes
 * taken whole fold into one run, then one copyWithin per run.
 */
function copyBox(
  heap: Uint8Array,
  from: number,
  to: number,
  bytes: number,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
): void {
  const rank = shape.length;
  // runs: the last axis cut, together with every whole axis after it
  let last = rank - 1;
  let run = 1;
  while (last > 0 && begin[last] === 0 && size[last] === shape[last]) run *= shape[last--];
  run *= size[last];
  let stride = 1;
  const strides = new Array<number>(rank);
  for (let a = rank - 1; a >= 0; a--) {
    strides[a] = stride;
    stride *= shape[a];
  }
  const runs = size.slice(0, last).reduce((p, n) => p * n, 1);
  const idx = new Array<number>(last).fill(0);
  let offset = 0;
  for (let a = 0; a <= last; a++) offset += begin[a] * strides[a];
  for (let r = 0, o = to; r < runs; r++, o += run * bytes) {
    heap.copyWithin(o, from + offset * bytes, from + (offset + run) * bytes);
    // next run: count up the outer axes, last fastest
    for (let a = last - 1; a >= 0; a--) {
      offset += strides[a];
      if (++idx[a] < size[a]) break;
      offset -= size[a] * strides[a];
      idx[a] = 0;
    }
  }
}

function sliceOf(
  backend: HeapBackend,
  x: tf.TensorInfo,
  begin: readonly number[],
  size: readonly number[],
): tf.TensorInfo {
  const out = backend.makeOutput([...size], x.dtype);
  if (size.every((n) => n > 0)) {
    // the heap read after the output is made: making it may grow (and move) the heap
    const at = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset;
    const bytes = tf.util.bytesPerElement(x.dtype);
    copyBox(backend.wasm.HEAPU8, at(x), at(out), bytes, x.shape, begin, size);
  }
  return out;
}

let replaced = false;

/** Replaces the wasm backend's Slice and SplitV by ones that read the input in place (idempotent). */
export function sliceWasmInPlace(): void {
  if (replaced) return;
  const slice = tf.getKernel(tf.Slice, 'wasm');
  const split = tf.getKernel(tf.SplitV, 'wasm');
  if (!slice || !split) throw new Error('sliceWasmInPlace: the wasm backend is not loaded');
  replaced = true;
  const sliceFunc = (args: KernelArgs): tf.TensorInfo => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string') return slice.kernelFunc(args) as tf.TensorInfo;
    const attrs = args.attrs as unknown as { begin: number | number[]; size?: number | number[] };
    const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs.begin, attrs.size);
    return sliceOf(args.backend as unknown as HeapBackend, x, begin, size);
  };
  const splitFunc = (args: KernelArgs): tf.TensorInfo[] => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string') return split.kernelFunc(args) as tf.TensorInfo[];
    const { numOrSizeSplits, axis } = args.attrs as unknown as {
      numOrSizeSplits: number | number[];
      axis: number;
    };
    const a = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, a);
    const begin = x.shape.map(() => 0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[a] = s;
      const part = sliceOf(args.backend as unknown as HeapBackend, x, begin, size);
      begin[a] += s;
      return part;
    });
  };
  for (const [name, kernelFunc] of [
    [tf.Slice, sliceFunc],
    [tf.SplitV, splitFunc],
  ] as const) {
    const original = name === tf.Slice ? slice : split;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...original, kernelFunc: kernelFunc as tf.KernelFunc });
  }
}
