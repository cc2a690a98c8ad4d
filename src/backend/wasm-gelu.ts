// Exact GELU forward and backward as kernels of the wasm backend registered
// in JavaScript, working on its heap. Composed from tfjs ops GELU runs 5
// kernels forward (Erf element by element) and 8 backward; here one pass
// each way, the backward recomputing Φ(x) from x (the forward saves only
// its input). In WebAssembly SIMD (wasm-gelu-simd.ts) when the element count
// is a multiple of 4, else JavaScript loops over the same formula in
// float64. Above ELEMENT_CHUNK floats (wasm-threads.ts) the SIMD passes
// run in chunks on every thread. 'wasm' has them, and 'webgpu' (webgpu-fused.ts); other
// backends keep the composite GELU of
// src/ops/layers.ts.
import * as tf from '#tfjs';
import { geluCdf, geluDerivative, geluSimd } from './wasm-gelu-simd.ts';
import { heapViews, registerOnWasm, simdOnBackend, type WasmHeapBackend } from './wasm-simd-asm.ts';
import { elementwiseJob, runJob } from './wasm-threads.ts';

/** Kernel names (ours). */
export const GELU = 'MamGelu';
export const GELU_GRAD = 'MamGeluGrad';

const geluOn = simdOnBackend(geluSimd);

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** x → y = x·Φ(x), x's shape. */
function geluForward(args: KernelArgs): tf.TensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  const backend = args.backend as WasmHeapBackend;
  const n = tf.util.sizeFromShape(x.shape);
  const out = backend.makeOutput([...x.shape], 'float32');
  const fast = n % 4 === 0 ? geluOn(backend) : null;
  if (fast) {
    const [px, py] = [x, out].map((t) => backend.getMemoryOffset(t.dataId));
    if (n > 0) runJob(backend, elementwiseJob('gelu.forward', [px, py], n), fast.forward);
    return out;
  }
  // views after the allocation: it may have grown the heap (a new buffer)
  const [xs, y] = heapViews(backend, [x, out]);
  for (let i = 0; i < n; i++) y[i] = xs[i] * geluCdf(xs[i]);
  return out;
}

/** dy and x → dx = dy·(Φ(x) + x·φ(x)). */
function geluBackward(args: KernelArgs): tf.TensorInfo {
  const { dy, x } = args.inputs as Record<string, tf.TensorInfo>;
  const backend = args.backend as WasmHeapBackend;
  const n = tf.util.sizeFromShape(x.shape);
  const out = backend.makeOutput([...x.shape], 'float32');
  const fast = n % 4 === 0 ? geluOn(backend) : null;
  if (fast) {
    const [pdy, px, pdx] = [dy, x, out].map((t) => backend.getMemoryOffset(t.dataId));
    if (n > 0) runJob(backend, elementwiseJob('gelu.backward', [pdy, px, pdx], n), fast.backward);
    return out;
  }
  const [d, xs, dx] = heapViews(backend, [dy, x, out]);
  for (let i = 0; i < n; i++) dx[i] = d[i] * geluDerivative(xs[i]);
  return out;
}

/** Registers the GELU kernels for the wasm backend (idempotent). */
export function registerWasmGelu(): void {
  registerOnWasm({ [GELU]: geluForward, [GELU_GRAD]: geluBackward });
}
