/**
 * The ablation runner (src/ablate): variants derived from a base graph carry
 * MAM-SPEC.md section 3's counts; the table's mean ± std is the hand-computed
 * one; an interrupted ablation skips finished runs and resumes the cut one.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tf from '#tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { localEngine, runAblation, runDirOf, type AblationEvent } from '../../src/ablate/runner.ts';
import { buildTable, meanStd, tableCsv, tableMarkdown } from '../../src/ablate/table.ts';
import { deriveAblation, VARIANTS } from '../../src/ablate/variants.ts';
import type { BackendInfo } from '../../src/backend/types.ts';
import { EXIT_CODES } from '../../src/session/errors.ts';
import { kernels } from '../../src/compile/kernels/index.ts';
import { presets } from '../../src/graph/presets.ts';
import type { RunData } from '../../src/session/folder-train.ts';
import { phantomCase } from '../helpers/phantom-cases.ts';
import { tinyUnet } from '../helpers/tiny-graph.ts';

const P = presets(catalogue);
const all = {
  variants: VARIANTS,
  layouts: ['window'] as const,
  merges: ['conv'] as const,
  explicit: false,
};

describe("deriveAblation: the paper's variants from one base graph", () => {
  // MAM-SPEC.md section 3: params and Linear/Conv MACs of Baseline 5 and Models 5-1…5-4.
  const spec = {
    sam: [41_380_836, 8_670_412_800],
    'sts-enc.window.conv': [42_930_468, 8_843_821_056],
    'sts-encdec.window.conv': [44_480_100, 9_017_229_312],
    'ists-enc.window': [41_380_836, 8_670_412_800],
    'ists-encdec.window': [41_380_836, 8_670_412_800],
  };
  it.each(['swin-unet', 'swin-unet-mam-sts-encdec', 'swin-unet-mam-ists'])(
    "from %s: five rows with the spec's params and FLOPs, chains as the paper wires them",
    (name) => {
      const r = deriveAblation(P[name], all, catalogue);
      if ('error' in r) throw new Error(r.error);
      expect(Object.fromEntries(r.rows.map((x) => [x.key, [x.params, x.macsLinearConv]]))).toEqual(
        spec,
      );
      const enc = r.rows.map((x) => [x.key, x.encoder, x.decoder]);
      expect(enc).toContainEqual(['sts-encdec.window.conv', true, true]);
      expect(enc).toContainEqual(['ists-enc.window', true, false]);
    },
  );

  it('a ViT graph: only the sequential variants apply, the rest said in words', () => {
    const r = deriveAblation(P['vit-unet-mam-sts'], all, catalogue);
    if ('error' in r) throw new Error(r.error);
    expect(r.rows.map((x) => x.key)).toEqual(['sam', 'sts-enc.window']);
    expect(r.rows.map((x) => x.params)).toEqual([15_084_000, 15_084_000]);
    expect(r.skipped.join('\n')).toMatch(/ists-enc: .*sequential/);
    expect(r.skipped.join('\n')).toMatch(/sts-encdec \(the same graph as sts-enc.window\)/);
    const asked = deriveAblation(
      P['vit-unet-mam-sts'],
      { ...all, variants: ['ists-enc'], explicit: true },
      catalogue,
    );
    expect(asked).toHaveProperty('error', expect.stringMatching(/^ists-enc: .*sequential/));
  });

  it('merge modes and layouts multiply only where they apply', () => {
    const r = deriveAblation(
      P['swin-unet'],
      {
        variants: ['sam', 'ists-enc', 'sts-enc'],
        layouts: ['window', 'spatial'],
        merges: ['conv', 'avg'],
        explicit: true,
      },
      catalogue,
    );
    if ('error' in r) throw new Error(r.error);
    expect(r.rows.map((x) => x.key)).toEqual([
      'sam',
      'ists-enc.window',
      'ists-enc.spatial',
      'sts-enc.window.conv',
      'sts-enc.window.avg',
      'sts-enc.spatial.conv',
      'sts-enc.spatial.avg',
    ]);
  });
});

describe('the table: mean ± sample std over seeds', () => {
  it('equals the hand computation, in md, csv and json', () => {
    // Dice 0.5, 0.7, 0.9 → 70 %, deviations 20, 0, 20 → std √(800/2) = 20.
    expect(meanStd([50, 70, 90])).toEqual({ mean: 70, std: 20, n: 3 });
    expect(meanStd([4])).toEqual({ mean: 4, std: 0, n: 1 });
    const seeds = [0.5, 0.7, 0.9].map((d, i) => ({
      seed: i,
      step: 2,
      reason: 'completed',
      meanDice: d,
      meanHd95: [3, 5, 10][i],
      perClass: { liver: { dice: d, hd95: [3, 5, 10][i] } },
    }));
    const t = buildTable(
      [
        {
          key: 'sam',
          variant: 'sam',
          layout: null,
          merge: null,
          label: 'Baseline (SAM)',
          encoder: false,
          decoder: false,
          params: 41_380_836,
          macsLinearConv: 8_670_412_800,
          seeds,
        },
      ],
      {
        convention: 'synapse',
        seeds: [0, 1, 2],
        classNames: ['background', 'liver'],
        settings: {},
      },
    );
    // HD95 3, 5, 10: mean 6, deviations −3, −1, 4 → √(26/2) = 3.6056.
    expect(t.rows[0].hd95.std).toBeCloseTo(Math.sqrt(13), 12);
    const md = tableMarkdown(t);
    expect(md).toContain(
      '| Baseline (SAM) | – | – | 41.38 | 8.67 | 70.00 ± 20.00 | 6.00 ± 3.61 | 3 |',
    );
    expect(md).toMatch(/synapse convention/);
    expect(md).toMatch(/sample std \(n − 1\)/);
    const csv = tableCsv(t).trim().split('\n');
    expect(csv[0].split(',').slice(0, 15)).toEqual([
      'key',
      'label',
      'variant',
      'layout',
      'merge',
      'encoder',
      'decoder',
      'params',
      'flops_g',
      'convention',
      'seeds',
      'dsc_mean',
      'dsc_std',
      'hd95_mean',
      'hd95_std',
    ]);
    expect(csv[1].split(',').slice(0, 13)).toEqual([
      'sam',
      'Baseline (SAM)',
      'sam',
      '',
      '',
      'false',
      'false',
      '41380836',
      '8.67',
      'synapse',
      '3',
      '70',
      '20',
    ]);
  });
});

describe('runAblation on a tiny U: resumable', () => {
  let dir = '';
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mam-ablate-'));
    await tf.setBackend('cpu');
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const tiny = tinyUnet();
  const data: RunData = {
    kind: 'folder',
    source: 'phantoms',
    classNames: ['background', 'organ1', 'organ2'],
    splits: {
      train: [phantomCase('a', 20, 16, 4), phantomCase('b', 21, 16, 4)],
      val: [phantomCase('c', 22, 16, 4)],
      test: [phantomCase('d', 23, 16, 4)],
    },
    splitRule: 'fixed',
    warnings: [],
  };
  const backend = { name: 'cpu', isSoftware: true, message: 'cpu' } as unknown as BackendInfo;

  it("an interrupted ablation skips finished runs, resumes the cut one, and its table is the runs' numbers", async () => {
    const derived = deriveAblation(tiny, { ...all, variants: ['sam', 'ists-enc'] }, catalogue);
    if ('error' in derived) throw new Error(derived.error);
    const out = path.join(dir, 'x');
    const req = {
      rows: derived.rows,
      seeds: [0, 1],
      data,
      out,
      engine: localEngine(backend, catalogue, kernels, 'test'),
      classNames: data.classNames,
      overrides: { steps: 3, valEvery: 3, augment: false },
    };
    // First pass: stop the third run (ists-enc, seed 0) after its first step.
    const stop = new AbortController();
    const first: AblationEvent[] = [];
    const r1 = await runAblation({ ...req, signal: stop.signal }, (e) => {
      first.push(e);
      const started = first.filter((x) => x.type === 'run-start').length;
      if (e.type === 'step' && started === 3 && e.step === 1) stop.abort();
    });
    expect(r1.reason).toBe('aborted');
    const cut = runDirOf(out, 'ists-enc.window', 0);
    const state = JSON.parse(readFileSync(path.join(cut, 'checkpoint', 'state.json'), 'utf8')) as {
      step: number;
    };
    expect(state.step).toBe(1);
    const finishedAt = statSync(path.join(runDirOf(out, 'sam', 1), 'metrics.json')).mtimeMs;

    const second: AblationEvent[] = [];
    const r2 = await runAblation(req, (e) => second.push(e));
    expect(r2.reason).toBe('completed');
    const starts = second.filter((e) => e.type === 'run-start' || e.type === 'run-skip');
    expect(
      starts.map((e) => [e.type, e.key, e.seed, e.type === 'run-start' ? e.resumed : null]),
    ).toEqual([
      ['run-skip', 'sam', 0, null],
      ['run-skip', 'sam', 1, null],
      ['run-start', 'ists-enc.window', 0, true],
      ['run-start', 'ists-enc.window', 1, false],
    ]);
    expect(statSync(path.join(runDirOf(out, 'sam', 1), 'metrics.json')).mtimeMs).toBe(finishedAt);
    const resumed = JSON.parse(readFileSync(path.join(cut, 'metrics.json'), 'utf8')) as {
      step: number;
    };
    expect(resumed.step).toBe(3);
    // Every run records the split it trained on: the first seed's, in run.json and its checkpoint
    for (const seed of [0, 1]) {
      const dir = runDirOf(out, 'sam', seed);
      const read = (f: string) => JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
      expect(read('run.json').settings).toMatchObject({ seed, splitSeed: 0 });
      expect(read('checkpoint/state.json').settings).toMatchObject({ seed, splitSeed: 0 });
    }

    // The table from the run folders' own metrics.json, by a plain loop.
    const table = JSON.parse(
      readFileSync(path.join(out, 'ablation.json'), 'utf8'),
    ) as typeof r2.table;
    for (const row of table.rows) {
      const dice = [0, 1].map(
        (s) =>
          100 *
          (
            JSON.parse(
              readFileSync(path.join(runDirOf(out, row.key, s), 'metrics.json'), 'utf8'),
            ) as {
              test: { summary: { meanDice: number } };
            }
          ).test.summary.meanDice,
      );
      const mean = (dice[0] + dice[1]) / 2;
      const std = Math.abs(dice[0] - dice[1]) / Math.SQRT2;
      expect(row.dsc.n).toBe(2);
      expect(row.dsc.mean).toBeCloseTo(mean, 10);
      expect(row.dsc.std).toBeCloseTo(std, 10);
    }
    expect(table.rows.map((r) => r.params)).toEqual(derived.rows.map((r) => r.params));
    const md = readFileSync(path.join(out, 'ablation.md'), 'utf8');
    expect(md).toMatch(/\| Model 5-3 \(ISTS\) \| ✓ \| – \|/);
    expect(readFileSync(path.join(out, 'ablation.csv'), 'utf8').trim().split('\n')).toHaveLength(3);
    expect(readFileSync(path.join(out, 'ists-enc.window', 'graph.json'), 'utf8')).toContain(
      'mam-swin-block',
    );

    // Other settings in the same folder would mix runs in one table: refused, naming the difference, nothing changed.
    const tableBefore = readFileSync(path.join(out, 'ablation.json'), 'utf8');
    const other = runAblation({ ...req, overrides: { ...req.overrides, steps: 5 } }, () => {});
    await expect(other).rejects.toMatchObject({
      code: EXIT_CODES.runFolder,
      message: `${out} holds an ablation run with steps 3, now 5: continue it with the same settings or choose another --out`,
    });
    expect(readFileSync(path.join(out, 'ablation.json'), 'utf8')).toBe(tableBefore);
  }, 600_000);
});
