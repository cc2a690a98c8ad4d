/**
 * Does the demo learn, and how fast? Trains presets/demo-mam.json on the demo
 * data with the preset's own training settings (what `mam train … --data demo`
 * uses) on wasm, evaluating the TEST split every few steps, and prints the mean
 * foreground Dice (both conventions) against training wall time and the
 * process's CPU time (user + system: what the run cost on a shared, loaded
 * machine), with the 1-minute load average at each point. Both clocks
 * exclude the bench's own test evaluations. Stops after the first step past
 * `--minutes` of training wall time (default 15) or `--cpu-minutes` of CPU
 * time, checked after every step, and evaluates once there
 * (training-budget.ts); else at the run's steps.
 * `npm run bench -- demo-learning [--minutes 15] [--cpu-minutes 15] [--every 25] [--preset demo-mam]`
 * (`--preset da-transunet-mam-demo` measures the DA-TransUNet-MAM demo; a 3D
 * preset, e.g. `--preset nnformer-mam-demo`, trains on data/demo3d: see
 * demo-learning-volume.ts).
 */
import { loadavg } from 'node:os';
import { initBackend } from '../src/backend/index.ts';
import { CompiledModel } from '../src/compile/model.ts';
import { loadDemo } from '../src/data/demo.ts';
import { demoDataDir, nodeFileSource } from '../src/data/node-fs.ts';
import type { TrainSettings } from '../src/train/checkpoint.ts';
import { resolveRun } from '../src/session/settings.ts';
import { caseSlices } from '../src/train/samples.ts';
import { loadPreset } from './preset.ts';
import { writeResult } from './util.ts';
import { runVolume } from './demo-learning-volume.ts';
import { trainOnBudget, type BenchTarget } from './training-budget.ts';
import { volumeInput } from '../src/train/volume-batches.ts';

const arg = (args: string[], name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};

export async function run(args: string[] = []) {
  const i = args.indexOf('--preset');
  const preset = i >= 0 ? args[i + 1] : 'demo-mam';
  const backend = await initBackend('wasm');
  const { graph, plan } = loadPreset(preset);
  if (volumeInput(plan)) return runVolume(args, { preset, graph, plan, backend });
  return runSlices(args, { preset, graph, plan, backend });
}

/** The bench on a 2D graph, on the demo data. */
export async function runSlices(args: string[], target: BenchTarget) {
  const { preset, graph, plan, backend } = target;
  const minutes = arg(args, 'minutes', 15);
  const cpuMinutes = arg(args, 'cpu-minutes', Infinity);
  const every = arg(args, 'every', 25);
  const d = await loadDemo(nodeFileSource(demoDataDir()));
  if (!d.ok) throw new Error(d.message);
  const t = graph.metadata?.training ?? {};
  const slices = caseSlices(d.value.splits.train, 'auto');
  // The preset's settings by the session's rules (as `mam train` and the editor resolve them).
  const settings: TrainSettings = resolveRun(
    t,
    { valEvery: every, convention: 'synapse' },
    slices.length,
  ).settings;
  const model = CompiledModel.create(plan, { seed: settings.seed });
  const testCase = d.value.splits.test;
  // Classes whose ground truth is in the test slab: the monai mean skips the others (Dice NaN).
  const present = new Set<number>(testCase.label!.data as Uint8Array);
  const presentNames = plan.classNames.filter((_, i) => i > 0 && present.has(i));
  console.log(
    `demo-learning: ${backend.message} ${settings.optimizer.kind} lr ${settings.learningRate}, batch ${settings.batchSize}, ${settings.steps} steps, augment ${settings.augment}; test split every ${every} steps, stop after the step past ${minutes} min${Number.isFinite(cpuMinutes) ? ` or ${cpuMinutes} CPU min` : ''}`,
  );
  const { points, stopped } = await trainOnBudget({
    model,
    // The loop's validation runs on the TEST slab here: that is what this bench measures.
    data: { classNames: plan.classNames, train: slices, val: [testCase], fingerprint: 'demo' },
    settings,
    budget: { minutes, cpuMinutes },
    presentNames,
    onPoint: (p) =>
      console.log(
        `  step ${p.step}  ${p.wallSeconds}s (CPU ${p.cpuSeconds}s, load ${p.loadAverage1m})  loss ${p.loss}  test mean foreground Dice: synapse ${p.synapse}, monai ${p.monai}`,
      ),
  });
  const at = (s: number) => [...points].filter((q) => q.wallSeconds <= s).pop() ?? null;
  const result = {
    backend: backend.adapterInfo,
    settings,
    stopped,
    points,
    at3min: at(180),
    at15min: at(900),
    loadAverage1m: loadavg()[0],
  };
  console.log(
    `at 3 min: ${JSON.stringify(result.at3min)}\nat 15 min: ${JSON.stringify(result.at15min)}`,
  );
  if (target.write !== false)
    writeResult(preset === 'demo-mam' ? 'demo-learning' : `demo-learning-${preset}`, result);
  model.dispose();
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(process.argv.slice(2));
