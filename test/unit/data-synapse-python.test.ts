// The Synapse layout reader on files written by numpy (np.savez) and h5py, as the reference pipeline stores them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { loadSynapse } from '../../src/data/dataset.ts';
import { nodeFileSource } from '../../src/data/node-fs.ts';
import { describeOracle, venvPython as PY } from './data-oracle.ts';

const H = 5;
const W = 7;
const D = 3;

describeOracle('Synapse layout written by numpy/h5py (needs .venv)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mam-synapse-'));
  execFileSync(PY, ['test/python/data_synapse_fixtures.py', dir]);

  it('train slices (.npz): image and label values at every pixel, in volume order (x fastest)', async () => {
    const r = await loadSynapse(nodeFileSource(dir), '', { split: 'train' });
    if (!r.ok) throw new Error(r.message);
    expect(r.value.cases.map((c) => c.id)).toEqual(['case0005_slice000', 'case0005_slice001']);
    for (const [k, c] of r.value.cases.entries()) {
      expect(c.channels[0].dims).toEqual([W, H, 1]);
      for (let row = 0; row < H; row++)
        for (let col = 0; col < W; col++) {
          expect(c.channels[0].data[row * W + col]).toBeCloseTo((row * W + col) / 100 + k, 5);
          expect(c.label!.data[row * W + col]).toBe((row + 2 * col + k) % 9);
        }
    }
  });

  it('test volumes (.npy.h5): every voxel of image and label', async () => {
    const r = await loadSynapse(nodeFileSource(dir), '', { split: 'test' });
    if (!r.ok) throw new Error(r.message);
    const c = r.value.cases[0];
    expect(c.channels[0].dims).toEqual([W, H, D]);
    for (let z = 0; z < D; z++)
      for (let row = 0; row < H; row++)
        for (let col = 0; col < W; col++) {
          const i = (z * H + row) * W + col;
          expect(c.channels[0].data[i]).toBe(z * 1000 + row * W + col);
          expect(c.label!.data[i]).toBe((z + row + col) % 9);
        }
  });
});
