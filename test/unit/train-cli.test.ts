/**
 * `mam train` / `mam eval` as a user meets them (spawning node bin/mam.js):
 * bad input gives a clear message and its own exit code, and Ctrl-C during
 * training leaves a valid checkpoint that --resume continues exactly.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tf from '#tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompiledModel } from '../../src/compile/model.ts';
import { planGraph } from '../../src/compile/plan.ts';
import { saveWeights } from '../../src/compile/weights.ts';
import { EXIT_CODES } from '../../src/cli/errors.ts';
import { niftiFolder } from '../helpers/nifti-folder.ts';
import { tinyGraph } from '../helpers/tiny-graph.ts';
import { repoRoot } from './data-oracle.ts';
import { spawnMam, type MamResult } from '../helpers/mam-cli.ts';
import { catalogue } from '../../nodes/index.ts';
import { kernels } from '../../src/compile/kernels/index.ts';

let dir = '';
const at = (...p: string[]) => path.join(dir, ...p);

type Run = MamResult;

const mam = (
  args: string[],
  opts: { onLine?: (line: string, child: ChildProcess) => void } = {},
): Promise<Run> => spawnMam(args, dir, opts);

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mam-train-cli-'));
  await tf.setBackend('cpu');
  writeFileSync(at('tiny.json'), JSON.stringify(tinyGraph()));
  writeFileSync(
    at('other.json'),
    JSON.stringify(tinyGraph({ classes: ['background', 'a', 'b', 'c'] })),
  );
  const plan = planGraph(tinyGraph({ classes: ['background', 'a', 'b', 'c'] }), catalogue, kernels);
  if (!plan.ok) throw new Error('tiny graph does not compile');
  const other = CompiledModel.create(plan.plan, { seed: 1 });
  writeFileSync(at('other.safetensors'), saveWeights(other));
  other.dispose();
  niftiFolder(at('good'));
  niftiFolder(at('truncated'), { damage: 'truncate' });
  niftiFolder(at('mismatch'), { damage: 'mismatch' });
  niftiFolder(at('labels'), { damage: { label: 5 } });
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
