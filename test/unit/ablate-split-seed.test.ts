/**
 * The split seed on record (issue 13): every run of an ablation trains on the
 * first seed's split and says so (settings.splitSeed, as mam_torch's
 * --split-seed writes it), so `mam train --resume` of a run the ablation left
 * cut draws that split again, not its own seed's, and continues it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { localEngine, runAblation, runDirOf } from '../../src/ablate/runner.ts';
import { deriveAblation, VARIANTS } from '../../src/ablate/variants.ts';
import { initBackend } from '../../src/backend/index.ts';
import type { BackendInfo } from '../../src/backend/types.ts';
import { loadDataArg } from '../../src/cli/train-data.ts';
import { kernels } from '../../src/compile/kernels/index.ts';
import { mamInProcess } from '../helpers/mam-cli.ts';
import { niftiFolder } from '../helpers/nifti-folder.ts';
import { seedWithOtherSplit } from '../helpers/split-seeds.ts';
import { tinyUnet } from '../helpers/tiny-graph.ts';

let dir = '';
let backend: BackendInfo;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mam-split-seed-'));
  backend = await initBackend('wasm');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the split seed of an ablation run', () => {
  it("mam train --resume of a cut ablation run draws the first seed's split, which the run records", async () => {
    const data = path.join(dir, 'data');
    niftiFolder(data, { cases: 5 });
    // a seed whose own split differs from seed 0's, so the recorded one matters
    const { split0, seed, split } = await seedWithOtherSplit(data);
    expect(split).not.toEqual(split0);

    const derived = deriveAblation(
      tinyUnet(),
      {
        variants: VARIANTS.filter((v) => v === 'sam'),
        layouts: ['window'],
        merges: ['conv'],
        explicit: false,
      },
      catalogue,
    );
    if ('error' in derived) throw new Error(derived.error);
    const out = path.join(dir, 'ablation');
    // the second run (seed `seed`) is stopped after its first step
    const stop = new AbortController();
    let starts = 0;
    const r = await runAblation(
      {
        rows: derived.rows,
        seeds: [0, seed],
        data: await loadDataArg(data, 0),
        out,
        engine: localEngine(backend, catalogue, kernels, 'test'),
        classNames: ['background', 'organ1', 'organ2'],
        overrides: { steps: 3, valEvery: 3, augment: false },
        signal: stop.signal,
      },
      (e) => {
        if (e.type === 'run-start') starts++;
        if (e.type === 'step' && starts === 2 && e.step === 1) stop.abort();
      },
    );
    expect(r.reason).toBe('aborted');
    const runDir = runDirOf(out, 'sam', seed);
    const read = (f: string) => JSON.parse(readFileSync(path.join(runDir, f), 'utf8'));
    expect(read('checkpoint/state.json')).toMatchObject({
      step: 1,
      settings: { seed, splitSeed: 0 },
    });

    const resumed = await mamInProcess([
      'train',
      path.join(out, 'sam', 'graph.json'),
      '--data',
      data,
      '--backend',
      'wasm',
      '--out',
      runDir,
      '--resume',
    ]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(read('checkpoint/state.json')).toMatchObject({
      step: 3,
      settings: { seed, splitSeed: 0 },
    });
    const run = read('run.json');
    expect(run.settings).toMatchObject({ seed, splitSeed: 0 });
    expect({ train: run.data.split.train, val: run.data.split.val }).toEqual(split0);
  }, 600_000);
});
