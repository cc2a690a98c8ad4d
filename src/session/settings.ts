/**
 * The one settings resolver of a training run, used by `mam train`, the
 * editor's worker and the Train panel's defaults: graph metadata
 * (`metadata.training`) → defaults (the paper's protocol scaled to small data)
 * → the user's overrides (flags, panel fields), each value with where it came
 * from. The rules that depend on the data (steps per epoch, SGD's learning
 * rate scaled by batch/24, validation once per epoch) apply here and nowhere
 * else. Pure: no tensors, so the editor's page can show the defaults.
 */
import type { ResizeRule } from '../data/prepare.ts';
import type { Shape3 } from '../data/volume-crops.ts';
import type {
  GraphDoc,
  SlidingWindowSettings,
  TrainingSettings,
  VolumeAugmentSpec,
} from '../graph/types.ts';
import { REFERENCE_VOLUME_AUGMENT } from '../graph/presets-3d.ts';
import type { TrainSettings } from '../train/checkpoint.ts';
import type { MetricConvention } from '../train/metrics.ts';
import {
  DEFAULT_LOSS,
  REFERENCE_BATCH,
  type LossWeights,
  optimizerSettings,
  scaleLrForBatch,
  stepsPerEpoch,
} from '../train/rules.ts';
import type { Normalisation } from '../train/samples.ts';
import type { TrainPanelSettings } from './types.ts';

export type SettingSource =
  'override' | 'graph metadata' | 'default' | 'scaled by batch' | 'per epoch';

/** A value and why it is what it is. */
export interface Resolved<T> {
  value: T;
  from: SettingSource;
  note?: string;
}

/** What a user may set (a flag, a panel field); absent: not set. */
export interface SettingsOverrides {
  epochs?: number;
  /** Instead of epochs. */
  steps?: number;
  batchSize?: number;
  /** Base learning rate (SGD's at batch 24). */
  learningRate?: number;
  optimizer?: 'sgd' | 'adamw';
  seed?: number;
  /** The seed the data's train/validation split was drawn with (absent: the seed), for the record. */
  splitSeed?: number;
  /** Validate every N steps (0: only at the end). Absent: once per epoch. */
  valEvery?: number;
  checkpointEvery?: number;
  patience?: number;
  augment?: boolean;
  convention?: MetricConvention;
  normalisation?: Normalisation;
  resize?: ResizeRule;
}

/** The choices that do not depend on the data: what the Train panel shows before a run. */
export interface BaseSettings {
  epochs: Resolved<number>;
  batchSize: Resolved<number>;
  optimizer: Resolved<'sgd' | 'adamw'>;
  /** The base learning rate (SGD's at batch 24, before scaling). */
  learningRate: Resolved<number>;
  seed: Resolved<number>;
  convention: Resolved<MetricConvention>;
  augment: Resolved<boolean>;
}

/** The defaults where neither the user nor the graph says: the paper's protocol scaled to small data. */
export const DEFAULTS = {
  epochs: 30,
  batchSize: 8,
  sgdLearningRate: 0.05,
  adamwLearningRate: 1e-3,
  optimizer: 'sgd',
  seed: 0,
  convention: 'synapse',
  augment: true,
  normalisation: 'auto',
  resize: 'stretch',
  loss: DEFAULT_LOSS,
} as const;

function pick<T>(override: T | undefined, meta: T | undefined, fallback: T): Resolved<T> {
  if (override !== undefined) return { value: override, from: 'override' };
  if (meta !== undefined) return { value: meta, from: 'graph metadata' };
  return { value: fallback, from: 'default' };
}

/** Overrides, else the graph's metadata.training, else the defaults. */
export function resolveBase(
  meta: TrainingSettings | undefined,
  o: SettingsOverrides = {},
): BaseSettings {
  const m = meta ?? {};
  const optimizer = pick(o.optimizer, m.optimizer, DEFAULTS.optimizer);
  return {
    epochs: pick(o.epochs, m.epochs, DEFAULTS.epochs),
    // a 3D graph's crops per step (samplesPerVolume) take the batch's place
    batchSize: pick(o.batchSize, m.samplesPerVolume ?? m.batchSize, DEFAULTS.batchSize),
    optimizer,
    learningRate: pick(
      o.learningRate,
      m.learningRate,
      optimizer.value === 'sgd' ? DEFAULTS.sgdLearningRate : DEFAULTS.adamwLearningRate,
    ),
    seed: pick(o.seed, m.seed, DEFAULTS.seed),
    convention: pick(o.convention, m.metricConvention, DEFAULTS.convention),
    // a list of 3D crop augmentations turns augmentation on
    augment: pick(
      o.augment,
      m.augment === undefined ? undefined : m.augment !== false,
      DEFAULTS.augment,
    ),
  };
}

