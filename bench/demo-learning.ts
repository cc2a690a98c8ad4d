/**
 * Does the demo learn, and how fast? Trains presets/demo-mam.json on the demo
 * data with the preset's own training settings (what `mam train … --data demo`
 * uses) on wasm, evaluating the TEST split every few steps, and prints the mean
 * foreground Dice (both conventions) against training wall time and the
 * process's CPU time (user + system: what the run cost on a shared, loaded
 * machine), with the 1-minute load average at each point. Both clocks
 * exclude the bench's own test evaluations. Stops at `--minutes` of wall time
 * (default 15) or `--cpu-minutes` of CPU time, whichever comes first.
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
import { train } from '../src/train/loop.ts';
import { resolveRun } from '../src/session/settings.ts';
import { caseSlices } from '../src/train/samples.ts';
import { loadPreset } from './preset.ts';
import { writeResult } from './util.ts';
import { runVolume } from './demo-learning-volume.ts';
import { volumeInput } from '../src/train/volume-batches.ts';

const arg = (args: string[], name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};

export async function run(args: string[] = []) {
  const minutes = arg(args, 'minutes', 15);
  const cpuMinutes = arg(args, 'cpu-minutes', Infinity);
  const every = arg(args, 'every', 25);
  const i = args.indexOf('--preset');
  const preset = i >= 0 ? args[i + 1] : 'demo-mam';
  const backend = await initBackend('wasm');
  const { graph, plan } = loadPreset(preset);
  if (volumeInput(plan)) return runVolume(args, preset, graph, plan, backend);
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
  const ctl = new AbortController();
  const points: {
    step: number;
    trainSeconds: number;
    cpuSeconds: number;
    loadAverage1m: number;
    loss: number;
    synapse: number;
    monai: number;
  }[] = [];
  let validationMs = 0;
  let validationCpuUs = 0;
  let stepAt = 0;
  let stepCpuAt = 0;
  let lastLoss = NaN;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const cpuUs = () => {
    const c = process.cpuUsage(cpu0);
    return c.user + c.system;
  };
  console.log(
    `demo-learning: ${backend.message} ${settings.optimizer.kind} lr ${settings.learningRate}, batch ${settings.batchSize}, ${settings.steps} steps, augment ${settings.augment}; test split every ${every} steps, stop at ${minutes} min`,
  );
  await train({
    model,
    // The loop's validation runs on the TEST slab here: that is what this bench measures.
    data: { classNames: plan.classNames, train: slices, val: [testCase], fingerprint: 'demo' },
    settings,
    signal: ctl.signal,
    onEvent: (e) => {
      if (e.type === 'step') {
        stepAt = performance.now();
        stepCpuAt = cpuUs();
        lastLoss = e.loss;
      }
      if (e.type !== 'validation') return;
      validationMs += performance.now() - stepAt;
      validationCpuUs += cpuUs() - stepCpuAt;
      const monai = presentNames.reduce((a, n) => a + e.perClass[n].dice, 0) / presentNames.length;
      const point = {
        step: e.step,
        trainSeconds: Number(((performance.now() - t0 - validationMs) / 1000).toFixed(1)),
        cpuSeconds: Number(((cpuUs() - validationCpuUs) / 1e6).toFixed(1)),
        loadAverage1m: Number(loadavg()[0].toFixed(2)),
        loss: Number(lastLoss.toFixed(4)),
        synapse: Number(e.meanDice.toFixed(4)),
        monai: Number(monai.toFixed(4)),
      };
      points.push(point);
      console.log(
        `  step ${point.step}  ${point.trainSeconds}s (CPU ${point.cpuSeconds}s, load ${point.loadAverage1m})  loss ${point.loss}  test mean foreground Dice: synapse ${point.synapse}, monai ${point.monai}`,
      );
      if (point.trainSeconds > minutes * 60 || point.cpuSeconds > cpuMinutes * 60) ctl.abort();
    },
  });
  const at = (s: number) => [...points].filter((q) => q.trainSeconds <= s).pop() ?? null;
  const result = {
    backend: backend.adapterInfo,
    settings,
    points,
    at3min: at(180),
    at15min: at(900),
    loadAverage1m: loadavg()[0],
  };
  console.log(
    `at 3 min: ${JSON.stringify(result.at3min)}\nat 15 min: ${JSON.stringify(result.at15min)}`,
  );
  writeResult(preset === 'demo-mam' ? 'demo-learning' : `demo-learning-${preset}`, result);
  model.dispose();
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(process.argv.slice(2));
