/**
 * What the Train panel shows of a run, kept from the session's events: the
 * live numbers, the loss per step, the validations, the worker's tensor
 * counts and the last save. No DOM: the panel (a Lit element) reads it and
 * redraws. Each step's event is O(1) work: the loss series is appended in
 * place and drawn with a bounded number of points (BucketedSeries), never
 * copied, so a long run costs no more per step than a short one.
 */
import { BucketedSeries } from './chart-scale.ts';
import type { RestoreReply, SessionEvent, TrainEventMessage } from './worker/api.ts';

/** The live numbers of a run: the step event without its tag and memory count. */
export type Progress = Omit<Extract<TrainEventMessage, { type: 'step' }>, 'type' | 'numTensors'>;
export type Persisted = Omit<Extract<TrainEventMessage, { type: 'persisted' }>, 'type'>;

export class RunState {
  progress: Progress | undefined;
  /** The loss per step, appended in place and drawn with a bounded number of points. */
  losses = new BucketedSeries();
  validations: [number, number][] = [];
  /** The worker's tensor count after each step of this page's runs: flat, or a leak. */
  readonly tensorCounts: number[] = [];
  saved: Persisted | undefined;
  saves = 0;

  /** Takes one event of the session in. */
  apply(e: SessionEvent): void {
    switch (e.type) {
      case 'step': {
        const { type: _, numTensors, ...progress } = e;
        this.progress = progress;
        this.tensorCounts.push(numTensors);
        this.losses.push(e.step, e.loss);
        break;
      }
      case 'validation':
        this.validations.push([e.point.step, e.point.meanDice]);
        break;
      case 'persisted': {
        const { type: _, ...saved } = e;
        this.saved = saved;
        this.saves++;
        break;
      }
      default:
        break;
    }
  }

  /** A run brought back from the store: its history, and where its schedule stood. */
  restore(r: Extract<RestoreReply, { status: 'restored' }>): void {
    this.losses = BucketedSeries.of(r.history.map((p) => [p.step, p.loss]));
    this.validations = r.validations.map((v) => [v.step, v.meanDice]);
    const last = r.history.at(-1);
    this.progress = {
      step: r.step,
      runStep: r.run?.runStep ?? 0,
      totalSteps: r.run?.totalSteps ?? 0,
      epoch: r.run?.epoch ?? 0,
      loss: last?.loss ?? NaN,
      lr: last?.lr ?? NaN,
      imagesPerSec: NaN,
      etaSec: NaN,
    };
  }

  /** A run starts: the schedule's length and first rate, before its first step. */
  start(totalSteps: number, learningRate: number): void {
    this.progress = {
      step: this.progress?.step ?? 0,
      runStep: 0,
      totalSteps,
      epoch: 0,
      loss: NaN,
      lr: learningRate,
      imagesPerSec: NaN,
      etaSec: NaN,
    };
  }

  /** Re-initialised weights: no history. */
  clear(): void {
    this.losses = new BucketedSeries();
    this.validations = [];
    this.progress = undefined;
  }

  /** The x range both charts share. */
  get xMax(): number {
    const lastStep = this.losses.count ? this.losses.lastX : 0;
    return Math.max(1, lastStep, this.validations.at(-1)?.[0] ?? 0);
  }
}