/** A run's settings, each with its reason, and the numbers messages quote. */
export interface ResolvedRun {
  /** What the training loop takes. */
  settings: TrainSettings;
  base: BaseSettings;
  steps: Resolved<number>;
  /** The learning rate the loop starts from (scaled for SGD). */
  learningRate: Resolved<number>;
  valEvery: Resolved<number>;
  /** Weights of CE and Dice in the loss. */
  loss: Resolved<LossWeights>;
  /** Images per step: the batch, capped by the number of training slices. */
  effectiveBatch: number;
  stepsPerEpoch: number;
  /** A 3D graph's crop augmentations, in order (none when augmentation is off). */
  volumeAugment?: Resolved<VolumeAugmentSpec[]>;
  /** A 3D graph's protocol: crops, augmentation, sliding windows. */
  volume?: VolumeProtocol;
}

/** A 3D run's crop augmentations: none when off, else the graph's list, else the reference's. */
export function resolveVolumeAugment(
  meta: TrainingSettings | undefined,
  augment: Resolved<boolean>,
): Resolved<VolumeAugmentSpec[]> {
  if (!augment.value) return { value: [], from: augment.from, note: 'augmentation off' };
  if (Array.isArray(meta?.augment)) return { value: meta.augment, from: 'graph metadata' };
  return {
    value: structuredClone([...REFERENCE_VOLUME_AUGMENT]),
    from: 'default',
    note: "the 3D reference's RandShiftIntensity (±0.10, p 0.5) + RandAffine (p 1, ±π/30 about k, scale ±0.1)",
  };
}

/** The whole run's settings for `trainSlices` training slices. */
export function resolveRun(
  meta: TrainingSettings | undefined,
  o: SettingsOverrides,
  trainSlices: number,
): ResolvedRun {
  const base = resolveBase(meta, o);
  const effectiveBatch = Math.min(base.batchSize.value, trainSlices);
  const spe = stepsPerEpoch(trainSlices, effectiveBatch);
  const steps: Resolved<number> =
    o.steps !== undefined
      ? { value: o.steps, from: 'override' }
      : {
          value: base.epochs.value * spe,
          from: 'per epoch',
          note: `${base.epochs.value} epochs (${base.epochs.from}) × ${spe} steps per epoch`,
        };
  const kind = base.optimizer.value;
  const baseLr = base.learningRate.value;
  const learningRate: Resolved<number> =
    kind === 'sgd'
      ? {
          value: scaleLrForBatch(baseLr, effectiveBatch),
          from: 'scaled by batch',
          note: `${baseLr} (${base.learningRate.from}) at batch ${REFERENCE_BATCH}, scaled ×${effectiveBatch}/${REFERENCE_BATCH}`,
        }
      : base.learningRate;
  const valEvery: Resolved<number> =
    o.valEvery !== undefined
      ? { value: o.valEvery, from: 'override' }
      : { value: spe, from: 'per epoch', note: 'once per epoch' };
  const loss = pick(undefined, meta?.loss, DEFAULTS.loss);
  const settings: TrainSettings = {
    batchSize: base.batchSize.value,
    steps: steps.value,
    learningRate: learningRate.value,
    schedule: 'poly',
    optimizer: optimizerSettings(kind, {
      ...(meta?.weightDecay !== undefined ? { weightDecay: meta.weightDecay } : {}),
      ...(meta?.momentum !== undefined ? { momentum: meta.momentum } : {}),
    }),
    seed: base.seed.value,
    splitSeed: o.splitSeed ?? base.seed.value,
    valEvery: valEvery.value,
    checkpointEvery: o.checkpointEvery ?? 0,
    patience: o.patience ?? 0,
    augment: base.augment.value,
    convention: base.convention.value,
    normalisation: o.normalisation ?? DEFAULTS.normalisation,
    resize: o.resize ?? DEFAULTS.resize,
    loss: { ...loss.value },
  };
  return {
    settings,
    base,
    steps,
    learningRate,
    valEvery,
    loss,
    effectiveBatch,
    stepsPerEpoch: spe,
  };
}

