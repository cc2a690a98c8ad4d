/**
 * demo-learning for a 3D preset (input `[B, D, H, W, C]`): trains it on
 * data/demo3d as `mam train … --data demo3d` does (the session's volume
 * settings, crops of one volume per step, MONAI's DiceCE) and validates on the
 * TEST volume by sliding windows (the loop's own validation: overlap 0.25,
 * 2 windows a pass, the reference's main_train.py),
 * recording per point the step, training wall and CPU seconds (the process's,
 * all threads; the bench's test evaluations excluded from both), the loop's
 * loss, the mean foreground Dice in both conventions and the 1-minute load
 * average. Stops at the first step past `--minutes` of training wall time
 * (default 25) or `--cpu-minutes` of CPU time (default none), checked after
 * every step, and evaluates once there; else at the run's steps.
 * `--steps N`, `--lr X` and `--batch N` (crops a step) override the preset's
 * run (to see what a longer, faster or cheaper run would do); the result
 * file's name then says so. `--data DIR` trains and tests on another folder
 * of data/demo3d's layout (a candidate set from scripts/make-demo3d-data.py
 * --out DIR).
 */
import { loadavg } from 'node:os';
import { basename } from 'node:path';
import { CompiledModel } from '../src/compile/model.ts';
import { loadDemo } from '../src/data/demo.ts';
import { demo3dDataDir, nodeFileSource } from '../src/data/node-fs.ts';
import { resolveVolumeRun, type SettingsOverrides } from '../src/session/settings.ts';
import { trainOnBudget, type BenchTarget } from './training-budget.ts';
import { writeResult } from './util.ts';

const flag = (args: string[], name: string): number | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : undefined;
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function runVolume(args: string[], target: BenchTarget) {
  const { preset, graph, plan, backend } = target;
  const minutes = flag(args, 'minutes') ?? 25;
  const cpuMinutes = flag(args, 'cpu-minutes') ?? Infinity;
  const overrides: SettingsOverrides = { seed: graph.metadata?.training?.seed ?? 0 };
  const steps = flag(args, 'steps');
  const lr = flag(args, 'lr');
  const every = flag(args, 'every');
  const batch = flag(args, 'batch');
  if (batch !== undefined) overrides.batchSize = batch;
  if (steps !== undefined) overrides.steps = steps;
  if (lr !== undefined) overrides.learningRate = lr;
  if (every !== undefined) overrides.valEvery = every;
  const dataArg = args.indexOf('--data');
  const dataDir = dataArg >= 0 ? args[dataArg + 1] : demo3dDataDir();
  const d = await loadDemo(nodeFileSource(dataDir));
  if (!d.ok) throw new Error(d.message);
  const { train: trainCase, test: testCase } = d.value.splits;
  // as `mam train --data demo3d` resolves a 3D graph's run (src/session/folder-train.ts)
  const r = resolveVolumeRun(graph.metadata?.training, { ...overrides, convention: 'synapse' }, 1);
  const settings = r.settings;
  const model = CompiledModel.create(plan, { seed: settings.seed });
  const present = new Set<number>(testCase.label!.data as Uint8Array);
  const presentNames = plan.classNames.filter((_, i) => i > 0 && present.has(i));
  const steps1: { step: number; wall: number; cpu: number; loss: number; load1m: number }[] = [];
  console.log(
    `demo-learning ${preset} on ${dataDir}: ${backend.message} ${settings.optimizer.kind} lr ${settings.learningRate}, ${settings.batchSize} crops of ${plan.input.shape.slice(1, 4).join('×')} a step, ${settings.steps} steps, loss ${settings.loss?.ce}·CE + ${settings.loss?.dice}·Dice, augment ${settings.augment}; test volume by sliding window every ${settings.valEvery} steps, stop after the step past ${minutes} min${Number.isFinite(cpuMinutes) ? ` or ${cpuMinutes} CPU min` : ''}`,
  );
  const { points, stopped } = await trainOnBudget({
    model,
    // the loop's validation runs on the TEST volume here: that is what this bench measures
    data: {
      classNames: plan.classNames,
      train: [],
      volumes: [trainCase],
      val: [testCase],
      fingerprint: 'demo3d',
    },
    settings,
    budget: { minutes, cpuMinutes },
    presentNames,
    onStep: (e, own) => {
      const s = {
        step: e.step,
        wall: Number(own.wall.toFixed(2)),
        cpu: Number(own.cpu.toFixed(2)),
        loss: Number(e.loss.toFixed(4)),
        load1m: Number(loadavg()[0].toFixed(2)),
      };
      steps1.push(s);
      console.log(
        `    step ${s.step}: ${s.wall} s wall, ${s.cpu} s CPU, loss ${s.loss} (ce ${e.ce.toFixed(4)}, dice ${e.dice.toFixed(4)}), load ${s.load1m}`,
      );
    },
    onPoint: (p, perClassDice) => {
      const perClass = Object.entries(perClassDice)
        .map(([n, c]) => `${n} ${c.dice.toFixed(3)}`)
        .join(', ');
      console.log(
        `  step ${p.step}  ${p.wallSeconds} s wall  ${p.cpuSeconds} s CPU  loss ${p.loss}  test mean foreground Dice: synapse ${p.synapse}, monai ${p.monai}  (load ${p.loadAverage1m}; ${perClass})`,
      );
    },
  });
  const loads = steps1.map((s) => s.load1m);
  const result = {
    preset,
    data: dataDir,
    backend: backend.adapterInfo,
    settings,
    overrides,
    stopped,
    points,
    steps: steps1,
    secondsPerStep: {
      wallMedian: median(steps1.map((s) => s.wall)),
      cpuMedian: median(steps1.map((s) => s.cpu)),
    },
    loadAverage1m: { min: Math.min(...loads), median: median(loads), max: Math.max(...loads) },
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  console.log(
    `per step: median ${result.secondsPerStep.wallMedian} s wall, ${result.secondsPerStep.cpuMedian} s CPU; load average ${JSON.stringify(result.loadAverage1m)}; peak RSS ${result.peakRssMiB} MiB`,
  );
  const tag = [
    steps !== undefined && `steps${steps}`,
    lr !== undefined && `lr${lr}`,
    batch !== undefined && `batch${batch}`,
    dataArg >= 0 && `data-${basename(dataDir)}`,
  ]
    .filter(Boolean)
    .join('-');
  if (target.write !== false) writeResult(`demo-learning-${preset}${tag ? `-${tag}` : ''}`, result);
  model.dispose();
  return result;
}
