// 2D matrix products (BatchMatMul and _FusedMatMul with a batch of 1) on the
// wasm backend by our own WebAssembly SIMD kernel (wasm-gemm-simd.ts)
// instead of tfjs's XNNPACK path. Measured at the model's shapes on one
// thread (`npm run bench -- gemm`): 55–58 GFLOP/s against XNNPACK's 42–45
// (which packs B and creates an operator at every call), and XNNPACK runs
// products with transposeA/transposeB 15–40× slower than plain ones; ours
// reads A and B through strides, so both flags cost nothing extra.
// The multiply-add is f32x4.mul then f32x4.add (relaxed_madd measured no
// faster here), in XNNPACK's order: k ascending, the bias first, so plain
// products give XNNPACK's bits.
//
// With more than one thread (the threaded build, its memory shared), products
// of THREAD_MIN_WORK multiply-adds or more run in chunks of whole 4-row tiles
// that the calling thread and the helper threads claim (wasm-threads.ts),
// bit for bit what one thread gives (each output is one sum in k order from
// the bias, whoever computes its row); XNNPACK on its pool of 2 is slower
// at the model's shapes, so every such product is ours then.
//
// Kept on tfjs's kernel: batched products, other dtypes, activations other
// than linear, biases not of N values, empty products, and, where there are
// no helper threads (a page's main thread), products without a transpose flag
// that the pool of all threads runs (wasm-pool.ts: with >1 threads, ≥ 4M
// multiply-adds).
import * as tf from '#tfjs';
import { gemmSimd, PANEL_BYTES } from './wasm-gemm-simd.ts';
import { simdOnBackend, type WasmHeapBackend } from './wasm-simd-asm.ts';
import { chunkUnits, poolHelpers, readyHelpers, runJob } from './wasm-threads.ts';

type KernelArgs = Parameters<tf.KernelFunc>[0];

interface GemmBackend extends WasmHeapBackend {
  wasm: WasmHeapBackend['wasm'] & {
    _malloc(bytes: number): number;
    _free(pointer: number): void;
    tfjs: { getThreadsCount(): number };
  };
}

const gemmOn = simdOnBackend(gemmSimd);
let enabled = true;

/** Turns our kernel off (tfjs's runs every product) or back on: for `npm run bench -- gemm`. */
export function useWasmGemm(on: boolean): void {
  enabled = on;
}

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/**
 * Multiply-adds from which a product's rows run in chunks on every thread
 * (wasm-threads.ts). Measured with two fixed halves on 2 threads,
 * idle: at 2^21 the split takes 54 µs against 74 on one thread; from 2^18 to
 * 2^20 it wins or loses by a few µs, shape by shape (the hand-off costs ~10 µs).
 */
export const THREAD_MIN_WORK = 1 << 20;

const CHUNK_ROWS = 32;
const CHUNK_WORK = 1 << 18;

/**
 * Rows of a chunk of a product on `threads` threads: whole 4-row tiles, at
 * least CHUNK_ROWS, at least CHUNK_WORK multiply-adds, and at most about
 * 2 chunks a thread. Every chunk packs all of B again (about the cost of 6
 * multiply-adds a value of B; measured at 196×384×1536 on one thread: 4.10 ms
 * whole, 4.37 in chunks of 64 rows, 4.84 of 32, 10.25 of 4), so chunks stay
 * big; 2 a thread still lets a thread that is done take a late one's share.
 */
const chunkRows = (M: number, N: number, K: number, threads: number): number =>
  chunkUnits(M, Math.max(CHUNK_ROWS, CHUNK_WORK / (N * K), M / (2 * threads)), 4);

/**
 * The product of `args` by our kernel, or null when it leaves it to tfjs's:
 * [M, N] (or the inputs' leading 1s then [M, N]).
 */