/** The reference's sliding windows (3D-MAM-SPEC.md §f) where the graph does not say. */
export const VOLUME_WINDOWS = {
  /** main_train.py: sliding_window_inference(roi, sw_batch_size 2, overlap 0.25). */
  validation: { overlap: 0.25, batchSize: 2 },
  /** test_seg.py: sw_batch_size 4, --overlap 0.5 by default. */
  test: { overlap: 0.5, batchSize: 4 },
} as const satisfies Record<string, SlidingWindowSettings>;

/** A 3D graph's protocol beyond the 2D one: its crops, their augmentation, its sliding windows. */
export interface VolumeProtocol {
  /** The training crop `[D, H, W]`: the graph's input (null: not known here). */
  cropSize: Resolved<Shape3 | null>;
  /** Crops per step, all from one volume (RandCropByPosNegLabeld's num_samples). */
  samplesPerVolume: Resolved<number>;
  augment: Resolved<VolumeAugmentSpec[]>;
  validation: Resolved<SlidingWindowSettings>;
  test: Resolved<SlidingWindowSettings>;
}

/** A 3D graph's protocol for its input `[D, H, W]`: the graph's metadata, else the reference's. */
export function resolveVolumeProtocol(
  meta: TrainingSettings | undefined,
  o: SettingsOverrides,
  input?: Shape3,
): VolumeProtocol {
  const m = meta ?? {};
  const base = resolveBase(meta, o);
  const samplesPerVolume: Resolved<number> =
    base.batchSize.from === 'override'
      ? { ...base.batchSize, note: 'crops per step, from one volume' }
      : m.samplesPerVolume !== undefined
        ? { ...base.batchSize, note: "RandCropByPosNegLabeld's num_samples" }
        : {
            ...base.batchSize,
            note:
              base.batchSize.from === 'default'
                ? "the session's batch (the reference's is 2)"
                : 'batchSize: crops per step, from one volume',
          };
  const window = (k: 'validation' | 'test', note: string): Resolved<SlidingWindowSettings> => {
    const w = m.slidingWindow?.[k];
    return w
      ? { value: { ...w }, from: 'graph metadata' }
      : { value: { ...VOLUME_WINDOWS[k] }, from: 'default', note };
  };
  return {
    cropSize: {
      value: input ? [...input] : null,
      from: 'default',
      note: "the graph's input: the crops are what the network takes",
    },
    samplesPerVolume,
    augment: resolveVolumeAugment(meta, base.augment),
    validation: window('validation', "the reference's validation (main_train.py)"),
    test: window('test', "the reference's test (test_seg.py's default overlap)"),
  };
}

/**
 * The sliding windows of `mam eval` / `mam run` on a 3D graph: its metadata's
 * test windows, else the reference's (overlap 0.5, 4 per pass); the
 * --overlap and --batch flags override their part.
 */
export function resolveTestWindow(
  meta: TrainingSettings | undefined,
  flags: { overlap?: number; batch?: number },
): Resolved<SlidingWindowSettings> {
  const w = resolveVolumeProtocol(meta, {}).test;
  if (flags.overlap === undefined && flags.batch === undefined) return w;
  return {
    value: {
      overlap: flags.overlap ?? w.value.overlap,
      batchSize: flags.batch ?? w.value.batchSize,
    },
    from: 'override',
    note: `${flags.overlap === undefined ? `overlap ${w.value.overlap} (${w.from}), ` : ''}${flags.batch === undefined ? `${w.value.batchSize} per pass (${w.from}), ` : ''}the rest from the flags`,
  };
}

