/**
 * Training with the torch runtime on the demo data (CPU, gloo):
 * - DDP: `torchrun --nproc_per_node=2` takes the same steps as one process
 *   with the same global batch (the weights agree to float rounding);
 * - an interrupted DDP run (SIGINT once a checkpoint exists) resumes with
 *   --resume and ends where the uninterrupted run ends;
 * - weights round trip: 20 torch steps, then our `mam eval` on the run's
 *   best.safetensors gives torch's test metrics to 1e-6;
 * - the run folder is ours: its JSON files parse (no NaN literals), state.json
 *   with our reader, its data fingerprint is ours; resuming it across engines
 *   (their random draws differ) is refused in one line by either engine,
 *   leaving the folder as it was.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { readSafetensors, toFloat32 } from '../../src/compile/io/safetensors.ts';
import { loadDataArg } from '../../src/cli/train-data.ts';
import { parseTrainState, RNG_SCHEME, TORCH_RNG_SCHEME } from '../../src/train/checkpoint.ts';
import { dataFingerprint } from '../../src/train/samples.ts';
import { spawnMam } from '../helpers/mam-cli.ts';
import { runPython, spawnTrain, suiteTempDir, trainedSchedule } from '../helpers/torch-runtime.ts';
import { describeOracle, repoRoot } from './data-oracle.ts';

const GRAPH = join(repoRoot, 'presets', 'demo-mam.json');
/** SGD keeps an update linear in the gradient, so the comparison measures the gradients. */
const COMMON = [
  '--data',
  'demo',
  '--steps',
  '6',
  '--batch',
  '4',
  '--optimizer',
  'sgd',
  '--lr',
  '0.5',
];

const weightsOf = (file: string) => readSafetensors(new Uint8Array(readFileSync(file)));

/** max |a − b| over all weights, relative to the largest change from the initial weights. */
function weightsDiff(a: string, b: string, init: string) {
  const [fa, fb, f0] = [weightsOf(a), weightsOf(b), weightsOf(init)];
  let diff = 0;
  let change = 0;
  for (const [key, t] of fa.tensors) {
    const [x, y, x0] = [
      toFloat32(t),
      toFloat32(fb.tensors.get(key)!),
      toFloat32(f0.tensors.get(key)!),
    ];
    for (let i = 0; i < x.length; i++) {
      diff = Math.max(diff, Math.abs(x[i] - y[i]));
      change = Math.max(change, Math.abs(x[i] - x0[i]));
    }
  }
  return { diff, change, rel: diff / change };
}

