/**
 * `mam train` / `mam eval` as a user meets them (spawning node bin/mam.js):
 * bad input gives a clear message and its own exit code, and Ctrl-C during
 * training leaves a valid checkpoint that --resume continues exactly.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompiledModel } from '../../src/compile/model.ts';
import { planGraph } from '../../src/compile/plan.ts';
import { saveWeights } from '../../src/compile/weights.ts';
import { writeNifti } from '../../src/data/nifti.ts';
import { EXIT_CODES } from '../../src/cli/load-model.ts';
import { phantomCase } from '../helpers/phantom-cases.ts';
import { tinyGraph } from '../helpers/tiny-graph.ts';
import { repoRoot } from './data-oracle.ts';

let dir = '';
const at = (...p: string[]) => path.join(dir, ...p);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function mam(
  args: string[],
  opts: { onLine?: (line: string, child: ReturnType<typeof spawn>) => void } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'mam.js'), ...args], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      pending += b.toString();
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        opts.onLine?.(pending.slice(0, nl), child);
        pending = pending.slice(nl + 1);
      }
    });
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A NIfTI folder (imagesTr/labelsTr + classes.json) of phantom cases, with optional damage. */
function niftiFolder(
  name: string,
  opts: { cases?: number; damage?: 'truncate' | 'mismatch' | 'label-range' } = {},
): string {
  const root = at(name);
  mkdirSync(path.join(root, 'imagesTr'), { recursive: true });
  mkdirSync(path.join(root, 'labelsTr'), { recursive: true });
  writeFileSync(
    path.join(root, 'classes.json'),
    JSON.stringify(['background', 'organ1', 'organ2']),
  );
  for (let i = 0; i < (opts.cases ?? 3); i++) {
    const c = phantomCase(`case${i}`, 20 + i, 16, 4);
    let img = writeNifti(c.channels[0].data as Float32Array, c.channels[0].dims);
    let labels = c.label!.data;
    let labelDims = c.label!.dims;
    if (i === 1 && opts.damage === 'truncate') img = img.slice(0, Math.floor(img.length / 2));
    if (i === 1 && opts.damage === 'mismatch') {
      labelDims = [16, 16, 5];
      labels = new Uint8Array(16 * 16 * 5);
    }
    if (i === 1 && opts.damage === 'label-range') {
      labels = labels.slice();
      labels[7] = 5;
    }
    writeFileSync(path.join(root, 'imagesTr', `case${i}_0000.nii.gz`), img);
    writeFileSync(path.join(root, 'labelsTr', `case${i}.nii.gz`), writeNifti(labels, labelDims));
  }
  return root;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mam-train-cli-'));
  await tf.setBackend('cpu');
  writeFileSync(at('tiny.json'), JSON.stringify(tinyGraph()));
  writeFileSync(
    at('other.json'),
    JSON.stringify(tinyGraph({ classes: ['background', 'a', 'b', 'c'] })),
  );
  const plan = planGraph(tinyGraph({ classes: ['background', 'a', 'b', 'c'] }));
  if (!plan.ok) throw new Error('tiny graph does not compile');
  const other = CompiledModel.create(plan.plan, { seed: 1 });
  writeFileSync(at('other.safetensors'), saveWeights(other));
  other.dispose();
  niftiFolder('good');
  niftiFolder('truncated', { damage: 'truncate' });
  niftiFolder('mismatch', { damage: 'mismatch' });
  niftiFolder('labels', { damage: 'label-range' });
  mkdirSync(at('empty'));
  writeFileSync(
    at('broken.json'),
    readFileSync(path.join(repoRoot, 'test/fixtures/broken-skip.json')),
  );
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('mam train / eval: bad input', () => {
  it('each problem: a clear message and its own exit code, nothing crashes', async () => {
    const train = (data: string, graph = 'tiny.json') =>
      mam([
        'train',
        graph,
        '--data',
        data,
        '--backend',
        'cpu',
        '--steps',
        '2',
        '--out',
        `runs/${data}`,
      ]);
    const [truncated, mismatch, labels, empty, broken, weights] = await Promise.all([
      train('truncated'),
      train('mismatch'),
      train('labels'),
      train('empty'),
      train('good', 'broken.json'),
      mam([
        'eval',
        'tiny.json',
        '--weights',
        'other.safetensors',
        '--data',
        'good',
        '--backend',
        'cpu',
      ]),
    ]);
    const check = (r: Run, code: number, message: RegExp) => {
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    };
    check(truncated, EXIT_CODES.badData, /case1_0000\.nii\.gz/);
    check(mismatch, EXIT_CODES.sizeMismatch, /16×16×4 but .*16×16×5/);
    check(labels, EXIT_CODES.labelRange, /label 5 .*outside the class table/);
    check(empty, EXIT_CODES.emptyData, /empty folder/);
    check(broken, EXIT_CODES.graphErrors, /has errors/);
    check(weights, EXIT_CODES.badWeights, /another graph/);
    expect(
      new Set([truncated, mismatch, labels, empty, broken, weights].map((r) => r.code)).size,
    ).toBe(6);
  });
});

describe('mam train: Ctrl-C and --resume', () => {
  it('SIGINT after the first checkpoint exits 130 with a valid checkpoint; --resume continues with the same losses as an uninterrupted run', async () => {
    const common = [
      'train',
      'tiny.json',
      '--data',
      'good',
      '--backend',
      'cpu',
      '--steps',
      '16',
      '--batch',
      '2',
      '--val-every',
      '0',
      '--seed',
      '5',
    ];
    let signalled = false;
    const [full, stopped] = await Promise.all([
      mam([...common, '--out', 'runs/full']),
      mam([...common, '--out', 'runs/stopped', '--checkpoint-every', '2'], {
        onLine: (line, child) => {
          if (!signalled && line.startsWith('checkpoint:')) {
            signalled = true;
            child.kill('SIGINT');
          }
        },
      }),
    ]);
    expect(full.code, full.stderr).toBe(0);
    expect(stopped.code, stopped.stderr).toBe(EXIT_CODES.interrupted);
    expect(stopped.stderr).toMatch(/--resume/);
    const state = JSON.parse(readFileSync(at('runs/stopped/checkpoint/state.json'), 'utf8')) as {
      step: number;
    };
    expect(state.step).toBeGreaterThanOrEqual(2);
    expect(state.step).toBeLessThan(16);

    const resumed = await mam([...common, '--out', 'runs/stopped', '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(new RegExp(`resuming .* at step ${state.step} of 16`));
    const losses = (run: string) =>
      readFileSync(at(run, 'history.csv'), 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',').slice(0, 3).join(','));
    const a = losses('runs/full');
    expect(a).toHaveLength(16);
    expect(losses('runs/stopped')).toEqual(a);
    const run = JSON.parse(readFileSync(at('runs/stopped/run.json'), 'utf8'));
    expect(run.backend.name).toBe('cpu');
    expect(run.metricConvention).toBe('synapse');
    expect(run.data.split.train.length + run.data.split.val.length).toBe(3);

    // a second plain run into the same folder refuses rather than overwrite it
    const again = await mam([...common, '--out', 'runs/stopped']);
    expect(again.code).toBe(EXIT_CODES.runFolder);
  });
});
