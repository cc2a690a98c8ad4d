/**
 * Our SIMD Transpose on the threaded wasm build in Node (its heap a shared
 * memory, which the module must import as shared): every case runs in our
 * kernel, not tfjs's, and moves every element where the definition says;
 * no tensor is left.
 */
import { cpus } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, spawnNode } from '../helpers/mam-cli.ts';

/** [shape, perm]: runs, 4×4 tiles with edges, both walks of the tiles, single elements. */
const CASES: [number[], number[]][] = [
  [
    [16, 128, 2, 16],
    [1, 0, 2, 3],
  ],
  [
    [128, 16, 2, 16],
    [3, 0, 2, 1],
  ],
  [
    [67, 5, 3, 131],
    [3, 0, 2, 1],
  ],
  [
    [2, 32, 4, 32, 4, 3],
    [0, 1, 3, 2, 4, 5],
  ],
  [
    [2, 256],
    [1, 0],
  ],
];

describe('our wasm Transpose on 2 threads', () => {
  it('runs in our kernel on the shared heap, bit for bit the definition', async () => {
    const child = path.join(repoRoot, 'test', 'unit', 'backend-wasm-transpose-threads-child.ts');
    const r = await spawnNode(['--import', 'tsx', child, JSON.stringify(CASES)], repoRoot);
    expect(r.code, r.stderr).toBe(0);
    const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
    expect(line, r.stdout).toBeDefined();
    const out = JSON.parse(line!) as {
      adapterInfo: string;
      shared: boolean;
      results: { shape: number[]; perm: number[]; ours: boolean; differ: number }[];
      tensorsLeft: number;
    };
    const threads = Math.min(2, cpus().length);
    expect(out.adapterInfo).toBe(`WebAssembly SIMD, ${threads} thread${threads === 1 ? '' : 's'}`);
    expect(out.shared).toBe(threads > 1);
    expect(out.results).toHaveLength(CASES.length);
    for (const c of out.results)
      expect(c, JSON.stringify(c)).toMatchObject({ ours: true, differ: 0 });
    expect(out.tensorsLeft).toBe(0);
  });
});
