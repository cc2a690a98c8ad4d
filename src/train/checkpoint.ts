/**
 * What a checkpoint holds: weights (our safetensors, with the graph's
 * fingerprint), optimizer slots (safetensors), and the loop's state as JSON:
 * step, settings, RNG scheme, best score, history. Everything random in a run
 * is drawn from hash(seed, purpose, step), so step + seed is the whole RNG
 * state and a resumed run repeats the steps an uninterrupted run would take.
 * Where bytes go is the store's business (a folder in Node, anything in a browser).
 */
import type { MetricConvention } from './metrics.ts';
import type { OptimizerSettings } from './optim.ts';
import type { ResizeRule } from '../data/prepare.ts';
import type { Normalisation } from './samples.ts';

export interface TrainSettings {
  /** Images per step (capped by the number of training slices). */
  batchSize: number;
  /** Total steps T (the poly schedule's horizon). */
  steps: number;
  /** Base learning rate, already scaled for the batch if that rule applies. */
  learningRate: number;
  schedule: 'poly' | 'constant';
  optimizer: OptimizerSettings;
  seed: number;
  /** Validate every N steps (0: only at the end). */
  valEvery: number;
  /** Checkpoint every N steps (0: after each validation); always at the end and on stop. */
  checkpointEvery: number;
  /** Stop after this many validations without improvement (0: never). */
  patience: number;
  augment: boolean;
  convention: MetricConvention;
  normalisation: Normalisation;
  /** How slices of another size reach the input (absent in older runs: 'stretch'). */
  resize?: ResizeRule;
}

export interface ValidationRecord {
  step: number;
  convention: MetricConvention;
  meanDice: number;
  meanHd95: number;
  hd95Unit: 'voxel' | 'mm';
  perClass: Record<string, { dice: number; hd95: number }>;
}

export interface HistoryRow {
  step: number;
  epoch: number;
  loss: number;
  ce: number;
  dice: number;
  lr: number;
  /** Wall seconds of training so far (over all sessions of the run). */
  elapsedSec: number;
  val?: ValidationRecord;
}

export const TRAIN_STATE_FORMAT = 'mam-studio/train-state';

export interface TrainState {
  format: typeof TRAIN_STATE_FORMAT;
  version: 1;
  /** Steps completed. */
  step: number;
  epoch: number;
  settings: TrainSettings;
  rng: { seed: number; scheme: 'fnv1a(seed, purpose:step) → mulberry32' };
  best: { step: number; meanDice: number } | null;
  validationsSinceBest: number;
  lastValidation: ValidationRecord | null;
  history: HistoryRow[];
  elapsedSec: number;
  weightsFingerprint: string;
  dataFingerprint: string;
}

export interface Checkpoint {
  weights: Uint8Array;
  optimizer: Uint8Array;
  state: TrainState;
}

export interface CheckpointStore {
  /** Persist atomically (a reader sees the old or the new checkpoint, never a mix); returns where, for messages. */
  save(c: Checkpoint): Promise<string>;
  /** The best weights so far (by mean validation Dice). */
  saveBest?(weights: Uint8Array, state: TrainState): Promise<string>;
}

/** A parsed state.json, or an error message. */
export function parseTrainState(
  text: string,
): { ok: true; state: TrainState } | { ok: false; message: string } {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    return { ok: false, message: `state.json is not valid JSON (${(e as Error).message})` };
  }
  const s = j as Partial<TrainState>;
  if (
    !s ||
    s.format !== TRAIN_STATE_FORMAT ||
    s.version !== 1 ||
    typeof s.step !== 'number' ||
    !s.settings
  ) {
    return { ok: false, message: 'state.json is not a mam-studio training state (version 1)' };
  }
  return { ok: true, state: s as TrainState };
}

/** history.csv: step, epoch, loss, ce, dice, lr, elapsed, then validation columns (empty on steps without one). */
export function historyToCsv(rows: readonly HistoryRow[], classNames: readonly string[]): string {
  const fg = classNames.slice(1);
  const esc = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const num = (x: number | undefined, d = 6) =>
    x === undefined
      ? ''
      : Number.isNaN(x)
        ? 'NaN'
        : x === Infinity
          ? 'inf'
          : Number(x.toFixed(d)).toString();
  const head = [
    'step',
    'epoch',
    'loss',
    'ce',
    'dice_loss',
    'lr',
    'elapsed_s',
    'val_convention',
    'val_mean_dice',
    'val_mean_hd95',
    ...fg.map((n) => esc(`val_dice_${n}`)),
  ];
  const lines = [head.join(',')];
  for (const r of rows) {
    const v = r.val;
    lines.push(
      [
        r.step,
        r.epoch,
        num(r.loss),
        num(r.ce),
        num(r.dice),
        num(r.lr, 8),
        num(r.elapsedSec, 2),
        v?.convention ?? '',
        num(v?.meanDice),
        num(v?.meanHd95),
        ...fg.map((n) => num(v?.perClass[n]?.dice)),
      ].join(','),
    );
  }
  return lines.join('\n') + '\n';
}
