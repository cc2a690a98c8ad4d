// LayerNorm, and the row sums of bias gradients, as kernels of the wasm
// backend registered in JavaScript and working on its heap. Composed from
// tfjs ops a LayerNorm runs ~10 kernels forward and ~15 backward (plus the
// copies tfjs saves for the tape), each a pass over memory and tfjs's
// bookkeeping per kernel; a training step of the demo runs 28 of them. Here
// the forward is one pass for the row's moments (sums shifted by its first
// value: no cancellation) and one writing the output, and the backward one
// kernel of two passes for dx, dγ and dβ: in WebAssembly SIMD
// (wasm-layer-norm-simd.ts) when rows are a multiple of 4 floats, else in
// JavaScript loops with sums in float64. Rows of ROW_CHUNK floats or more run
// in chunks on every thread; the backward sums dγ and dβ per chunk, then the
// chunks' sums in order (see simdBackward). 'wasm' has them, and 'webgpu'
// (webgpu-fused.ts); other backends keep the composite LayerNorm of src/ops/layers.ts.
import * as tf from '#tfjs';
import { layerNormSimd, type LayerNormSimd } from './wasm-layer-norm-simd.ts';
import { heapViews, registerOnWasm, simdOnBackend, type WasmHeapBackend } from './wasm-simd-asm.ts';
import { chunkUnits, memoryOf, runJob, type PoolJob } from './wasm-threads.ts';

/**
 * Floats a chunk of rows has at least (the rows of LayerNorm run in chunks on
 * every thread: wasm-threads.ts): half ELEMENT_CHUNK, as LayerNorm makes two
 * passes over its rows.
 */
export const ROW_CHUNK = 1 << 14;

/** Kernel names (ours: tfjs has no LayerNorm kernel). */
export const LAYER_NORM = 'MamLayerNorm';
export const LAYER_NORM_GRAD = 'MamLayerNormGrad';
/** `[M, n]` → `[n]`, the sum of the rows (no gradient: for gradients' own sums). */
export const SUM_ROWS = 'MamSumRows';

const layerNormOn = simdOnBackend(layerNormSimd);

