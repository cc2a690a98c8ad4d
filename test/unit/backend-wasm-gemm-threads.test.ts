/**
 * Our matrix product on the threaded wasm build in Node: with 2 threads, a
 * product of 2^20 multiply-adds or more (and at least 8 rows) is split by
 * rows between the calling thread and a helper worker on the same shared
 * memory, and still equals, bit for bit, float32 sums in k order from the
 * bias (what the one-thread kernel gives), for every transpose combination,
 * with and without a bias, whether the helper does its rows or the caller
 * takes them back (when it finishes first); smaller products stay on the calling thread; no
 * tensor is left; the process ends on its own (the worker is unreferenced).
 */
import { cpus } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, spawnNode } from '../helpers/mam-cli.ts';
import { THREAD_MIN_WORK } from '../../src/backend/wasm-gemm.ts';

/** [M, N, K] */
const SHAPES: [number, number, number][] = [
  [128, 128, 64], // exactly 2^20
  [45, 97, 300], // two K blocks, odd N, M % 4 = 1
  [9, 111, 1100], // the helper gets one row
  [196, 200, 384],
  [127, 128, 64], // just under 2^20
  [7, 384, 1536], // above, but under 8 rows
];

describe('our wasm matrix product on 2 threads', () => {
  it('splits large products by rows, bit-equal to one thread; the process ends', async () => {
    const child = path.join(repoRoot, 'test', 'unit', 'backend-wasm-gemm-threads-child.ts');
    const r = await spawnNode(['--import', 'tsx', child, JSON.stringify(SHAPES)], repoRoot);
    // it exited by itself, with status 0
    expect(r.code, r.stderr).toBe(0);
    const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
    expect(line, r.stdout).toBeDefined();
    const out = JSON.parse(line!) as {
      adapterInfo: string;
      products: {
        shape: number[];
        takeBack: boolean;
        differ: number;
        posted: number;
        byHelpers: number;
      }[];
      tensorsLeft: number;
    };
    const threads = Math.min(2, cpus().length);
    expect(out.adapterInfo).toBe(`WebAssembly SIMD, ${threads} thread${threads === 1 ? '' : 's'}`);
    expect(out.products).toHaveLength(2 * SHAPES.length * 8);
    expect(THREAD_MIN_WORK).toBe(2 ** 20);
    for (const p of out.products) {
      const [M, N, K] = p.shape;
      expect(p.differ, JSON.stringify(p)).toBe(0);
      const split = threads > 1 && M >= 8 && M * N * K >= 2 ** 20;
      expect(p.posted, JSON.stringify(p)).toBe(split ? 1 : 0);
      // waited for, the helper did its rows; else it or the caller did
      if (!p.takeBack) expect(p.byHelpers, JSON.stringify(p)).toBe(p.posted);
    }
    expect(out.tensorsLeft).toBe(0);
  });
});
