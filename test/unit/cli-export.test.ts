/**
 * `mam export --torch`: the folder holds the graph file as it was, the
 * weights in our format (the graph's keys and fingerprint), a launch script
 * and a README with the commands; the launch script trains 2 steps with the
 * torch runtime, starting from the exported weights. Bad command lines and
 * weights are refused with their exit codes, writing nothing.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readSafetensors, toFloat32 } from '../../src/compile/io/safetensors.ts';
import { saveWeights, weightFingerprint } from '../../src/compile/weights.ts';
import { compileGraphFile } from '../../src/cli/load-model.ts';
import { spawnMam } from '../helpers/mam-cli.ts';
import { runWithTorch } from '../helpers/torch-runtime.ts';
import { describeOracle, repoRoot, venvPython } from './data-oracle.ts';

const GRAPH = join(repoRoot, 'presets', 'demo-mam.json');

describeOracle('mam export --torch', () => {
  let dir = '';
  let fingerprint = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mam-export-'));
    const { model } = await compileGraphFile(GRAPH, 42);
    writeFileSync(join(dir, 'w.safetensors'), saveWeights(model));
    fingerprint = weightFingerprint(model);
    model.dispose();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes graph, weights, launch script and README; the script trains 2 steps from the weights', async () => {
    const out = join(dir, 'ex');
    const r = await spawnMam(
      ['export', '--torch', GRAPH, '--out', out, '--weights', join(dir, 'w.safetensors')],
      repoRoot,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'graph.json'), 'utf8')).toBe(readFileSync(GRAPH, 'utf8'));
    const given = readSafetensors(new Uint8Array(readFileSync(join(dir, 'w.safetensors'))));
    const written = readSafetensors(new Uint8Array(readFileSync(join(out, 'weights.safetensors'))));
    expect(written.metadata.fingerprint).toBe(fingerprint);
    expect([...written.tensors.keys()].sort()).toEqual([...given.tensors.keys()].sort());
    for (const [k, t] of given.tensors)
      expect(toFloat32(written.tensors.get(k)!)).toEqual(toFloat32(t));
    const readme = readFileSync(join(out, 'README.md'), 'utf8');
    expect(readme).toContain('./train.sh --epochs 150');
    expect(readme).toContain('-m mam_torch.train graph.json --data');
    expect(readme).toContain(fingerprint);

    const run = join(out, 'runs', 'x');
    const t = await runWithTorch(
      'bash',
      [join(out, 'train.sh'), '--steps', '2', '--val-every', '0'],
      {
        env: {
          ...process.env,
          PYTHON: venvPython,
          PYTHONPATH: join(repoRoot, 'python'),
          NPROC: '1',
          OMP_NUM_THREADS: '1',
          OUT: run,
        },
      },
    );
    expect(t.code, t.stderr).toBe(0);
    expect(t.stderr).toContain(`starting from ${join(out, 'weights.safetensors')}`);
    const state = JSON.parse(readFileSync(join(run, 'checkpoint', 'state.json'), 'utf8'));
    expect(state.step).toBe(2);
    expect(state.weightsFingerprint).toBe(fingerprint);
  }, 600_000);

  it('refuses a missing --torch (64) and weights of another graph (3), writing nothing', async () => {
    const noTarget = await spawnMam(['export', GRAPH, '--out', join(dir, 'a')], repoRoot);
    expect(noTarget.code).toBe(64);
    expect(noTarget.stderr).toMatch(/mam export: say what to export for: --torch/);
    const other = await compileGraphFile(join(repoRoot, 'presets', 'vit-unet-mam-sts.json'), 1);
    writeFileSync(join(dir, 'vit.safetensors'), saveWeights(other.model));
    other.model.dispose();
    const bad = await spawnMam(
      [
        'export',
        '--torch',
        GRAPH,
        '--out',
        join(dir, 'b'),
        '--weights',
        join(dir, 'vit.safetensors'),
      ],
      repoRoot,
    );
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/vit\.safetensors holds weights for another graph/);
    expect(existsSync(join(dir, 'a'))).toBe(false);
    expect(existsSync(join(dir, 'b'))).toBe(false);
  }, 600_000);
});
