/**
 * Evaluation as the paper does it (MAM-SPEC.md section 5): every slice of a
 * volume resized to the network's input, predicted, argmaxed, resized back
 * (nearest), then per-class Dice/HD95 on the whole volume at its own
 * resolution, under one named convention, keyed by class name.
 */
import * as tf from '#tfjs';
import type { CompiledModel } from '../compile/model.ts';
import { fitPlane, resizePlan, unfitPlane, type ResizeRule } from '../data/prepare.ts';
import type { Case } from '../data/types.ts';
import {
  EMPTY_RULES,
  evaluateVolume,
  metricsToCsv,
  summarizeMetrics,
  type EmptyRule,
  type MetricConvention,
  type MetricsSummary,
  type VolumeScores,
} from './metrics.ts';
import { normaliseVolume, type Normalisation } from './samples.ts';
import { slidingWindowInference, type BlendMode, type PatchPredictor } from './sliding-window.ts';
import { caseImage, caseShape, volumeInput } from './volume-batches.ts';

export interface PredictOptions {
  normalisation?: Normalisation;
  /** Slices of another size than the input: 'stretch' (default, the reference) or 'pad' (keeps the aspect). */
  resize?: ResizeRule;
  /** Slices per forward pass (a 3D graph: windows per forward pass). */
  batchSize?: number;
  /** A 3D graph's sliding windows: overlap (default 0.5) and blending (default constant). */
  overlap?: number;
  blend?: BlendMode;
  signal?: AbortSignal;
}

/**
 * Logits `[D, H, W, K]` of a whole volume under a 3D graph, by sliding
 * windows of its input size (src/train/sliding-window.ts).
 */
export async function volumeLogits(
  model: CompiledModel,
  c: Case,
  opts: PredictOptions = {},
): Promise<{ logits: Float32Array; classes: number }> {
  const vol = volumeInput(model.plan);
  if (!vol) throw new Error('volumeLogits needs a graph whose input has a depth axis');
  const image = caseImage(c, opts.normalisation ?? 'auto', vol.channels);
  // the model is rank-generic: it checks the batch against the plan's B×D×H×W×C
  const predict = (x: tf.Tensor5D) => model.predict(x as unknown as tf.Tensor4D) as tf.Tensor;
  return slidingWindowInference(image, caseShape(c), vol.channels, predict as PatchPredictor, {
    roi: vol.roi,
    overlap: opts.overlap ?? 0.5,
    mode: opts.blend ?? 'constant',
    batchSize: opts.batchSize ?? 1,
    signal: opts.signal,
  });
}

/** Argmax over the last axis of `[…, K]` logits. */
export function argmaxLabels(logits: Float32Array, classes: number): Uint8Array {
  const out = new Uint8Array(logits.length / classes);
  for (let i = 0; i < out.length; i++) {
    let best = 0;
    for (let k = 1; k < classes; k++)
      if (logits[i * classes + k] > logits[i * classes + best]) best = k;
    out[i] = best;
  }
  return out;
}

/** Predicted labels of a case, in its voxel order (dims fastest-first, slices along k). */
export async function predictVolume(
  model: CompiledModel,
  c: Case,
  opts: PredictOptions = {},
): Promise<Uint8Array> {
  if (volumeInput(model.plan)) {
    // a 3D graph: the whole volume by sliding windows; [D, H, W] C order is NIfTI's voxel order
    const { logits, classes } = await volumeLogits(model, c, opts);
    return argmaxLabels(logits, classes);
  }
  const { normalisation = 'auto', batchSize = 8 } = opts;
  const [, inH, inW, inC] = model.plan.input.shape;
  const dims = c.channels[0].dims;
  const [w, h, d] = [dims[0], dims[1] ?? 1, dims[2] ?? 1];
  const nc = c.channels.length;
  if (nc !== inC && nc !== 1)
    throw new Error(`case ${c.id} has ${nc} channels but the graph expects ${inC}`);
  const chans = c.channels.map((v) => normaliseVolume(v, normalisation));
  const plane = h * w;
  const out = new Uint8Array(plane * d);
  const resize = h !== inH || w !== inW;
  const fit = resizePlan([h, w], [inH, inW], opts.resize ?? 'stretch');
  for (let z0 = 0; z0 < d; z0 += batchSize) {
    if (opts.signal?.aborted) throw new DOMException('evaluation stopped', 'AbortError');
    const nb = Math.min(batchSize, d - z0);
    const x = new Float32Array(nb * inH * inW * inC);
    for (let b = 0; b < nb; b++) {
      for (let k = 0; k < inC; k++) {
        const src = chans[nc === 1 ? 0 : k].subarray((z0 + b) * plane, (z0 + b + 1) * plane);
        const img = resize ? fitPlane(src, fit, 3) : src;
        const base = b * inH * inW * inC;
        for (let i = 0; i < inH * inW; i++) x[base + i * inC + k] = img[i];
      }
    }
    const labels = tf.tidy(() => tf.argMax(model.predict(tf.tensor4d(x, [nb, inH, inW, inC])), -1));
    const data = (await labels.data()) as Int32Array;
    labels.dispose();
    for (let b = 0; b < nb; b++) {
      const lab = data.subarray(b * inH * inW, (b + 1) * inH * inW);
      const back = resize ? unfitPlane(lab, fit, 0) : lab;
      const base = (z0 + b) * plane;
      for (let i = 0; i < plane; i++) out[base + i] = back[i];
    }
  }
  return out;
}

