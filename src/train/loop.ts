/**
 * The training loop: seeded batches over 2D slices, the paper's loss and
 * optimizer, drop-path on, validation every N steps (mean foreground Dice
 * under a named convention), best weights, early stopping, checkpoints that
 * resume exactly, and an AbortSignal that stops between steps with a valid
 * checkpoint. Runs wherever tfjs runs (Node, browser, worker): the store
 * decides where bytes go, events say what happens.
 */
import * as tf from '#tfjs';
import { hashString, rng } from '../compile/init.ts';
import type { CompiledModel } from '../compile/model.ts';
import { loadWeights, saveWeights, weightFingerprint } from '../compile/weights.ts';
import type { Case } from '../data/types.ts';
import { augmentSample, resizeSample, type Sample2D } from './augment.ts';
import {
  TRAIN_STATE_FORMAT,
  type Checkpoint,
  type CheckpointStore,
  type HistoryRow,
  type TrainSettings,
  type TrainState,
  type ValidationRecord,
} from './checkpoint.ts';
import { evaluateCases, type EvaluationOptions } from './evaluate.ts';
import { segmentationLoss } from './loss.ts';
import { diceCeLoss } from './loss-volume.ts';
import { installFastMatMulGradient } from './matmul-grad.ts';
import { stepOutOfMemory, wasmDamaged, type StepPhase } from '../backend/out-of-memory.ts';
import { decodeOptimizerState, encodeOptimizerState, Optimizer, polyLr } from './optim.ts';
import { fitChannels } from './samples.ts';
import { batchPositions, DEFAULT_LOSS, stepsPerEpoch } from './rules.ts';
import { volumeBatch, volumeInput, volumeTrainSet } from './volume-batches.ts';

export interface TrainingData {
  classNames: string[];
  /** Training slices (any size; resized to the input as the reference does); a 3D graph takes `volumes`. */
  train: Sample2D[];
  /** Training volumes, for a graph whose input has a depth axis: random crops of its input's size. */
  volumes?: Case[];
  /** Validation volumes, evaluated slice-wise (a 3D graph: by sliding window). */
  val: Case[];
  fingerprint: string;
}

export type TrainEvent =
  | {
      type: 'step';
      step: number;
      totalSteps: number;
      epoch: number;
      loss: number;
      ce: number;
      dice: number;
      lr: number;
      imagesPerSec: number;
      etaSec: number;
    }
  | ({
      type: 'validation';
      epoch: number;
      improved: boolean;
      best: { step: number; meanDice: number } | null;
    } & ValidationRecord)
  | { type: 'checkpoint'; step: number; where: string }
  | {
      type: 'done';
      step: number;
      reason: TrainResult['reason'];
      best: { step: number; meanDice: number } | null;
    };

export interface TrainOptions {
  model: CompiledModel;
  data: TrainingData;
  /** Ignored when resuming: the checkpoint's settings apply. */
  settings: TrainSettings;
  signal?: AbortSignal;
  onEvent?: (e: TrainEvent) => void;
  checkpoint?: CheckpointStore;
  resume?: Checkpoint;
}

export interface TrainResult {
  reason: 'completed' | 'aborted' | 'early-stop' | 'diverged';
  step: number;
  state: TrainState;
}

/** Steps per epoch: every slice once, the last batch partial (the shuffle differs per epoch). */
export { stepsPerEpoch };

const seeded = (seed: number, purpose: string) => rng(hashString(purpose, seed >>> 0));

function permutation(n: number, seed: number, epoch: number): Int32Array {
  const p = Int32Array.from({ length: n }, (_, i) => i);
  const r = seeded(seed, `shuffle:${epoch}`);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/**
 * One turn of the event loop between steps (an abort, the host's messages and
 * progress get theirs), without a timer: Node runs a `setTimeout(0)` after
 * ≥1 ms, and browsers clamp a timer set from a timer's task (as each step's
 * continues the previous yield's) to ≥4 ms after five levels, time a step
 * of the demo (~150 ms on wasm) would spend idle.
 */
function yieldToEventLoop(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((r) => setImmediate(r));
  return new Promise((r) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      r();
    };
    channel.port2.postMessage(null);
  });
}

