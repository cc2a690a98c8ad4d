/**
 * The time budgets of the demo-learning benches (2D and volume): training
 * wall time (`--minutes`) and the process's CPU time, all threads
 * (`--cpu-minutes`), both without the bench's own evaluations. They are
 * checked after every step; the run stops after the first step past either
 * and is evaluated once there, as the loop validates (validationOptions),
 * unless that step was one of the loop's evaluation points already.
 */
import { loadavg } from 'node:os';
import type { BackendInfo } from '../src/backend/types.ts';
import type { CompiledModel } from '../src/compile/model.ts';
import type { Plan } from '../src/compile/plan.ts';
import type { GraphDoc } from '../src/graph/types.ts';
import type { TrainSettings } from '../src/train/checkpoint.ts';
import { evaluateCases } from '../src/train/evaluate.ts';
import { train, validationOptions, type TrainEvent, type TrainingData } from '../src/train/loop.ts';

export type Budget = 'minutes' | 'cpu-minutes';

/** What a demo-learning bench runs: a preset (by name), planned, on a backend; `write: false` writes no result file. */
export interface BenchTarget {
  preset: string;
  graph: GraphDoc;
  plan: Plan;
  backend: BackendInfo;
  write?: boolean;
}

/** A point of a bench's learning curve: training seconds (evaluations excluded), loss, mean foreground Dice both ways. */
export interface CurvePoint {
  step: number;
  wallSeconds: number;
  cpuSeconds: number;
  loss: number;
  synapse: number;
  monai: number;
  loadAverage1m: number;
}

/** Mean foreground Dice under both conventions from one synapse-convention validation. */
function foregroundMeans(
  perClass: Record<string, { dice: number }>,
  meanDice: number,
  presentNames: readonly string[],
): { synapse: number; monai: number } {
  // the conventions differ only on classes absent from the ground truth: monai skips them (Dice NaN)
  const monai = presentNames.reduce((a, n) => a + perClass[n].dice, 0) / presentNames.length;
  return { synapse: meanDice, monai };
}

/** Which budget a run has spent, if any, after `wallSec` of training wall time and `cpuSec` of CPU. */
export function budgetSpent(
  budget: { minutes: number; cpuMinutes: number },
  wallSec: number,
  cpuSec: number,
): Budget | null {
  if (wallSec > budget.minutes * 60) return 'minutes';
  if (cpuSec > budget.cpuMinutes * 60) return 'cpu-minutes';
  return null;
}

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** A bench run's training clocks and its stop; call stepEnded on each step event, evaluated after each evaluation. */
class TrainingClock {
  private readonly t0 = performance.now();
  private readonly c0 = cpuNow();
  private stepWall = this.t0;
  private stepCpu = this.c0;
  private valWall = 0;
  private valCpu = 0;
  /** When the last step or evaluation ended: a step's own time counts from there. */
  private prevWall = this.t0;
  private prevCpu = this.c0;
  /** The step past the budget, and which budget. */
  stopped: { step: number; budget: Budget } | null = null;

  constructor(
    private readonly budget: { minutes: number; cpuMinutes: number },
    private readonly stop: () => void,
  ) {}

  /** Training seconds so far, evaluations excluded. */
  training(now = performance.now(), cpu = cpuNow()): { wallSeconds: number; cpuSeconds: number } {
    return {
      wallSeconds: (now - this.t0 - this.valWall) / 1000,
      cpuSeconds: cpu - this.c0 - this.valCpu,
    };
  }

  /**
   * Step `step` ended: its own seconds (wall, CPU). Past a budget, the run
   * stops (the loop still evaluates this step when it is one of its points).
   */
  stepEnded(step: number): { wall: number; cpu: number } {
    this.stepWall = performance.now();
    this.stepCpu = cpuNow();
    const own = { wall: (this.stepWall - this.prevWall) / 1000, cpu: this.stepCpu - this.prevCpu };
    [this.prevWall, this.prevCpu] = [this.stepWall, this.stepCpu];
    const t = this.training(this.stepWall, this.stepCpu);
    const spent = this.stopped ? null : budgetSpent(this.budget, t.wallSeconds, t.cpuSeconds);
    if (spent) {
      this.stopped = { step, budget: spent };
      this.stop();
    }
    return own;
  }