describeOracle('torch runtime: training (torchrun, gloo, demo data)', () => {
  const tmp = suiteTempDir('mam-torch-train-');

  it('2 DDP processes = 1 process with the same global batch; an interrupted DDP run resumes to the same weights', async () => {
    const init = await spawnTrain(1, [
      GRAPH,
      ...COMMON,
      '--steps',
      '1',
      '--lr',
      '0',
      '--out',
      join(tmp(), 'init'),
      '--val-every',
      '0',
    ]);
    expect(init.stderr + init.code).toMatch(/0$/);
    const one = await spawnTrain(1, [
      GRAPH,
      ...COMMON,
      '--out',
      join(tmp(), 'one'),
      '--val-every',
      '0',
    ]);
    expect(one.stderr + one.code).toMatch(/0$/);
    const two = await spawnTrain(2, [
      GRAPH,
      ...COMMON,
      '--out',
      join(tmp(), 'two'),
      '--val-every',
      '0',
    ]);
    expect(two.code, two.stderr).toBe(0);
    expect(two.stdout).toMatch(/checkpoint: step 6 saved/);
    const w = (run: string) => join(tmp(), run, 'checkpoint', 'weights.safetensors');
    const ddp = weightsDiff(w('two'), w('one'), w('init'));
    console.log(
      `torch-train: DDP vs one process after 6 steps: max |Δw| ${ddp.diff.toExponential(2)}, ${ddp.rel.toExponential(2)} of the largest change`,
    );
    expect(ddp.change).toBeGreaterThan(1e-3); // the weights did move
    expect(ddp.rel).toBeLessThanOrEqual(1e-4);
    const losses = (run: string) =>
      readFileSync(join(tmp(), run, 'history.csv'), 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => Number(l.split(',')[2]));
    expect(losses('two')).toEqual(losses('one').map((x) => expect.closeTo(x, 5)));

    // interrupt once the step-2 checkpoint exists, then resume
    const stopped = await spawnTrain(
      2,
      [
        GRAPH,
        ...COMMON,
        '--out',
        join(tmp(), 'stopped'),
        '--val-every',
        '0',
        '--checkpoint-every',
        '2',
      ],
      (line, child) => {
        if (/^checkpoint: step 2 saved/.test(line)) child.kill('SIGINT');
      },
    );
    expect(stopped.code).not.toBe(0);
    expect(stopped.stderr).toMatch(/stopped at step [2-5]; continue with/);
    const state = JSON.parse(
      readFileSync(join(tmp(), 'stopped', 'checkpoint', 'state.json'), 'utf8'),
    );
    expect(state.step).toBeGreaterThanOrEqual(2);
    expect(state.step).toBeLessThan(6);
    const resumed = await spawnTrain(2, [
      GRAPH,
      '--data',
      'demo',
      '--out',
      join(tmp(), 'stopped'),
      '--resume',
    ]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(new RegExp(`resuming .* at step ${state.step} of 6`));
    const again = weightsDiff(w('stopped'), w('two'), w('init'));
    expect(again.diff).toBeLessThanOrEqual(1e-6 * again.change);
    expect(losses('stopped')).toEqual(losses('two'));
  }, 900_000);

  it("a 2D graph's learning rate follows the poly schedule lr·(1 − t/T)^0.9, as `mam train`", async () => {
    const r = await trainedSchedule(
      [
        GRAPH,
        ...['--data', 'demo', '--steps', '4', '--batch', '2'],
        ...['--optimizer', 'adamw', '--lr', '0.001'],
      ],
      join(tmp(), 'poly-lr'),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/adamw lr 0\.001, poly schedule/);
    expect(r.schedule).toBe('poly');
    // steps t = 0..3 of T = 4: 1e-3 · (1, 0.75^0.9, 0.5^0.9, 0.25^0.9)
    const expected = [1, 0.7718895, 0.5358867, 0.2871746].map((f) => expect.closeTo(1e-3 * f, 9));
    expect(r.lrs).toEqual(expected);
  }, 600_000);

  it("weights round trip: 20 torch steps, then `mam eval` on best.safetensors gives torch's test metrics to 1e-6", async () => {
    const out = join(tmp(), 'rt');
    const r = await spawnTrain(1, [
      GRAPH,
      '--data',
      'demo',
      '--steps',
      '20',
      '--val-every',
      '5',
      '--optimizer',
      'sgd',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const torchMetrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(run.format).toBe('mam-studio/run');
    expect(
      Object.keys(JSON.parse(readFileSync(join(out, 'checkpoint', 'state.json'), 'utf8'))),
    ).toEqual(
      expect.arrayContaining([
        'format',
        'version',
        'step',
        'settings',
        'history',
        'weightsFingerprint',
        'dataFingerprint',
      ]),
    );
    const ev = await spawnMam(
      [
        'eval',
        GRAPH,
        '--weights',
        join(out, 'best.safetensors'),
        '--data',
        'demo',
        '--json',
        '--backend',
        'wasm',
      ],
      repoRoot,
    );
    expect(ev.code, ev.stderr).toBe(0);
    const ours = JSON.parse(ev.stdout).summary;
    const theirs = torchMetrics.test.summary;
    expect(ours.convention).toBe(theirs.convention);
    expect(Object.keys(ours.perClass)).toEqual(Object.keys(theirs.perClass));
    expect(ours.meanDice).toBeGreaterThan(0);
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
    for (const [name, c] of Object.entries(theirs.perClass) as [
      string,
      { dice: number; hd95: number },
    ][]) {
      expect(
        close(ours.perClass[name].dice, c.dice),
        `${name} dice ${ours.perClass[name].dice} vs ${c.dice}`,
      ).toBe(true);
      expect(
        close(ours.perClass[name].hd95, c.hd95),
        `${name} hd95 ${ours.perClass[name].hd95} vs ${c.hd95}`,
      ).toBe(true);
    }
    expect(close(ours.meanDice, theirs.meanDice)).toBe(true);
    expect(close(ours.meanHd95, theirs.meanHd95)).toBe(true);

    // The run folder is ours: state.json parses with our reader, the data fingerprint is ours.
    const stateFile = join(out, 'checkpoint', 'state.json');
    const stateText = readFileSync(stateFile, 'utf8');
    const parsed = parseTrainState(stateText);
    expect(parsed.ok ? '' : parsed.message).toBe('');
    if (!parsed.ok) return;
    expect(parsed.state.step).toBe(20);
    expect(parsed.state.rng.scheme).toBe(TORCH_RNG_SCHEME);
    expect(parsed.state.history).toHaveLength(20);
    const demo = (await loadDataArg('demo', 0)).splits;
    const fingerprint = dataFingerprint([...demo.train, ...demo.val, ...demo.test]);
    expect(parsed.state.dataFingerprint).toBe(fingerprint);
    expect(run.data.fingerprint).toBe(fingerprint);

    // NaN (a class absent from a split) and infinity are written as JSON.stringify writes them.
    const nanFile = join(tmp(), 'state-nan.json');
    const py = await runPython([
      '-c',
      `import math, sys; from mam_torch.checkpoint import js_json, state_from_json
s = state_from_json(open(sys.argv[1]).read())
s["history"][0]["loss"] = math.nan; s["lastValidation"]["meanHd95"] = math.inf
open(sys.argv[2], "w").write(js_json(s))
back = state_from_json(open(sys.argv[2]).read())
print(math.isnan(back["history"][0]["loss"]), math.isnan(back["lastValidation"]["meanHd95"]))`,
      stateFile,
      nanFile,
    ]);
    expect(py.stdout.trim() + py.stderr).toBe('True True');
    const withNan = parseTrainState(readFileSync(nanFile, 'utf8'));
    expect(withNan.ok && withNan.state.history[0].loss).toBeNaN();
    expect(withNan.ok && withNan.state.lastValidation?.meanHd95).toBeNaN();
    expect(withNan.ok && withNan.state.history[1].loss).toBe(parsed.state.history[1].loss);

    // mam train cannot repeat torch's random draws: --resume is refused in one line, nothing written.
    const again = await spawnMam(
      ['train', GRAPH, '--data', 'demo', '--out', out, '--resume', '--backend', 'wasm'],
      repoRoot,
    );
    expect(again.code, again.stderr).toBe(9);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    expect(again.stderr).toMatch(/trained by mam_torch \(PyTorch\).*mam_torch\.train/);
    expect(readFileSync(stateFile, 'utf8')).toBe(stateText);
    // …and mam_torch refuses a run of ours (the same folder with our scheme) the same way.
    const ts = join(tmp(), 'rt-ts');
    cpSync(out, ts, { recursive: true });
    const tsState = join(ts, 'checkpoint', 'state.json');
    writeFileSync(tsState, stateText.replace(TORCH_RNG_SCHEME, RNG_SCHEME));
    const back = await spawnTrain(1, [GRAPH, '--data', 'demo', '--out', ts, '--resume']);
    expect(back.code, back.stderr).toBe(9);
    expect(back.stderr).toMatch(/trained by mam train \(TypeScript\).*mam train --resume/);
    expect(readFileSync(tsState, 'utf8')).toBe(stateText.replace(TORCH_RNG_SCHEME, RNG_SCHEME));
  }, 900_000);
});
