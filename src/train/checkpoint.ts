/**
 * What a checkpoint holds: weights (our safetensors, with the graph's
 * fingerprint), optimizer slots (safetensors), and the loop's state as JSON:
 * step, settings, RNG scheme, best score, history. Everything random in a run
 * is drawn from hash(seed, purpose, step), so step + seed is the whole RNG
 * state and a resumed run repeats the steps an uninterrupted run would take.
 * Where bytes go is the store's business (a folder in Node, anything in a browser).
 */
import { en } from 'zod/locales';
import * as z from 'zod/mini';
import {
  jsonPath,
  lossWeightsSchema,
  slidingWindowSchema,
  volumeAugmentSchema,
} from '../graph/schema.ts';

z.config(en());

/** JSON has no NaN or infinity: JSON.stringify writes them as null, read back as NaN. */
const num = z.pipe(
  z.nullable(z.number()),
  z.transform((v: number | null) => v ?? NaN),
);
const count = z.number().check(z.int(), z.nonnegative());
const convention = z.enum(['synapse', 'monai']);

const optimizerSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('sgd'), momentum: z.number(), weightDecay: z.number() }),
  z.object({
    kind: z.literal('adamw'),
    beta1: z.number(),
    beta2: z.number(),
    eps: z.number(),
    weightDecay: z.number(),
  }),
]);

const trainSettingsSchema = z.object({
  /** Images per step (capped by the number of training slices). */
  batchSize: z.number().check(z.int(), z.positive()),
  /** Total steps T (the poly schedule's horizon). */
  steps: count,
  /** Base learning rate, already scaled for the batch if that rule applies. */
  learningRate: z.number().check(z.nonnegative()),
  schedule: z.enum(['poly', 'constant']),
  optimizer: optimizerSchema,
  seed: z.number().check(z.int()),
  /**
   * The seed that drew the train/validation split of data without a split.json
   * (`mam train`: the seed; `mam ablate`: the first seed, for every run; the
   * editor: its data panel's). Absent in older runs: the seed.
   */
  splitSeed: z.optional(z.number().check(z.int())),
  /** Validate every N steps (0: only at the end). */
  valEvery: count,
  /** Checkpoint every N steps (0: after each validation); always at the end and on stop. */
  checkpointEvery: count,
  /** Stop after this many validations without improvement (0: never). */
  patience: count,
  augment: z.boolean(),
  /** A 3D graph's crop augmentations, in order (absent in older runs: none). */
  volumeAugment: z.optional(z.array(volumeAugmentSchema)),
  /** A 3D graph's sliding windows at validation and test (absent in older runs: overlap 0.5). */
  validationWindow: z.optional(slidingWindowSchema),
  testWindow: z.optional(slidingWindowSchema),
  convention,
  normalisation: z.enum(['auto', 'none', 'uint8', 'ct', 'percentile']),
  /** How slices of another size reach the input (absent in older runs: 'stretch'). */
  resize: z.optional(z.enum(['stretch', 'pad'])),
  /** Weights of CE and Dice in the loss (absent in older runs: 0.4/0.6). */
  loss: z.optional(lossWeightsSchema),
});
export type TrainSettings = z.infer<typeof trainSettingsSchema>;

const validationSchema = z.object({
  step: count,
  convention,
  meanDice: num,
  meanHd95: num,
  hd95Unit: z.enum(['voxel', 'mm']),
  perClass: z.record(z.string(), z.object({ dice: num, hd95: num })),
});
export type ValidationRecord = z.infer<typeof validationSchema>;

const historyRowSchema = z.object({
  step: count,
  epoch: count,
  loss: num,
  ce: num,
  dice: num,
  lr: num,
  /** Wall seconds of training so far (over all sessions of the run). */
  elapsedSec: num,
  /** A 3D run's step: the training volume its crops were cut from, and how many (all processes). */
  volume: z.optional(z.string()),
  crops: z.optional(count),
  val: z.optional(validationSchema),
});
export type HistoryRow = z.infer<typeof historyRowSchema>;

export const TRAIN_STATE_FORMAT = 'mam-studio/train-state';

/** How our loop draws everything random (see above). */
export const RNG_SCHEME = 'fnv1a(seed, purpose:step) → mulberry32';
/**
 * How the torch runtime (python/mam_torch) draws: augmentation and drop-path from numpy
 * generators seeded by (seed, step, position), the order from torch's DistributedSampler.
 * Its run folders are ours in every other respect, so their state parses here.
 */
export const TORCH_RNG_SCHEME =
  'numpy default_rng(seed, step, position) / torch DistributedSampler(seed, epoch)';

const trainStateSchema = z.object({
  format: z.literal(TRAIN_STATE_FORMAT),
  version: z.literal(1),
  /** Steps completed. */
  step: count,
  epoch: count,
  settings: trainSettingsSchema,
  rng: z.object({
    seed: z.number(),
    scheme: z.enum([RNG_SCHEME, TORCH_RNG_SCHEME]),
  }),
  best: z.nullable(z.object({ step: count, meanDice: num })),
  validationsSinceBest: count,
  lastValidation: z.nullable(validationSchema),
  history: z.array(historyRowSchema),
  elapsedSec: num,
  weightsFingerprint: z.string(),
  dataFingerprint: z.string(),
});
export type TrainState = z.infer<typeof trainStateSchema>;

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

/**
 * The engine that trained a state when it is not our loop, else null: a run of the torch
 * runtime draws its randomness another way, so continuing it here would not be the run it
 * started as (neither `mam train --resume` nor the editor's Resume takes it).
 */
export function foreignEngine(state: TrainState): string | null {
  return state.rng.scheme === RNG_SCHEME ? null : 'mam_torch (PyTorch)';
}

/** Why `mam train` cannot resume a state step for step (foreignEngine), or null. */
export function resumeRefusal(state: TrainState, runDir: string): string | null {
  const engine = foreignEngine(state);
  if (!engine) return null;
  return `${runDir} was trained by ${engine}, whose random draws (${state.rng.scheme}) mam train cannot repeat, so it cannot resume it step for step: resume it with python -m mam_torch.train … --out ${runDir} --resume (its best.safetensors opens in mam eval and the editor)`;
}

/** A parsed state.json, or a one-line message naming the first bad field by its JSON path. */
export function parseTrainState(
  text: string,
): { ok: true; state: TrainState } | { ok: false; message: string } {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    return { ok: false, message: `state.json is not valid JSON (${(e as Error).message})` };
  }
  const head = z.object({ format: z.literal(TRAIN_STATE_FORMAT), version: z.literal(1) });
  if (!head.safeParse(j).success)
    return { ok: false, message: 'state.json is not a mam-studio training state (version 1)' };
  const r = trainStateSchema.safeParse(j);
  if (!r.success) {
    const issue = r.error.issues[0];
    const more = r.error.issues.length > 1 ? ` (and ${r.error.issues.length - 1} more)` : '';
    return {
      ok: false,
      message: `state.json ${jsonPath(issue.path as (string | number)[])}: ${issue.message}${more}`,
    };
  }
  return { ok: true, state: r.data };
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
