/**
 * Matrix products on wasm at the model's shapes: our SIMD kernel
 * (src/backend/wasm-gemm.ts) against tfjs-wasm's XNNPACK path and against
 * torch (.venv) on the same threads, in GFLOP/s (2·M·N·K a product), with the
 * ratios. Ours is also timed as the kernel called directly on the calling
 * thread ("ours 1t": with more threads, what the helper threads add), and so
 * with f32x4.relaxed_madd in place of mul + add (plain products). Ours/torch
 * is the ceiling of a matmul-bound training step's ratio to torch. Writes bench/out/gemm.json.
 *
 * `npm run bench -- gemm [--threads N]` (N: wasm threads and torch's; default 1)
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import v8 from 'node:v8';
import * as tf from '#tfjs';
import { initBackend } from '../src/backend/index.ts';
import { gemmSimd, PANEL_BYTES, type GemmSimd } from '../src/backend/wasm-gemm-simd.ts';
import { useWasmGemm } from '../src/backend/wasm-gemm.ts';
import { poolSettled } from '../src/backend/wasm-threads.ts';
import { timeStats, writeResult } from './util.ts';

/** M, K, N, transposeA, transposeB: products of the demo and 224² training steps. */
export const GEMM_SHAPES: [number, number, number, boolean, boolean][] = [
  [196, 384, 1536, false, false],
  [196, 1536, 384, false, false],
  [196, 384, 384, false, false],
  [3136, 96, 384, false, false],
  [1536, 196, 384, true, false], // a weight gradient: xᵀ·dy
  [784, 192, 192, false, false],
  [2048, 128, 32, false, false],
  [2048, 32, 128, false, false],
  [512, 256, 64, false, false],
  [128, 2048, 32, true, false],
  [1024, 1024, 1024, false, false],
  [7, 384, 1536, false, false], // few rows: M % 4 left to tiles of 2 and 1 row
  [196, 1536, 384, false, true], // dx = dy·Wᵀ
  [2048, 32, 128, false, true],
  [3136, 384, 96, false, true],
  [384, 3136, 96, true, false],
];

const root = path.resolve(import.meta.dirname, '..');

/** Runs of a product: 15 to 60, ~3 GFLOP in all. */
const runsOf = (flops: number) => Math.min(60, Math.max(15, Math.round(3e9 / flops)));

/** Milliseconds a product takes: the minimum of its runs (the machine is shared). */
function msOf(fn: () => void, flops: number): number {
  const runs = runsOf(flops);
  return timeStats(fn, { warmup: 2, runs }).min;
}

/** torch's ms a product at each shape (minimum of runs), on `threads` threads. */
function torchMs(threads: number): number[] {
  const script = `
import json, sys, time, torch
torch.set_num_threads(${threads})
out = []
for M, K, N, ta, tb in json.loads(sys.argv[1]):
    a = torch.randn(K, M).t() if ta else torch.randn(M, K)
    b = torch.randn(N, K).t() if tb else torch.randn(K, N)
    runs = min(60, max(15, round(3e9 / (2 * M * N * K))))
    for _ in range(2): a @ b
    best = float('inf')
    for _ in range(runs):
        t0 = time.perf_counter(); a @ b; best = min(best, time.perf_counter() - t0)
    out.append(best * 1e3)
print(json.dumps(out))
`;
  const python = path.join(root, '.venv', 'bin', 'python');
  const out = execFileSync(python, ['-c', script, JSON.stringify(GEMM_SHAPES)], {
    encoding: 'utf8',
  });
  return JSON.parse(out) as number[];
}