export interface EvaluationOptions extends PredictOptions {
  classNames: readonly string[];
  convention?: MetricConvention;
  /** Called with each case's prediction (e.g. to write it as .nii.gz), then dropped. */
  onPrediction?: (c: Case, labels: Uint8Array) => void | Promise<void>;
  onCase?: (scores: VolumeScores, index: number, total: number) => void;
}

export interface EvaluationReport {
  convention: MetricConvention;
  hd95Unit: 'voxel' | 'mm';
  summary: MetricsSummary;
  cases: VolumeScores[];
  /** How often each empty-mask rule fired, over all cases and classes. */
  ruleCounts: Record<EmptyRule, number>;
  /** Per-case, per-class rows, the convention in every row. */
  csv: string;
}

export async function evaluateCases(
  model: CompiledModel,
  cases: readonly Case[],
  opts: EvaluationOptions,
): Promise<EvaluationReport> {
  const convention = opts.convention ?? 'synapse';
  const scored: VolumeScores[] = [];
  for (const [i, c] of cases.entries()) {
    if (!c.label) throw new Error(`case ${c.id} has no label to evaluate against`);
    const pred = await predictVolume(model, c, opts);
    await opts.onPrediction?.(c, pred);
    const dims = c.label.dims;
    const shape = [dims[2] ?? 1, dims[1] ?? 1, dims[0]];
    const spacing = [c.label.spacing[2] ?? 1, c.label.spacing[1] ?? 1, c.label.spacing[0] ?? 1];
    const s = evaluateVolume(pred, c.label.data, shape, opts.classNames, {
      convention,
      spacing,
      caseId: c.id,
    });
    scored.push(s);
    opts.onCase?.(s, i, cases.length);
  }
  const summary = summarizeMetrics(scored);
  const ruleCounts = Object.fromEntries(EMPTY_RULES.map((r) => [r, 0])) as Record<
    EmptyRule,
    number
  >;
  for (const v of scored) for (const s of Object.values(v.perClass)) ruleCounts[s.rule]++;
  return {
    convention,
    hd95Unit: summary.hd95Unit,
    summary,
    cases: scored,
    ruleCounts,
    csv: metricsToCsv(scored),
  };
}

const RULE_WORDS: Record<EmptyRule, string> = {
  both: 'both masks present',
  predOnly: 'predicted only',
  gtOnly: 'ground truth only',
  bothEmpty: 'both empty',
};

const fmt = (x: number, d: number) =>
  Number.isNaN(x) ? 'NaN' : x === Infinity ? 'inf' : x.toFixed(d);

/** The per-class table with its mean, labelled with the convention. */
export function formatReport(r: EvaluationReport, note?: string): string {
  const s = r.summary;
  const names = Object.keys(s.perClass);
  const wName = Math.max(5, ...names.map((n) => n.length));
  const lines = [
    `metrics: ${r.convention} convention (Dice; HD95 in ${r.hd95Unit === 'voxel' ? 'voxels, unit spacing as medpy' : 'mm'}), ${s.volumes} volume${s.volumes === 1 ? '' : 's'}${note ? ` (${note})` : ''}`,
    `${'class'.padEnd(wName)}  ${'Dice'.padStart(6)}  ${'HD95'.padStart(8)}  cases: both/pred-only/gt-only/both-empty`,
  ];
  for (const n of names) {
    const c = s.perClass[n];
    lines.push(
      `${n.padEnd(wName)}  ${fmt(c.dice, 4).padStart(6)}  ${fmt(c.hd95, 2).padStart(8)}  ${c.rules.both}/${c.rules.predOnly}/${c.rules.gtOnly}/${c.rules.bothEmpty}`,
    );
  }
  lines.push(
    `${'mean'.padEnd(wName)}  ${fmt(s.meanDice, 4).padStart(6)}  ${fmt(s.meanHd95, 2).padStart(8)}`,
  );
  const fired = EMPTY_RULES.filter((k) => r.ruleCounts[k] > 0 && k !== 'both').map(
    (k) => `${RULE_WORDS[k]} ×${r.ruleCounts[k]}`,
  );
  if (fired.length) {
    const meaning =
      r.convention === 'synapse'
        ? 'synapse rule: predicted-only scores Dice 1, HD95 0; ground-truth-only and both-empty score 0, 0; all kept in means'
        : 'monai rule: Dice NaN when the ground truth is empty (skipped in means); HD95 inf when one mask is empty';
    lines.push(`empty-mask rules fired: ${fired.join(', ')} (${meaning})`);
  }
  return lines.join('\n');
}
