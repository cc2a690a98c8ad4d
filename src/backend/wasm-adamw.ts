// The optimizer step of a flat bucket (src/train/optim.ts) as one kernel of
// the wasm backend registered in JavaScript, working on its heap. Composed
// from tfjs ops AdamW runs ~14 elementwise kernels over the bucket plus the
// Concat of the weights and gradients into it and the split back: each a
// pass over 16 MiB and an allocation. Here one pass per weight, reading the
// weight, its gradient and its part of the slots where they lie (no Concat,
// no split): in WebAssembly SIMD (wasm-adamw-simd.ts) over the multiple of 4
// floats (above ELEMENT_CHUNK floats in chunks on every thread:
// wasm-threads.ts), the rest in JavaScript in float32 arithmetic. Outputs are new
// tensors (each weight, each slot), never the inputs written over: tfjs may
// share a weight's data with other tensors (a reshape, a clone). Only 'wasm'
// has them; other backends keep the composite update.
import * as tf from '#tfjs';
import {
  adamwScalar,
  optimizerSimd,
  sgdScalar,
  type AdamWScalars,
  type SgdScalars,
} from './wasm-adamw-simd.ts';
import { registerOnWasm, simdOnBackend, type WasmHeapBackend } from './wasm-simd-asm.ts';
import { elementwiseJob, runJob } from './wasm-threads.ts';

/** Kernel names (ours). */
export const ADAMW = 'MamAdamW';
export const SGD = 'MamSgd';

/**
 * Attributes of both kernels: `offsets[i]` is where weight i (inputs `w<i>`,
 * `g<i>`) starts in the flat slots; `scalars` as wasm-adamw-simd.ts lists them.
 */
export interface OptimizerAttrs {
  offsets: number[];
  scalars: number[];
}

/** Inputs of a bucket's update: weights and gradients by position, then the slots by name. */
export function optimizerInputs(
  weights: tf.Tensor[],
  grads: tf.Tensor[],
  slots: Record<string, tf.Tensor>,
): tf.NamedTensorMap {
  const inputs: tf.NamedTensorMap = { ...slots };
  weights.forEach((w, i) => ((inputs[`w${i}`] = w), (inputs[`g${i}`] = grads[i])));
  return inputs;
}

const optimizerOn = simdOnBackend(optimizerSimd);

type KernelArgs = Parameters<tf.KernelFunc>[0];
type Simd = NonNullable<ReturnType<typeof optimizerOn>>;

/** Byte offsets of one weight's update: the weight, its gradient, its new value, and its part of each slot, old and new. */
interface Pointers {
  w: number;
  g: number;
  wo: number;
  s: number[];
  so: number[];
}

/**
 * The frame both kernels share: new weights (their shapes) and new slots
 * (copies of the old where no weight is updated), then per weight `simd`
 * over its first multiple of 4 floats and `tail` (JavaScript, views named w,
 * g, wo, the slot names and the slot names + 'o') over the rest, or over all
 * where SIMD is not there. Returns the weights, then the slots.
 */
function bucketUpdate(
  args: KernelArgs,
  slotNames: string[],
  simd: (kernels: Simd, at: Pointers, n: number) => void,
  tail: (views: Record<string, Float32Array>, offset: number, from: number, to: number) => void,
): tf.TensorInfo[] {
  const backend = args.backend as WasmHeapBackend;
  const inputs = args.inputs as Record<string, tf.TensorInfo>;
  const { offsets } = args.attrs as unknown as OptimizerAttrs;
  const ws = offsets.map((_, i) => inputs[`w${i}`]);
  const gs = offsets.map((_, i) => inputs[`g${i}`]);
  const slots = slotNames.map((s) => inputs[s]);
  const wOut = ws.map((w) => backend.makeOutput([...w.shape], 'float32'));
  const sOut = slots.map((s) => backend.makeOutput([...s.shape], 'float32'));
  const sizes = ws.map((w) => tf.util.sizeFromShape(w.shape));
  // views and offsets after the allocations: they may have grown the heap (a new buffer)
  const view = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t);
  const ptr = (t: tf.TensorInfo) => backend.getMemoryOffset(t.dataId);
  // placing a tensor that lives on another backend grows the heap (detaching
  // views made before): every input is placed before the first view
  for (const t of [...ws, ...gs, ...slots]) ptr(t);
  if (sizes.reduce((a, b) => a + b, 0) < tf.util.sizeFromShape(slots[0].shape))
    sOut.forEach((s, k) => view(s).set(view(slots[k])));
  const kernels = optimizerOn(backend);
  ws.forEach((w, i) => {
    const n4 = kernels ? sizes[i] & ~3 : 0;
    const o = offsets[i];
    if (n4 > 0)
      simd(
        kernels!,
        {
          w: ptr(w),
          g: ptr(gs[i]),
          wo: ptr(wOut[i]),
          s: slots.map((s) => ptr(s) + 4 * o),
          so: sOut.map((s) => ptr(s) + 4 * o),
        },
        n4,
      );
    if (n4 === sizes[i]) return;
    const views: Record<string, Float32Array> = { w: view(w), g: view(gs[i]), wo: view(wOut[i]) };
    slotNames.forEach((s, k) => {
      views[s] = view(slots[k]);
      views[`${s}o`] = view(sOut[k]);
    });
    tail(views, o, n4, sizes[i]);
  });
  return [...wOut, ...sOut];
}

/** Inputs w<i>, g<i>, m, v; attrs offsets and the AdamW scalars → new w<i>…, m, v. */
function adamwKernel(args: KernelArgs): tf.TensorInfo[] {
  const s = (args.attrs as unknown as OptimizerAttrs).scalars as AdamWScalars;
  return bucketUpdate(
    args,
    ['m', 'v'],
    (k, p, n) =>
      runJob(
        args.backend as WasmHeapBackend,
        elementwiseJob('optimizer.adamw', [p.w, p.g, p.s[0], p.s[1], p.wo, p.so[0], p.so[1]], n, s),
        k.adamw,
      ),
    (a, o, from, to) => adamwScalar(a as Parameters<typeof adamwScalar>[0], o, from, to, s),
  );
}

/** Inputs w<i>, g<i>, buf; attrs offsets and the SGD scalars → new w<i>…, buf. */
function sgdKernel(args: KernelArgs): tf.TensorInfo[] {
  const s = (args.attrs as unknown as OptimizerAttrs).scalars as SgdScalars;
  return bucketUpdate(
    args,
    ['buf'],
    (k, p, n) =>
      runJob(
        args.backend as WasmHeapBackend,
        elementwiseJob('optimizer.sgd', [p.w, p.g, p.s[0], p.wo, p.so[0]], n, s),
        k.sgd,
      ),
    (a, o, from, to) => sgdScalar(a as Parameters<typeof sgdScalar>[0], o, from, to, s),
  );
}

/** Registers the optimizer kernels for the wasm backend (idempotent). */
export function registerWasmOptimizers(): void {
  registerOnWasm({ [ADAMW]: adamwKernel, [SGD]: sgdKernel });
}
