/**
 * The pool of helper threads for our wasm SIMD kernels (src/backend/wasm-threads.ts),
 * on the threaded wasm build in Node: with 2 threads, products of 2^20
 * multiply-adds or more (in chunks of 32 rows or more, about 2 a thread), GELU over 2^15 floats or more,
 * LayerNorm rows of 2^14 floats or more and AdamW over weights of 2^15 floats
 * or more run in fixed chunks that the caller and a helper worker claim. Each
 * gives, byte for byte, what one thread gives (a second process with 1
 * thread), whether it runs as it comes, with the helper held off (the caller
 * claims every chunk) or with the caller claiming none (the helper runs
 * every chunk); products equal float32 sums in k order from the bias, AdamW
 * the JavaScript float32 loop, GELU and LayerNorm (dγ and dβ summed per chunk,
 * then in chunk order) float64 loops. A helper's chunk that fails (out of the
 * heap's bounds) raises a one-line error in the caller. No tensor is left;
 * each process ends on its own (the worker is unreferenced).
 */
import { cpus } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, spawnNode } from '../helpers/mam-cli.ts';
import { THREAD_MIN_WORK } from '../../src/backend/wasm-gemm.ts';

/** [M, N, K] */
const SHAPES: [number, number, number][] = [
  [128, 128, 64], // exactly 2^20: 4 chunks of 32 rows
  [45, 97, 300], // 2 chunks: 32 rows and 13; odd N
  [9, 111, 1100], // under 32 rows: one chunk
  [196, 200, 384],
  [127, 128, 64], // just under 2^20
  [7, 384, 1536], // above 2^20, but under 32 rows
  [3, 384, 1536], // and one tile
  [300, 96, 50], // 4 chunks of 76 rows (the last 72)
];
/** GELU float counts, LayerNorm [M, C], AdamW weight sizes: one chunk, and many. */
const OTHERS = {
  gelu: [1000, 200_004],
  layerNorm: [
    [10, 48],
    [3000, 48],
    [1000, 96],
  ],
  adamw: [1000, 300_000],
};

interface Run {
  name: string;
  way: string;
  digest: string;
  error: number | null;
  posted: number;
  chunks: number;
  byHelpers: number;
}

interface Output {
  adapterInfo: string;
  runs: Run[];
  tensorsLeft: number;
  helperFailure: string;
}

async function child(threads: number): Promise<Output> {
  const file = path.join(repoRoot, 'test', 'unit', 'backend-wasm-gemm-threads-child.ts');
  const args = [
    '--import',
    'tsx',
    file,
    String(threads),
    JSON.stringify(SHAPES),
    JSON.stringify(OTHERS),
  ];
  const r = await spawnNode(args, repoRoot);
  // it exited by itself, with status 0
  expect(r.code, r.stderr).toBe(0);
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  expect(line, r.stdout).toBeDefined();
  return JSON.parse(line!) as Output;
}

const ceil4 = (v: number) => 4 * Math.ceil(v / 4);

/** Chunks of a run by the work thresholds above (1: it stays on the calling thread). */
function chunksOf(name: string): number {
  const [kind, ...rest] = name.split(' ');
  if (kind === 'gemm') {
    const [M, N, K] = rest[0].split(',').map(Number);
    if (M <= 4 || M * N * K < 2 ** 20) return 1;
    // 32 rows or more, 2^18 multiply-adds or more, about 2 chunks a thread
    return Math.ceil(M / ceil4(Math.max(32, 2 ** 18 / (N * K), M / 4)));
  }
  if (kind === 'layerNorm') {
    const [M, C] = rest[0].split('×').map(Number);
    return Math.ceil(M / Math.ceil(2 ** 14 / C));
  }
  return Math.ceil(Number(rest[0]) / 2 ** 15);
}

/** Jobs a run hands the pool: a product is one; GELU and LayerNorm two (forward, backward); AdamW one (its large weight). */
const jobsOf = (name: string) =>
  chunksOf(name) < 2 ? 0 : name.startsWith('gelu') || name.startsWith('layerNorm') ? 2 : 1;

describe('our wasm SIMD kernels on 2 threads', () => {
  it('run in chunks that either thread claims, byte-equal to one thread; the process ends', async () => {
    const [one, two] = await Promise.all([child(1), child(2)]);
    const threads = Math.min(2, cpus().length);
    expect(two.adapterInfo).toBe(`WebAssembly SIMD, ${threads} thread${threads === 1 ? '' : 's'}`);
    expect(one.adapterInfo).toBe('WebAssembly SIMD, 1 thread');
    expect(THREAD_MIN_WORK).toBe(2 ** 20);
    const cases = SHAPES.length * 8 + 2 + 3 + 2;
    expect(two.runs).toHaveLength(3 * cases);
    const digests = new Map(one.runs.map((r) => [r.name, r.digest]));
    for (const r of two.runs) {
      const what = JSON.stringify(r);
      expect(r.digest, what).toBe(digests.get(r.name));
      if (r.error !== null) {
        if (r.name.startsWith('gelu')) expect(r.error, what).toBeLessThan(3e-7);
        else if (r.name.startsWith('layerNorm')) expect(r.error, what).toBeLessThan(1e-5);
        else expect(r.error, what).toBe(0);
      }
      const jobs = threads > 1 ? jobsOf(r.name) : 0;
      expect(r.posted, what).toBe(jobs);
      // GELU and LayerNorm: the forward and the backward of the same size
      expect(r.chunks, what).toBe(jobs * chunksOf(r.name));
      if (r.way === 'helpers held off') expect(r.byHelpers, what).toBe(0);
      if (r.way === 'caller claims none') expect(r.byHelpers, what).toBe(r.chunks);
    }
    for (const r of one.runs) expect(r.posted, JSON.stringify(r)).toBe(0);
    expect(one.tensorsLeft).toBe(0);
    expect(two.tensorsLeft).toBe(0);
    // with the helper running every chunk, one out of the heap's bounds: said, in one line
    if (threads > 1)
      expect(two.helperFailure).toBe('wasm gelu.forward: a helper thread failed (out of bounds?)');
  });
});