/** The SIMD kernels when rows of C floats suit them (C a multiple of 4); else null: the JavaScript loops below. */
export function simdKernels(backend: WasmHeapBackend, C: number): LayerNormSimd | null {
  return C % 4 !== 0 || C === 0 ? null : layerNormOn(backend);
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

function rowsOf(x: tf.TensorInfo): [number, number] {
  const C = x.shape[x.shape.length - 1];
  return [C === 0 ? 0 : tf.util.sizeFromShape(x.shape) / C, C];
}

/**
 * Moments of the row of C at `o`, in float64, in one pass of sums shifted by
 * the row's first value K (Σ(x − K), Σ(x − K)²: no cancellation when the
 * row sits far from 0, unlike Σx² − (Σx)²/C): the mean and 1/√(variance + eps).
 */
function rowMoments(xs: Float32Array, o: number, C: number, eps: number): [number, number] {
  const K = xs[o];
  let s = 0;
  let q = 0;
  for (let c = 0; c < C; c++) {
    const d = xs[o + c] - K;
    s += d;
    q += d * d;
  }
  const variance = Math.max(0, (q - (s * s) / C) / C);
  return [K + s / C, 1 / Math.sqrt(variance + eps)];
}

/** x `[…, C]`, gamma and beta `[C]`, attr eps → y (x's shape). */
function layerNormForward(args: KernelArgs): tf.TensorInfo {
  const { x, gamma, beta } = args.inputs as Record<string, tf.TensorInfo>;
  const eps = (args.attrs as { eps: number }).eps;
  const backend = args.backend as WasmHeapBackend;
  const [M, C] = rowsOf(x);
  const out = backend.makeOutput([...x.shape], 'float32');
  const fast = simdKernels(backend, C);
  if (fast) {
    const [px, pg, pb, py] = [x, gamma, beta, out].map((t) => backend.getMemoryOffset(t.dataId));
    const job: PoolJob = {
      fn: 'layerNorm.forward',
      args: [px, pg, pb, py, M, C, eps],
      countArg: 4,
      units: M,
      perChunk: rowChunk(M, C),
      unitStep: [4 * C, 0, 0, 4 * C],
    };
    if (M > 0) runJob(backend, job, fast.forward);
    return out;
  }
  // views after the allocation: it may have grown the heap (a new buffer)
  const [xs, g, b, y] = heapViews(backend, [x, gamma, beta, out]);
  for (let r = 0, o = 0; r < M; r++, o += C) {
    const [mean, rstd] = rowMoments(xs, o, C, eps);
    for (let c = 0; c < C; c++) y[o + c] = (xs[o + c] - mean) * rstd * g[c] + b[c];
  }
  return out;
}

/**
 * Rows a chunk of a kernel over rows of C floats has (wasm-threads.ts): ROW_CHUNK
 * floats or more, so that the chunks depend on M and C alone.
 */
const rowChunk = (M: number, C: number) => chunkUnits(M, Math.ceil(ROW_CHUNK / C), 1);

interface MallocBackend extends WasmHeapBackend {
  wasm: WasmHeapBackend['wasm'] & { _malloc(bytes: number): number; _free(pointer: number): void };
}

/**
 * The SIMD backward of `tensors` (dy, x, γ, dx, dγ, dβ): in chunks of
 * rowChunk rows (on every thread, wasm-threads.ts), each chunk's dγ and dβ
 * summed into a row of partials of its own, and the partials then summed in
 * chunk order (sumRows): fixed boundaries, a fixed order, whatever the
 * thread count. One chunk sums into dγ and dβ directly.
 */
function simdBackward(
  backend: MallocBackend,
  fast: LayerNormSimd,
  tensors: tf.TensorInfo[],
  M: number,
  C: number,
  eps: number,
): void {
  const [pdy, px, pg, pdx, pdg, pdb] = tensors.map((t) => backend.getMemoryOffset(t.dataId));
  for (const t of tensors.slice(4)) backend.typedArrayFromHeap(t).fill(0);
  const perChunk = rowChunk(M, C);
  const chunks = Math.ceil(M / perChunk);
  const job: PoolJob = {
    fn: 'layerNorm.backward',
    args: [pdy, px, pg, pdx, pdg, pdb, M, C, eps],
    countArg: 6,
    units: M,
    perChunk,
    unitStep: [4 * C, 4 * C, 0, 4 * C],
  };
  if (chunks < 2) return runJob(backend, job, fast.backward);
  const partials = backend.wasm._malloc(8 * chunks * C);
  try {
    // a view after the malloc: it may have grown the heap
    new Float32Array(memoryOf(backend).buffer, partials, 2 * chunks * C).fill(0);
    job.args[4] = partials;
    job.args[5] = partials + 4 * chunks * C;
    job.chunkStep = [0, 0, 0, 0, 4 * C, 4 * C];
    runJob(backend, job, fast.backward);
    fast.sumRows(job.args[4], pdg, chunks, C);
    fast.sumRows(job.args[5], pdb, chunks, C);
  } finally {
    backend.wasm._free(partials);
  }
}

/**
 * dy and x `[…, C]`, gamma `[C]`, attr eps → dx, dγ, dβ: with x̂ = (x −
 * mean)·rstd and g = dy·γ per row, dx = (g − mean(g) − x̂·mean(g·x̂))·rstd,
 * dγ = Σ_rows dy·x̂, dβ = Σ_rows dy. The rows' moments are computed again
 * from x (in float64: a mean stored in float32 is off by up to half an ulp
 * of the values, a large error in x − mean when the rows sit far from 0),
 * so the forward saves nothing but its inputs. Two passes a row: the sums
 * (moments, Σg, Σg·(x − K), dβ), then dγ and dx.
 */
function layerNormBackward(args: KernelArgs): tf.TensorInfo[] {
  const { dy, x, gamma } = args.inputs as Record<string, tf.TensorInfo>;
  const eps = (args.attrs as { eps: number }).eps;
  const backend = args.backend as WasmHeapBackend;
  const [M, C] = rowsOf(x);
  const outs = [[...x.shape], [C], [C]].map((s) => backend.makeOutput(s, 'float32'));
  const fast = simdKernels(backend, C);
  if (fast) {
    simdBackward(backend as MallocBackend, fast, [dy, x, gamma, ...outs], M, C, eps);
    return outs;
  }
  const [d, xs, g, dx, dgOut, dbOut] = heapViews(backend, [dy, x, gamma, ...outs]);
  const dg = new Float64Array(C);
  const db = new Float64Array(C);
  for (let r = 0, o = 0; r < M; r++, o += C) {
    const K = xs[o];
    let s = 0;
    let q = 0;
    let sumG = 0;
    let sumGd = 0;
    for (let c = 0; c < C; c++) {
      const v = xs[o + c] - K;
      const dyc = d[o + c];
      const gc = dyc * g[c];
      s += v;
      q += v * v;
      sumG += gc;
      sumGd += gc * v;
      db[c] += dyc;
    }
    const shift = s / C; // mean − K
    const mu = K + shift;
    const rs = 1 / Math.sqrt(Math.max(0, (q - s * shift) / C) + eps);
    const meanG = sumG / C;
    // mean(g·x̂) = rs·(Σg·(x − K) − (mean − K)·Σg)/C
    const meanGx = (rs * (sumGd - shift * sumG)) / C;
    for (let c = 0; c < C; c++) {
      const xh = (xs[o + c] - mu) * rs;
      const dyc = d[o + c];
      dg[c] += dyc * xh;
      dx[o + c] = (dyc * g[c] - meanG - xh * meanGx) * rs;
    }
  }
  dgOut.set(dg);
  dbOut.set(db);
  return outs;
}

/**
 * x `[M, n]` → `[n]`, Σ over the rows: the bias gradients of Linear and
 * LayerNorm. Composed, it is the product 1ᵀ·x (wasm's Sum over the first axis
 * transposes x first), which packs x into XNNPACK's layout on every call.
 */
function sumRowsKernel(args: KernelArgs): tf.TensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  const backend = args.backend as WasmHeapBackend;
  const [M, n] = x.shape;
  const out = backend.makeOutput([n], 'float32');
  const fast = simdKernels(backend, n);
  if (fast) {
    backend.typedArrayFromHeap(out).fill(0);
    fast.sumRows(backend.getMemoryOffset(x.dataId), backend.getMemoryOffset(out.dataId), M, n);
    return out;
  }
  const [xs, sums] = heapViews(backend, [x, out]);
  const acc = new Float64Array(n);
  for (let r = 0, o = 0; r < M; r++, o += n) for (let c = 0; c < n; c++) acc[c] += xs[o + c];
  sums.set(acc);
  return out;
}

/** Registers the LayerNorm and row-sum kernels for the wasm backend (idempotent). */
export function registerWasmLayerNorm(): void {
  registerOnWasm({
    [LAYER_NORM]: layerNormForward,
    [LAYER_NORM_GRAD]: layerNormBackward,
    [SUM_ROWS]: sumRowsKernel,
  });
}
