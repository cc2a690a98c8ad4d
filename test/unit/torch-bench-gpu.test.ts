/**
 * bench/gpu/run.sh, the GPU benchmark's one command, smoke-tested on the CPU:
 * a DA-TransUNet-MAM graph (the reduced configuration: the node kinds of
 * da-transunet-mam, small enough for CI) trains its timed step in fp32 and
 * bf16 and lands in the JSON with images/s = batch · steps / time; a preset
 * name that does not exist and a missing CUDA device are refused in one line.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { daTransUnet } from '../../src/graph/presets-da.ts';
import { REDUCED_DA } from '../helpers/da-reduced.ts';
import { runWithTorch, suiteTempDir, torchEnv } from '../helpers/torch-runtime.ts';
import { describeOracle, venvPython } from './data-oracle.ts';

const SMOKE = ['--device', 'cpu', '--batch', '2', '--steps', '1', '--warmup', '0'];
const bench = (args: string[]) =>
  runWithTorch('bash', ['bench/gpu/run.sh', ...args], {
    env: { ...torchEnv(), PYTHON: venvPython },
  });

describeOracle('bench/gpu/run.sh on the CPU', () => {
  const tmp = suiteTempDir('mam-bench-gpu-');

  it('measures a DA-TransUNet-MAM graph in fp32 and bf16 and writes the JSON', async () => {
    const graph = join(tmp(), 'reduced-da.json');
    const doc = daTransUnet(
      {
        ...REDUCED_DA,
        title: 'reduced',
        description: '',
        classNames: ['bg', 'a', 'b'],
        memory: true,
      },
      catalogue,
    );
    writeFileSync(graph, JSON.stringify(doc));
    const out = join(tmp(), 'gpu.json');
    const r = await bench([...SMOKE, '--graph', graph, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/reduced-da\.json on .*, batch 2, 1 timed steps after 0/);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    expect(j).toMatchObject({ device: expect.any(String), batch: 2, steps: 1, warmup: 0 });
    expect(j.runs.map((x: { graph: string }) => x.graph)).toEqual(['reduced-da.json']);
    const rows = j.runs[0].results as {
      precision: string;
      imagesPerSec: number;
      secPerStep: number;
    }[];
    expect(rows.map((x) => x.precision)).toEqual(['fp32', 'bf16']);
    for (const x of rows) {
      expect(x.secPerStep).toBeGreaterThan(0);
      expect(x.imagesPerSec).toBeCloseTo((2 * 1) / x.secPerStep, 9);
    }
  }, 600_000);

  it('refuses a preset that does not exist, and CUDA where there is none, in one line', async () => {
    const r = await bench(['--device', 'cpu', '--preset', 'no-such-preset']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toMatch(/presets\/no-such-preset\.json: no such graph file \(--preset/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const c = await bench(['--device', 'cuda', '--preset', 'demo-mam']);
    expect(c.code).not.toBe(0);
    expect(c.stderr.trim()).toBe(
      '--device cuda: no CUDA device here (use --device cpu for a smoke test)',
    );
  }, 120_000);
});
