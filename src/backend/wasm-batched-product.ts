// A batch of small matrix products read in place through strides, as one
// kernel of the wasm backend: window attention's per-window, per-head
// products (q·kᵀ, P·v and the three of the gradient) straight from and into
// the `[windows, tokens, heads·d]` and `[windows, heads, N, N]` layouts, no
// transpose around them. By our SIMD product (wasm-gemm-simd.ts,
// gemmBatched), with the threaded build its windows in chunks on every thread
// (wasm-threads.ts) from THREAD_MIN_WORK multiply-adds (each window's
// products are whole in one chunk: the same bits on any thread count);
// without SIMD, a JavaScript loop giving
// the same float32 sums in k order. Registered on 'wasm' only: other
// backends keep tfjs's batched matMul (src/ops/attention.ts).
import * as tf from '#tfjs';
import { THREAD_MIN_WORK } from './wasm-gemm.ts';
import { gemmSimd, PANEL_BYTES } from './wasm-gemm-simd.ts';
import { heapViews, registerOnWasm, simdOnBackend, type WasmHeapBackend } from './wasm-simd-asm.ts';
import { chunkUnits, poolHelpers, readyHelpers, runJob } from './wasm-threads.ts';

/** Multiply-adds a chunk of windows has at least (a few hand-offs' worth). */
const CHUNK_WORK = 1 << 18;

/** Kernel name (ours). */
export const BATCHED_PRODUCT = 'MamBatchedProduct';

/** Element strides of an operand over (window, head, row, column). */
export type OperandStrides = [number, number, number, number];

/**
 * For each window w < windows and head h < heads: C(i, j) = Σ_k A(i, k)·B(k, j),
 * i < M, j < N, k < K, with A(i, k) = a[aOffset + a·(w, h, i, k)],
 * B(k, j) = b[bOffset + b·(w, h, k, j)] and C(i, j) = out[c·(w, h, i) + j]
 * (strides and offsets in elements; C's columns contiguous). The batch's C
 * must fill `shape` exactly.
 */
export interface BatchedProductAttrs {
  M: number;
  N: number;
  K: number;
  windows: number;
  heads: number;
  a: OperandStrides;
  b: OperandStrides;
  c: [number, number, number];
  shape: number[];
  /** Where A's and B's first entries sit (a chunk of windows read in place); 0 unless given. */
  aOffset?: number;
  bOffset?: number;
}

interface ProductBackend extends WasmHeapBackend {
  wasm: WasmHeapBackend['wasm'] & { _malloc(bytes: number): number; _free(pointer: number): void };
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

const gemmOn = simdOnBackend(gemmSimd);

/** The largest element index the strides reach, for the batch and a `rows × columns` operand. */
const reach = (s: number[], windows: number, heads: number, rows: number, columns: number) =>
  (windows - 1) * s[0] + (heads - 1) * s[1] + (rows - 1) * s[2] + (columns - 1) * s[3];

function check(attrs: BatchedProductAttrs, a: tf.TensorInfo, b: tf.TensorInfo): void {
  const { M, N, K, windows, heads, shape, aOffset = 0, bOffset = 0 } = attrs;
  const size = (s: readonly number[]) => tf.util.sizeFromShape([...s]);
  const fits =
    a.dtype === 'float32' &&
    b.dtype === 'float32' &&
    [M, N, K, windows, heads].every((n) => Number.isInteger(n) && n >= 1) &&
    [...attrs.a, ...attrs.b, ...attrs.c, aOffset, bOffset].every(
      (s) => Number.isInteger(s) && s >= 0,
    ) &&
    aOffset + reach(attrs.a, windows, heads, M, K) < size(a.shape) &&
    bOffset + reach(attrs.b, windows, heads, K, N) < size(b.shape) &&
    reach([...attrs.c, 1], windows, heads, M, N) < size(shape) &&
    windows * heads * M * N === size(shape);
  if (!fits)
    throw new Error(
      `${BATCHED_PRODUCT}: strides ${JSON.stringify(attrs)} do not fit a ${a.shape} (${a.dtype}), b ${b.shape} (${b.dtype})`,
    );
}

/** a, b → the batch of products (see BatchedProductAttrs). */
function batchedProduct(args: KernelArgs): tf.TensorInfo {
  const { a, b } = args.inputs as Record<string, tf.TensorInfo>;
  const attrs = args.attrs as unknown as BatchedProductAttrs;
  check(attrs, a, b);
  const { M, N, K, windows, heads, aOffset = 0, bOffset = 0 } = attrs;
  const backend = args.backend as ProductBackend;
  const out = backend.makeOutput([...attrs.shape], 'float32');
  const fast = gemmOn(backend);
  if (fast) {
    // place a and b (either may grow the heap) before the scratch
    const [pa, pb, pc] = [a, b, out].map((t) => backend.getMemoryOffset(t.dataId));
    const perWindow = heads * M * N * K;
    const split =
      windows > 1 && windows * perWindow >= THREAD_MIN_WORK && readyHelpers(backend) > 0;
    const threads = 1 + (split ? poolHelpers(backend) : 0);
    // one scratch panel a thread that may join
    const panel = backend.wasm._malloc(PANEL_BYTES * threads);
    const [sa, sb, sc] = [attrs.a, attrs.b, attrs.c].map((s) => s.map((x) => 4 * x));
    try {
      runJob(
        backend,
        {
          fn: 'gemm.gemmBatched',
          // gemm's 13 arguments, then C's row stride, the batch's counts and strides
          args: [
            pa + 4 * aOffset,
            pb + 4 * bOffset,
            pc,
            0,
            M,
            N,
            K,
            sa[2],
            sa[3],
            sb[2],
            sb[3],
            0,
            panel,
            sc[2],
          ].concat([windows, heads, sa[0], sa[1], sb[0], sb[1], sc[0], sc[1]]),
          countArg: 14,
          units: windows,
          // whole windows a chunk, about 2 chunks a thread; one chunk when not split
          perChunk: split
            ? chunkUnits(
                windows,
                Math.max(Math.ceil(CHUNK_WORK / perWindow), Math.ceil(windows / (2 * threads))),
                1,
              )
            : windows,
          unitStep: [sa[0], sb[0], sc[0]],
          threadStep: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, PANEL_BYTES],
        },
        fast.gemmBatched as (...args: number[]) => void,
      );
    } finally {
      backend.wasm._free(panel);
    }
    return out;
  }
  const [av, bv, cv] = heapViews(backend, [a, b, out]);
  batchedProductInJs(attrs, av, bv, cv);
  return out;
}

/**
 * The batch of products in JavaScript (where WebAssembly SIMD is not): the
 * SIMD kernel's float32 sums in k order, each product and sum rounded.
 */
export function batchedProductInJs(
  { M, N, K, windows, heads, a: sa, b: sb, c: sc, aOffset = 0, bOffset = 0 }: BatchedProductAttrs,
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
): void {
  for (let w = 0; w < windows; w++)
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) {
            const x = a[aOffset + w * sa[0] + h * sa[1] + i * sa[2] + k * sa[3]];
            const y = b[bOffset + w * sb[0] + h * sb[1] + k * sb[2] + j * sb[3]];
            s = Math.fround(s + Math.fround(x * y));
          }
          c[w * sc[0] + h * sc[1] + i * sc[2] + j] = s;
        }
}

/** Registers the batched product for the wasm backend (idempotent). */
export function registerWasmBatchedProduct(): void {
  registerOnWasm({ [BATCHED_PRODUCT]: batchedProduct });
}