/** Sliding windows in words, with where they come from: "overlap 0.25, 4 windows per pass (graph metadata)". */
export const describeWindow = (r: Resolved<SlidingWindowSettings>): string =>
  `overlap ${r.value.overlap}, ${r.value.batchSize} windows per pass (${r.from}${r.note ? `: ${r.note}` : ''})`;

/**
 * A 3D graph's run (3D-MAM-SPEC.md §f): an epoch is one step per training
 * volume, each step `batch` crops from one volume (the reference: batch 1 ×
 * crop_sample); a constant learning rate (the reference has no scheduler);
 * MONAI's DiceCE weights 1 : 1 unless the graph names its own; validation
 * ten times per run unless asked otherwise (the reference: every 500 of
 * 40,000 steps), not every epoch.
 */
export function resolveVolumeRun(
  meta: TrainingSettings | undefined,
  o: SettingsOverrides,
  volumes: number,
  input?: Shape3,
): ResolvedRun {
  const protocol = resolveVolumeProtocol(meta, o, input);
  const batch = protocol.samplesPerVolume.value;
  const r = resolveRun(meta, o, volumes * batch);
  const loss: ResolvedRun['loss'] = meta?.loss
    ? r.loss
    : { value: { ce: 1, dice: 1 }, from: 'default', note: "MONAI's DiceCELoss" };
  // an epoch is one step per volume: validating each epoch (whole volumes, sliding windows) would dominate
  const valEvery: ResolvedRun['valEvery'] =
    o.valEvery !== undefined
      ? r.valEvery
      : {
          value: Math.max(1, Math.ceil(r.steps.value / 10)),
          from: 'default',
          note: 'ten validations per run',
        };
  return {
    ...r,
    loss,
    valEvery,
    volumeAugment: protocol.augment,
    volume: protocol,
    settings: {
      ...r.settings,
      schedule: 'constant',
      valEvery: valEvery.value,
      loss: { ...loss.value },
      volumeAugment: structuredClone(protocol.augment.value),
      validationWindow: { ...protocol.validation.value },
      testWindow: { ...protocol.test.value },
    },
  };
}

/** A graph document's 3D input `[D, H, W]` (its image-input's depth, height, width), or undefined for a 2D graph. */
export function volumeInputOfDoc(doc: GraphDoc | undefined): Shape3 | undefined {
  const n = doc?.nodes.find((x) => x.type === 'image-input');
  const [d, h, w] = ['depth', 'height', 'width'].map((k) => n?.params[k]);
  return typeof d === 'number' && d > 0 && typeof h === 'number' && typeof w === 'number'
    ? [d, h, w]
    : undefined;
}

/** The values alone of resolved settings. */
export const valuesOf = <T extends { [K in keyof T]: Resolved<unknown> }>(
  r: T,
): { [K in keyof T]: T[K]['value'] } =>
  Object.fromEntries(Object.entries<Resolved<unknown>>(r).map(([k, v]) => [k, v.value])) as {
    [K in keyof T]: T[K]['value'];
  };

/*
 * The Train panel's fields through the resolver: its defaults are the base
 * values for the graph, and its fields reach the resolver as overrides where
 * they differ from those defaults (so each value keeps its reason).
 */

/** The panel's defaults: the graph's metadata.training, else the session's defaults. */
export function panelDefaults(doc: GraphDoc | undefined): TrainPanelSettings {
  const base = valuesOf(resolveBase(doc?.metadata?.training));
  return { ...base, steps: 0, valEvery: 0 };
}

/**
 * The panel's fields as overrides: those the user changed from the defaults;
 * steps 0 means "by epochs" and valEvery 0 "once per epoch" (not set).
 */
export function panelOverrides(
  p: TrainPanelSettings,
  doc: GraphDoc | undefined,
): SettingsOverrides {
  const defaults = panelDefaults(doc);
  const o: SettingsOverrides = {};
  const keys = [
    'epochs',
    'batchSize',
    'learningRate',
    'optimizer',
    'seed',
    'convention',
    'augment',
  ] as const;
  for (const k of keys) if (p[k] !== defaults[k]) Object.assign(o, { [k]: p[k] });
  if (p.epochs < 1) o.epochs = 1;
  if (p.steps > 0) o.steps = p.steps;
  if (p.valEvery > 0) o.valEvery = p.valEvery;
  return o;
}