function product(args: KernelArgs, bias: tf.TensorInfo | undefined): tf.TensorInfo | null {
  const { a, b } = args.inputs as Record<string, tf.TensorInfo>;
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  if (!enabled || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  if (a.shape.length < 2 || b.shape.length < 2) return null;
  if (size(a.shape.slice(0, -2)) !== 1 || size(b.shape.slice(0, -2)) !== 1) return null;
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const [M, K] = transposeA ? [ac, ar] : [ar, ac];
  const [Kb, N] = transposeB ? [bc, br] : [br, bc];
  if (K !== Kb || M === 0 || N === 0 || K === 0) return null;
  if (bias && (bias.dtype !== 'float32' || size(bias.shape) !== N || bias.shape.at(-1) !== N))
    return null;
  const backend = args.backend as GemmBackend;
  const fast = gemmOn(backend);
  if (!fast) return null;
  const helpers = M > 4 && M * N * K >= THREAD_MIN_WORK ? readyHelpers(backend) : 0;
  // without helper threads, inside wasm-pool.ts's onAllThreads: XNNPACK on
  // every thread, but not with a transpose flag (there it is 10–40× slower
  // than ours on one)
  if (!helpers && !transposeA && !transposeB && backend.wasm.tfjs.getThreadsCount() > 1)
    return null;
  const lead = new Array<number>(Math.max(a.shape.length, b.shape.length) - 2).fill(1);
  const out = backend.makeOutput([...lead, M, N], 'float32');
  const at = (t: tf.TensorInfo) => backend.getMemoryOffset(t.dataId);
  // scratch for B's panels, one per thread that may join (malloc after
  // makeOutput: either may grow the heap)
  const threads = 1 + (helpers ? poolHelpers(backend) : 0);
  const panels = backend.wasm._malloc(PANEL_BYTES * threads);
  const [sai, sak] = transposeA ? [4, 4 * M] : [4 * K, 4];
  const [sbk, sbj] = transposeB ? [4, 4 * K] : [4 * N, 4];
  try {
    runJob(
      backend,
      {
        fn: 'gemm.gemm',
        args: [
          at(a),
          at(b),
          at(out),
          bias ? at(bias) : 0,
          M,
          N,
          K,
          sai,
          sak,
          sbk,
          sbj,
          bias ? 1 : 0,
          panels,
        ],
        countArg: 4,
        units: M,
        // one chunk (this thread alone) below THREAD_MIN_WORK
        perChunk: helpers ? chunkRows(M, N, K, threads) : M,
        unitStep: [sai, 0, 4 * N],
        threadStep: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, PANEL_BYTES],
      },
      fast.gemm as (...args: number[]) => void,
    );
  } finally {
    backend.wasm._free(panels);
  }
  return out;
}

let replaced = false;

/**
 * Whether 2D products with transposeA/transposeB run by our kernel here
 * (the backend is wasm, with SIMD): then they cost what plain ones do, and a
 * gradient need not transpose explicitly (src/train/matmul-grad.ts).
 */
export function transposesAreFree(): boolean {
  return (
    replaced &&
    enabled &&
    tf.getBackend() === 'wasm' &&
    gemmOn(tf.backend() as unknown as GemmBackend) !== null
  );
}

/**
 * Replaces the wasm backend's BatchMatMul and _FusedMatMul by ours where it
 * applies (see above), tfjs's elsewhere (idempotent).
 */
export function registerWasmGemm(): void {
  if (replaced) return;
  const batch = tf.getKernel(tf.BatchMatMul, 'wasm');
  const fused = tf.getKernel(tf._FusedMatMul, 'wasm');
  if (!batch || !fused) throw new Error('registerWasmGemm: the wasm backend is not loaded');
  replaced = true;
  const replace = (original: tf.KernelConfig, ours: (args: KernelArgs) => tf.TensorInfo | null) => {
    tf.unregisterKernel(original.kernelName, 'wasm');
    tf.registerKernel({
      ...original,
      kernelFunc: ((args: KernelArgs) => ours(args) ?? original.kernelFunc(args)) as tf.KernelFunc,
    });
  };
  replace(batch, (args) => product(args, undefined));
  replace(fused, (args) => {
    const { bias, preluActivationWeights } = args.inputs as Record<
      string,
      tf.TensorInfo | undefined
    >;
    const activation = (args.attrs as { activation?: string }).activation ?? 'linear';
    if (activation !== 'linear' || preluActivationWeights) return null;
    return product(args, bias);
  });
}