  /** An evaluation begun when the last step ended is over: its time leaves both clocks. The training time so far. */
  evaluated(): { wallSeconds: number; cpuSeconds: number } {
    const now = performance.now();
    const cpu = cpuNow();
    this.valWall += now - this.stepWall;
    this.valCpu += cpu - this.stepCpu;
    [this.prevWall, this.prevCpu] = [now, cpu];
    return this.training(now, cpu);
  }

  /**
   * An evaluation at `step` has just ended (the loop's or finish's): its
   * point of the curve, `loss` the last step's; `presentNames` are the
   * classes in the ground truth (the monai mean skips the others).
   */
  point(
    step: number,
    loss: number,
    perClass: Record<string, { dice: number }>,
    meanDice: number,
    presentNames: readonly string[],
  ): CurvePoint {
    const t = this.evaluated();
    const m = foregroundMeans(perClass, meanDice, presentNames);
    return {
      step,
      wallSeconds: Number(t.wallSeconds.toFixed(1)),
      cpuSeconds: Number(t.cpuSeconds.toFixed(1)),
      loss: Number(loss.toFixed(4)),
      synapse: Number(m.synapse.toFixed(4)),
      monai: Number(m.monai.toFixed(4)),
      loadAverage1m: Number(loadavg()[0].toFixed(2)),
    };
  }
}

type StepEvent = Extract<TrainEvent, { type: 'step' }>;

/**
 * Trains `model` as the loop does, its validation cases (`data.val`) being
 * what the bench scores, within `budget`: each evaluation is a point of the
 * curve (`onPoint` hears it with its per-class Dice), each step's own
 * seconds go to `onStep`. The points, and the stop if a budget ended the run.
 */
export async function trainOnBudget(o: {
  model: CompiledModel;
  data: TrainingData;
  settings: TrainSettings;
  budget: { minutes: number; cpuMinutes: number };
  /** The classes in the ground truth: the monai mean skips the others. */
  presentNames: readonly string[];
  onStep?: (e: StepEvent, own: { wall: number; cpu: number }) => void;
  onPoint: (p: CurvePoint, perClass: Record<string, { dice: number }>) => void;
}): Promise<{ points: CurvePoint[]; stopped: { step: number; budget: Budget } | null }> {
  const ctl = new AbortController();
  const clock = new TrainingClock(o.budget, () => ctl.abort());
  const points: CurvePoint[] = [];
  let lastLoss = NaN;
  const record = (step: number, perClass: Record<string, { dice: number }>, meanDice: number) => {
    const point = clock.point(step, lastLoss, perClass, meanDice, o.presentNames);
    points.push(point);
    o.onPoint(point, perClass);
  };
  await train({
    model: o.model,
    data: o.data,
    settings: o.settings,
    signal: ctl.signal,
    onEvent: (e) => {
      if (e.type === 'step') {
        lastLoss = e.loss;
        const own = clock.stepEnded(e.step);
        o.onStep?.(e, own);
      }
      if (e.type === 'validation') record(e.step, e.perClass, e.meanDice);
    },
  });
  const stopped = clock.stopped;
  if (stopped && points.at(-1)?.step !== stopped.step) {
    // stopped between the loop's points: evaluate once where it stopped, as the loop validates
    const opts = validationOptions(o.data.classNames, o.settings);
    const report = await evaluateCases(o.model, o.data.val, opts);
    record(stopped.step, report.summary.perClass, report.summary.meanDice);
  }
  if (stopped) console.log(`stopped after step ${stopped.step}: --${stopped.budget} spent`);
  return { points, stopped };
}
