/**
 * The training protocol's plain arithmetic and constants (no tensors), so
 * the settings resolver (src/session/settings.ts) and the editor's page can
 * use them without loading tfjs: steps per epoch, the reference code's
 * learning-rate scaling, and the optimizers' settings.
 */

export interface SgdSettings {
  kind: 'sgd';
  momentum: number;
  weightDecay: number;
}

export interface AdamWSettings {
  kind: 'adamw';
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export type OptimizerSettings = SgdSettings | AdamWSettings;

/** The paper's: momentum 0.9, weight decay 1e-4. */
export const SGD_DEFAULTS: SgdSettings = { kind: 'sgd', momentum: 0.9, weightDecay: 1e-4 };
/** PyTorch's AdamW defaults. */
export const ADAMW_DEFAULTS: AdamWSettings = {
  kind: 'adamw',
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0.01,
};

export function optimizerSettings(
  kind: 'sgd' | 'adamw',
  overrides: { weightDecay?: number; momentum?: number } = {},
): OptimizerSettings {
  const base = kind === 'sgd' ? { ...SGD_DEFAULTS } : { ...ADAMW_DEFAULTS };
  if (overrides.weightDecay !== undefined) base.weightDecay = overrides.weightDecay;
  if (base.kind === 'sgd' && overrides.momentum !== undefined) base.momentum = overrides.momentum;
  return base;
}

/** Weights of the loss's two terms: loss = ce·CE + dice·Dice. */
export interface LossWeights {
  ce: number;
  dice: number;
}

/** The paper's loss (MAM-SPEC.md section 5): 0.4·CE + 0.6·Dice. */
export const DEFAULT_LOSS: LossWeights = { ce: 0.4, dice: 0.6 };

/** The batch the reference code's learning rates are given at. */
export const REFERENCE_BATCH = 24;

/** The linear scaling rule of the reference code: lr·batch/24. */
export function scaleLrForBatch(
  lr: number,
  batch: number,
  referenceBatch = REFERENCE_BATCH,
): number {
  return (lr * batch) / referenceBatch;
}

/**
 * Batches per pass over the slices, the last one partial when the batch does
 * not divide them: PyTorch's DataLoader without `drop_last`, as the Synapse
 * reference trains (DA-TRANSUNET-MAM-SPEC.md: 2,211 slices at batch 24 are 93
 * steps an epoch). At least one.
 */
export function stepsPerEpoch(slices: number, batch: number): number {
  return Math.max(1, Math.ceil(slices / batch));
}

/** Positions `[start, end)` of the epoch's shuffled order that step `t` reads: `batch` of them, fewer at the epoch's end. */
export function batchPositions(t: number, slices: number, batch: number): [number, number] {
  const start = (t % stepsPerEpoch(slices, batch)) * batch;
  return [start, Math.min(start + batch, slices)];
}