/** How the loop evaluates its validation cases under settings `s` (a bench evaluating as it does uses it too). */
export function validationOptions(classNames: string[], s: TrainSettings): EvaluationOptions {
  return {
    classNames,
    convention: s.convention,
    normalisation: s.normalisation,
    resize: s.resize,
    // a 3D graph: its validation windows (older runs: overlap 0.5)
    batchSize: s.validationWindow?.batchSize ?? Math.max(s.batchSize, 4),
    ...(s.validationWindow ? { overlap: s.validationWindow.overlap } : {}),
  };
}

/**
 * The gradient tape of a backward pass that threw: tfjs frees the tensors the
 * forward pass saved for it only when the backward pass ends well (they are
 * kept, outside any tidy), so they are freed here.
 */
function dropFailedTape(): void {
  const state = tf.engine().state;
  if (!state.activeTape || state.gradientDepth !== 0) return;
  for (const node of state.activeTape) tf.dispose(node.saved ?? []);
  state.activeTape = null as unknown as typeof state.activeTape;
}

export async function train(o: TrainOptions): Promise<TrainResult> {
  installFastMatMulGradient();
  const { model, data } = o;
  const emit = o.onEvent ?? (() => {});
  const vol = volumeInput(model.plan);
  const inShape = model.plan.input.shape;
  const [, H, W, C] = inShape;
  const samples = vol ? [] : data.train.map((s) => fitChannels(s, C));
  if (!vol && samples.length === 0) throw new Error('no training slices');
  if (vol && !data.volumes?.length) throw new Error('no training volumes');
  const params = model.trainedByKey;
  const fingerprint = weightFingerprint(model);

  let state: TrainState;
  if (o.resume) {
    const r = loadWeights(model, o.resume.weights, 'the checkpoint');
    if (!r.ok) throw new Error(r.message);
    state = structuredClone(o.resume.state);
  } else {
    state = {
      format: TRAIN_STATE_FORMAT,
      version: 1,
      step: 0,
      epoch: 0,
      settings: structuredClone(o.settings),
      rng: { seed: o.settings.seed, scheme: 'fnv1a(seed, purpose:step) → mulberry32' },
      best: null,
      validationsSinceBest: 0,
      lastValidation: null,
      history: [],
      elapsedSec: 0,
      weightsFingerprint: fingerprint,
      dataFingerprint: data.fingerprint,
    };
  }
  const s = state.settings;
  /** Stored with the weights, so evaluation resizes as training did. */
  const resizeRule = s.resize ?? 'stretch';
  const lossWeights = s.loss ?? DEFAULT_LOSS;
  const volumes = vol && volumeTrainSet(data.volumes!, s.normalisation, vol.roi, vol.channels);
  const optimizer = new Optimizer(s.optimizer, params);
  let damaged = false;
  try {
    if (o.resume) optimizer.restore(decodeOptimizerState(o.resume.optimizer));
    return await run();
  } catch (e) {
    damaged = wasmDamaged(e);
    throw e;
  } finally {
    // after a trap the heap may be damaged: freeing the optimizer's state there
    // could throw in its turn and hide the one line
    if (!damaged) optimizer.dispose();
  }

  async function saveCheckpoint(): Promise<void> {
    if (!o.checkpoint) return;
    const c: Checkpoint = {
      weights: saveWeights(model, { metadata: { step: String(state.step), resize: resizeRule } }),
      optimizer: encodeOptimizerState(await optimizer.snapshot()),
      state: structuredClone(state),
    };
    const where = await o.checkpoint.save(c);
    emit({ type: 'checkpoint', step: state.step, where });
  }

  async function validate(epoch: number): Promise<boolean> {
    if (data.val.length === 0) return false;
    const report = await evaluateCases(model, data.val, validationOptions(data.classNames, s));
    const perClass: ValidationRecord['perClass'] = {};
    for (const [n, c] of Object.entries(report.summary.perClass))
      perClass[n] = { dice: c.dice, hd95: c.hd95 };
    const rec: ValidationRecord = {
      step: state.step,
      convention: report.convention,
      meanDice: report.summary.meanDice,
      meanHd95: report.summary.meanHd95,
      hd95Unit: report.hd95Unit,
      perClass,
    };
    const improved = state.best === null || rec.meanDice > state.best.meanDice + 1e-6;
    if (improved) {
      state.best = { step: state.step, meanDice: rec.meanDice };
      state.validationsSinceBest = 0;
      if (o.checkpoint?.saveBest)
        await o.checkpoint.saveBest(
          saveWeights(model, {
            metadata: {
              step: String(state.step),
              meanDice: String(rec.meanDice),
              resize: resizeRule,
            },
          }),
          state,
        );
    } else state.validationsSinceBest++;
    state.lastValidation = rec;
    const row = state.history[state.history.length - 1];
    if (row && row.step === state.step) row.val = rec;
    emit({ type: 'validation', epoch, improved, best: state.best, ...rec });
    return s.patience > 0 && state.validationsSinceBest >= s.patience;
  }

  /**
   * Step t's images and labels: B slices of the shuffled set (fewer in an
   * epoch's last step when B does not divide them), or B crops of one shuffled volume.
   */
  function batchOf(t: number, perm: Int32Array, B: number) {
    const n = perm.length;
    if (volumes)
      return {
        ...volumeBatch(volumes, perm[t % n], B, seeded(s.seed, `crop:${t}`), {
          specs: s.augment ? (s.volumeAugment ?? []) : [],
          rand: (j) => seeded(s.seed, `augment:${t}:${j}`),
        }),
        b: B,
        volume: data.volumes![perm[t % n]].id,
      };
    const [start, end] = batchPositions(t, n, B);
    const b = end - start;
    const x = new Float32Array(b * H * W * C);
    const y = new Int32Array(b * H * W);
    for (let j = 0; j < b; j++) {
      const src = samples[perm[start + j]];
      const smp = s.augment
        ? augmentSample(src, seeded(s.seed, `augment:${t}:${j}`), H, W, s.resize)
        : resizeSample(src, H, W, s.resize);
      x.set(smp.image, j * H * W * C);
      y.set(smp.label, j * H * W);
    }
    return { x, y, b, volume: undefined };
  }

  async function run(): Promise<TrainResult> {
    // volumes: one volume per step, B crops from it
    const n = volumes ? volumes.volumes.length : samples.length;
    const B = volumes ? s.batchSize : Math.min(s.batchSize, n);
    const spe = volumes ? n : stepsPerEpoch(n, B);
    let perm: Int32Array | null = null;
    let permEpoch = -1;
    let secPerStep = 0;
    let secPerValidation = 0;
    let savedAt = o.resume ? state.step : -1;
    const finish = async (reason: TrainResult['reason']): Promise<TrainResult> => {
      if (savedAt !== state.step && reason !== 'diverged') await saveCheckpoint();
      emit({ type: 'done', step: state.step, reason, best: state.best });
      return { reason, step: state.step, state };
    };

    while (state.step < s.steps) {
      await yieldToEventLoop();
      if (o.signal?.aborted) return finish('aborted');
      const t = state.step;
      const epoch = Math.floor(t / spe);
      if (permEpoch !== epoch) {
        perm = permutation(n, s.seed, epoch);
        permEpoch = epoch;
      }
      const { x, y, b, volume } = batchOf(t, perm!, B);
      const lr = s.schedule === 'poly' ? polyLr(s.learningRate, t, s.steps) : s.learningRate;
      const t0 = performance.now();
      // where a step is when no node's forward pass names itself
      let phase: StepPhase = 'backward';
      // the loss's parts, kept out of the step's tidy for its result
      let ceT: tf.Scalar | undefined;
      let diceT: tf.Scalar | undefined;
      const step = () =>
        tf.tidy(() => {
          // a volume batch is [B, D, H, W, C]: the model's forward is rank-generic (it checks the plan's input)
          const xs = tf.tensor(x, [b, ...inShape.slice(1)]);
          const ys = tf.tensor(y, [b, ...inShape.slice(1, -1)], 'int32');
          const { value, grads } = tf.variableGrads(() => {
            const { logits } = model.forward(xs as tf.Tensor4D, {
              training: true,
              seed: hashString(`drop-path:${t}`, s.seed >>> 0),
            });
            const parts = volumes
              ? diceCeLoss(logits, ys, lossWeights)
              : segmentationLoss(logits, ys, {
                  ceWeight: lossWeights.ce,
                  diceWeight: lossWeights.dice,
                });
            ceT = tf.keep(parts.ce);
            diceT = tf.keep(parts.dice);
            return parts.loss;
          }, model.variables);
          phase = 'optimizer';
          const byKey: Record<string, tf.Tensor> = {};
          for (const w of model.weights.values())
            if (grads[w.variable.name]) byKey[w.key] = grads[w.variable.name];
          optimizer.apply(byKey, lr);
          return tf.stack([value, ceT!, diceT!]);
        });
      let values: tf.Tensor;
      try {
        values = step();
      } catch (e) {
        // a failed step's tensors go, unless the heap may be damaged (freeing could trap)
        if (!wasmDamaged(e)) {
          dropFailedTape();
          tf.dispose([ceT, diceT].filter((v) => v !== undefined));
        }
        throw stepOutOfMemory(e, b, inShape, phase);
      }
      ceT!.dispose();
      diceT!.dispose();
      const [loss, ce, dice] = Array.from(await values.data());
      values.dispose();
      const dt = (performance.now() - t0) / 1000;
      if (!Number.isFinite(loss)) {
        emit({ type: 'done', step: state.step, reason: 'diverged', best: state.best });
        return { reason: 'diverged', step: state.step, state };
      }
      state.step = t + 1;
      state.epoch = Math.floor(state.step / spe);
      state.elapsedSec += dt;
      secPerStep = secPerStep === 0 ? dt : 0.8 * secPerStep + 0.2 * dt;
      const row: HistoryRow = {
        step: state.step,
        epoch,
        loss,
        ce,
        dice,
        lr,
        elapsedSec: state.elapsedSec,
        ...(volume !== undefined ? { volume, crops: b } : {}),
      };
      state.history.push(row);
      const remaining = s.steps - state.step;
      const valsLeft =
        s.valEvery > 0 ? Math.floor(s.steps / s.valEvery) - Math.floor(state.step / s.valEvery) : 1;
      emit({
        type: 'step',
        step: state.step,
        totalSteps: s.steps,
        epoch,
        loss,
        ce,
        dice,
        lr,
        imagesPerSec: B / secPerStep,
        etaSec: remaining * secPerStep + valsLeft * secPerValidation,
      });

      const last = state.step === s.steps;
      const validateNow = (s.valEvery > 0 && state.step % s.valEvery === 0) || last;
      let stop = false;
      if (validateNow) {
        const v0 = performance.now();
        try {
          stop = await validate(epoch);
        } catch (e) {
          throw stepOutOfMemory(e, validationOptions([], s).batchSize!, inShape, 'validation');
        }
        const vd = (performance.now() - v0) / 1000;
        state.elapsedSec += vd;
        secPerValidation = vd;
      }
      const checkpointNow =
        s.checkpointEvery > 0 ? state.step % s.checkpointEvery === 0 : validateNow;
      if (checkpointNow || last || stop) {
        await saveCheckpoint();
        savedAt = state.step;
      }
      if (stop) return finish('early-stop');
    }
    return finish('completed');
  }
}
