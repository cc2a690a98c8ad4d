/**
 * The threaded wasm build in Node (src/backend/wasm-node-threads.ts): asked
 * for 2 threads on a machine with 2 or more logical cores, wasm starts with
 * 2, multiplies as a float64 loop does, runs the fused GELU as float64
 * does (its SIMD module on the shared memory), and the process ends on its own.
 */
import { cpus } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, spawnNode } from '../helpers/mam-cli.ts';

async function startWith(threads: number) {
  const child = path.join(repoRoot, 'test', 'helpers', 'wasm-threads-child.ts');
  const r = await spawnNode(['--import', 'tsx', child, String(threads)], repoRoot);
  expect(r.code, r.stderr).toBe(0);
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  expect(line, r.stdout).toBeDefined();
  return JSON.parse(line!) as {
    name: string;
    adapterInfo: string;
    error: number;
    bigError: number;
    idleThreads: number;
    poolThreads: number;
    gelu: { kernels: string[]; error: number };
  };
}

describe('wasm threads in Node', () => {
  it('starts the threaded build with the threads asked for (at most the cores)', async () => {
    const expected = Math.min(2, cpus().length);
    const r = await startWith(2);
    expect(r.name).toBe('wasm');
    expect(r.adapterInfo).toBe(`WebAssembly SIMD, ${expected} thread${expected === 1 ? '' : 's'}`);
    expect(r.error).toBeLessThanOrEqual(1e-5);
    // 149 products of terms in [-1, 1): float32 rounding, far below a wrong element (~1)
    expect(r.bigError).toBeLessThanOrEqual(1e-4);
    // kernels run inline unless large; the pool of every thread is kept for those
    expect(r.idleThreads).toBe(1);
    expect(r.poolThreads).toBe(expected);
    // the fused GELU's SIMD module imports the shared memory: float64's values to 3e-7·max(1, |x|)
    expect(r.gelu.kernels).toEqual(['MamGelu']);
    expect(r.gelu.error).toBeLessThan(3e-7);
  });

  it('starts one thread when asked for one', async () => {
    const r = await startWith(1);
    expect(r.adapterInfo).toBe('WebAssembly SIMD, 1 thread');
    expect(r.error).toBeLessThanOrEqual(1e-5);
    expect(r.bigError).toBeLessThanOrEqual(1e-4);
    expect([r.idleThreads, r.poolThreads]).toEqual([1, 1]);
  });
});