export async function run(argv: string[]) {
  const i = argv.indexOf('--threads');
  const threads = i >= 0 ? Number(argv[i + 1]) : 1;
  if (!Number.isInteger(threads) || threads < 1) {
    const e = new Error(`bench gemm: --threads takes a whole number ≥ 1, got "${argv[i + 1]}"`);
    e.name = 'BenchUsageError';
    throw e;
  }
  // relaxed SIMD is behind a flag in Node 20: set before any module is compiled
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  const info = await initBackend('wasm', { threads });
  if (info.name !== 'wasm') throw new Error(info.message);
  console.log(info.message);
  // a condition: each helper thread has started (or failed to)
  while (!poolSettled()) await new Promise((resolve) => setTimeout(resolve, 1));
  const backend = tf.backend() as unknown as {
    getMemoryOffset(id: tf.DataId): number;
    wasm: {
      _malloc(n: number): number;
      _free(p: number): void;
      asm?: { memory?: WebAssembly.Memory };
      wasmMemory?: WebAssembly.Memory;
    };
  };
  const memory = (backend.wasm.asm?.memory ?? backend.wasm.wasmMemory) as WebAssembly.Memory;
  const madd = gemmSimd(memory, true);
  const plain = gemmSimd(memory);
  if (!plain) throw new Error('bench gemm: no WebAssembly SIMD here');
  const torch = torchMs(threads);
  const rows = GEMM_SHAPES.map(([M, K, N, ta, tb], n) => {
    const flops = 2 * M * N * K;
    const a = tf.randomNormal(ta ? [K, M] : [M, K]);
    const b = tf.randomNormal(tb ? [N, K] : [K, N]);
    // wasm kernels run when called: no read-back (its copy would dominate big outputs)
    const product = () => tf.matMul(a, b, ta, tb).dispose();
    useWasmGemm(false);
    const xnnpack = msOf(product, flops);
    useWasmGemm(true);
    const ours = msOf(product, flops);
    // the kernel called directly on this thread: mul + add, and relaxed_madd (plain products)
    const c = tf.zeros([M, N]);
    const panel = backend.wasm._malloc(PANEL_BYTES);
    const at = (t: tf.Tensor) => backend.getMemoryOffset(t.dataId);
    const direct = (kernel: GemmSimd) => () =>
      kernel.gemm(
        at(a),
        at(b),
        at(c),
        0,
        M,
        N,
        K,
        ta ? 4 : 4 * K,
        ta ? 4 * M : 4,
        tb ? 4 : 4 * N,
        tb ? 4 * K : 4,
        0,
        panel,
      );
    const oursOne = msOf(direct(plain), flops);
    const relaxed = madd && !ta && !tb ? msOf(direct(madd), flops) : NaN;
    backend.wasm._free(panel);
    c.dispose();
    tf.dispose([a, b]);
    const rate = (ms: number) => flops / ms / 1e6;
    return {
      shape: `${M}×${K}×${N}${ta ? ' Aᵀ' : ''}${tb ? ' Bᵀ' : ''}`,
      ours: rate(ours),
      oursOneThread: rate(oursOne),
      relaxedMadd: rate(relaxed),
      xnnpack: rate(xnnpack),
      torch: rate(torch[n]),
    };
  });
  console.log(`GFLOP/s, ${threads} thread${threads === 1 ? '' : 's'} (M×K×N)`);
  console.log(
    'shape                  ours ours 1t  madd  XNNPACK  torch  ours/XNN  ours/torch  XNN/torch',
  );
  for (const r of rows)
    console.log(
      `${r.shape.padEnd(20)} ${r.ours.toFixed(1).padStart(6)} ${r.oursOneThread.toFixed(1).padStart(7)}` +
        ` ${r.relaxedMadd.toFixed(1).padStart(5)}` +
        ` ${r.xnnpack.toFixed(1).padStart(8)} ${r.torch.toFixed(1).padStart(6)}` +
        ` ${(r.ours / r.xnnpack).toFixed(2).padStart(9)} ${(r.ours / r.torch).toFixed(2).padStart(11)}` +
        ` ${(r.xnnpack / r.torch).toFixed(2).padStart(10)}`,
    );
  writeResult(`gemm-${threads}t`, { threads, rows });
}
