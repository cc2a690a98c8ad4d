/**
 * `mam ablate --engine torch`: each variant trains with python/mam_torch in
 * its run folder; the table's params and FLOPs are the local engine's (and
 * params the torch modules' own count), its metrics the run folders'
 * metrics.json; a rerun skips finished runs, and a run whose test result is
 * missing resumes with mam_torch's --resume.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { runDirOf } from '../../src/ablate/runner.ts';
import { deriveAblation, VARIANTS } from '../../src/ablate/variants.ts';
import { EXIT_CODES } from '../../src/cli/errors.ts';
import { saveGraph } from '../../src/graph/save.ts';
import { spawnMam } from '../helpers/mam-cli.ts';
import { niftiFolder } from '../helpers/nifti-folder.ts';
import { seedWithOtherSplit } from '../helpers/split-seeds.ts';
import { tinyUnet } from '../helpers/tiny-graph.ts';
import { runPython } from '../helpers/torch-runtime.ts';
import { describeOracle, itOracle, venvPython } from './data-oracle.ts';

const tiny = tinyUnet();

interface Metrics {
  test: { summary: { meanDice: number; meanHd95: number } };
}
const metricsOf = (runDir: string) =>
  JSON.parse(readFileSync(path.join(runDir, 'metrics.json'), 'utf8')) as Metrics;

/** ablation.csv as records by column name. */
function csvRows(file: string): Record<string, string>[] {
  const [head, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  const cols = head.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
}

/** `mam ablate tiny.json --data data --engine torch` with the venv's Python, one seed, into `out`. */
const torchAblate = (out: string, ...extra: string[]) => [
  'ablate',
  'tiny.json',
  '--data',
  'data',
  '--engine',
  'torch',
  '--python',
  venvPython,
  '--seeds',
  '1',
  '--out',
  out,
  ...extra,
];

describeOracle('mam ablate --engine torch', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mam-ablate-torch-'));
    writeFileSync(path.join(dir, 'tiny.json'), saveGraph(tiny));
    // Four phantom cases; the last is the test split (imagesTs/labelsTs).
    const data = niftiFolder(path.join(dir, 'data'), { cases: 4 });
    for (const sub of ['imagesTs', 'labelsTs']) mkdirSync(path.join(data, sub));
    renameSync(
      path.join(data, 'imagesTr', 'case3_0000.nii.gz'),
      path.join(data, 'imagesTs', 'case3_0000.nii.gz'),
    );
    renameSync(
      path.join(data, 'labelsTr', 'case3.nii.gz'),
      path.join(data, 'labelsTs', 'case3.nii.gz'),
    );
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  itOracle(
    "2 variants × 1 seed × 2 steps: the local engine's params/FLOPs, the runs' metrics; a rerun skips them, a run without its test result resumes",
    async () => {
      const args = torchAblate('abl', '--variants', 'sam,ists-enc', '--steps', '2', '--no-augment');
      const first = await spawnMam(args, dir);
      expect(first.stderr).not.toMatch(/^mam ablate: /m);
      expect(first.code).toBe(0);
      const out = path.join(dir, 'abl');
      const rows = csvRows(path.join(out, 'ablation.csv'));
      expect(rows.map((r) => r.key)).toEqual(['sam', 'ists-enc.window']);

      // The local engine's counts: what `mam ablate --engine local` derives for the same rows.
      const local = deriveAblation(
        tiny,
        { variants: VARIANTS, layouts: ['window'], merges: ['conv'], explicit: false },
        catalogue,
      );
      if ('error' in local) throw new Error(local.error);
      for (const row of rows) {
        const l = local.rows.find((r) => r.key === row.key)!;
        expect(Number(row.params)).toBe(l.params);
        expect(Number(row.flops_g)).toBeCloseTo(l.macsLinearConv / 1e9, 2);
        // The torch modules' own parameter count of the variant's graph file.
        const counted = await runPython([
          '-c',
          'import sys; from mam_torch.graph import load_graph; from mam_torch.modules import GraphModule; ' +
            'print(sum(p.numel() for p in GraphModule(load_graph(sys.argv[1]), seed=0).parameters()))',
          path.join(out, row.key, 'graph.json'),
        ]);
        expect(counted.stderr).toBe('');
        expect(Number(counted.stdout.trim())).toBe(l.params);

        const runDir = runDirOf(out, row.key, 0);
        const run = JSON.parse(readFileSync(path.join(runDir, 'run.json'), 'utf8')) as {
          code: string;
          settings: { steps: number; seed: number; splitSeed: number };
        };
        expect(run.code).toMatch(/^mam_torch /);
        expect(run.settings).toMatchObject({ steps: 2, seed: 0, splitSeed: 0 });
        const m = metricsOf(runDir).test.summary;
        expect(row.seeds).toBe('1');
        expect(Number(row.dsc_mean)).toBeCloseTo(100 * m.meanDice, 8);
        expect(Number(row.hd95_mean)).toBeCloseTo(m.meanHd95, 8);
      }

      // A rerun skips both: nothing is trained again.
      const samDir = runDirOf(out, 'sam', 0);
      const finishedAt = statSync(path.join(samDir, 'metrics.json')).mtimeMs;
      const again = await spawnMam(args, dir);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('[1/2] sam seed 0: finished earlier, skipped');
      expect(again.stdout).toContain('[2/2] ists-enc.window seed 0: finished earlier, skipped');
      expect(statSync(path.join(samDir, 'metrics.json')).mtimeMs).toBe(finishedAt);

      // A run cut after its last checkpoint but before its test result: resumed with --resume,
      // which tests the same best weights again.
      const before = metricsOf(samDir).test.summary;
      rmSync(path.join(samDir, 'metrics.json'));
      const resumed = await spawnMam(args, dir);
      expect(resumed.stderr).not.toMatch(/^mam ablate: /m);
      expect(resumed.code).toBe(0);
      expect(resumed.stdout).toContain('[1/2] sam seed 0: resuming');
      expect(resumed.stdout).toContain('[2/2] ists-enc.window seed 0: finished earlier, skipped');
      const after = metricsOf(samDir).test.summary;
      expect(after.meanDice).toBeCloseTo(before.meanDice, 10);
      expect(after.meanHd95).toBeCloseTo(before.meanHd95, 10);
    },
    900_000,
  );

  itOracle(
    "the runs of every seed share the first seed's split (mam_torch.train --split-seed), the one `mam ablate` checks",
    async () => {
      const data = path.join(dir, 'data');
      // A seed whose own split differs from seed 0's, so the flag has something to change.
      const { split0, seed, split } = await seedWithOtherSplit(data);
      expect(split).not.toEqual(split0);
      const runDir = path.join(dir, `split-${seed}`);
      const r = await runPython([
        '-m',
        'mam_torch.train',
        path.join(dir, 'tiny.json'),
        '--data',
        data,
        '--steps',
        '1',
        '--seed',
        String(seed),
        '--split-seed',
        '0',
        '--out',
        runDir,
      ]);
      expect(r.stderr).not.toMatch(/^mam_torch.train: /m);
      expect(r.code).toBe(0);
      const run = JSON.parse(readFileSync(path.join(runDir, 'run.json'), 'utf8')) as {
        data: { split: { train: string[]; val: string[] } };
        settings: { seed: number; splitSeed: number };
      };
      expect(run.settings).toMatchObject({ seed, splitSeed: 0 });
      expect({ train: run.data.split.train, val: run.data.split.val }).toEqual(split0);
    },
    600_000,
  );

  itOracle(
    'a run mam_torch refuses under --nproc stops the ablation with its message and its own exit code',
    async () => {
      // The tiny graph's batch 2 does not split over 3 processes.
      const r = await spawnMam(
        torchAblate('abl3', '--nproc', '3', '--variants', 'sam', '--steps', '1'),
        dir,
      );
      expect(r.code).toBe(EXIT_CODES.usage);
      expect(r.stderr.trim().split('\n').pop()).toBe(
        `mam ablate: ${path.join('abl3', 'sam', 'seed-0')}: mam_torch.train exited with 64: the global batch 2 does not split over 3 processes: give --batch a multiple of 3`,
      );
      expect(existsSync(path.join(dir, 'abl3', 'sam', 'graph.json'))).toBe(true);
      expect(existsSync(path.join(dir, 'abl3', 'sam', 'seed-0', 'run.json'))).toBe(false);
    },
    600_000,
  );

  itOracle(
    'Ctrl-C during the first run stops the ablation (exit 130) with nothing lost; the same command then finishes it',
    async () => {
      const args = torchAblate('abl-int', '--variants', 'sam,ists-enc', '--steps', '2');
      let sent = false;
      const cut = await spawnMam(args, dir, {
        onLine: (line, child) => {
          if (!sent && /^ {2}step 1\/2/.test(line)) {
            sent = true;
            child.kill('SIGINT');
          }
        },
      });
      expect(sent).toBe(true);
      expect(cut.code).toBe(EXIT_CODES.interrupted);
      // The second variant never starts, whether the first stopped after its step or had finished.
      expect(cut.stdout).not.toContain('ists-enc.window seed 0');
      const out = path.join(dir, 'abl-int');
      expect(existsSync(path.join(runDirOf(out, 'ists-enc.window', 0), 'run.json'))).toBe(false);
      const again = await spawnMam(args, dir);
      expect(again.stderr).not.toMatch(/^mam ablate: /m);
      expect(again.code).toBe(0);
      const rows = csvRows(path.join(out, 'ablation.csv'));
      expect(rows.map((r) => [r.key, r.seeds])).toEqual([
        ['sam', '1'],
        ['ists-enc.window', '1'],
      ]);
      for (const row of rows) {
        const m = metricsOf(runDirOf(out, row.key, 0)) as Metrics & { step: number };
        expect(m.step).toBe(2);
        expect(Number(row.dsc_mean)).toBeCloseTo(100 * m.test.summary.meanDice, 8);
      }
    },
    900_000,
  );
});
