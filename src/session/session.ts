/**
 * The headless session: one compiled graph with its weights, a data set, and
 * train / evaluate / predict on them, each run's events told to a typed
 * listener. The editor's worker exposes it over comlink (editor/worker/);
 * anything else that hosts it (a test, another app) drives the same object.
 *
 * Nothing is lost by accident: a recompile keeps every weight whose key and
 * shape survive, a refused graph or weights file changes nothing, a stop
 * keeps the weights, the history and a checkpoint to resume from, and the
 * run is kept in the run store at each checkpoint, on stop and after an
 * evaluation, so a reload with the same graph brings it back.
 */
import { pixelMaps, type PixelMaps } from '../analysis/maps.ts';
import * as tf from '#tfjs';
import { initBackend } from '../backend/init.ts';
import { withRestart } from '../backend/out-of-memory.ts';
import type { BackendInfo, BackendPreference } from '../backend/types.ts';
import type { KernelTable } from '../compile/kernels/types.ts';
import { CompiledModel } from '../compile/model.ts';
import { planGraph, type Plan } from '../compile/plan.ts';
import { loadWeights, saveWeights, weightFingerprint } from '../compile/weights.ts';
import type { Case } from '../data/types.ts';
import type { Catalogue } from '../graph/node-kind.ts';
import type { GraphDoc } from '../graph/types.ts';
import type { Sample2D } from '../train/augment.ts';
import { foreignEngine, type Checkpoint, type TrainSettings } from '../train/checkpoint.ts';
import { evaluateCases, predictVolume } from '../train/evaluate.ts';
import { train } from '../train/loop.ts';
import type { MetricConvention } from '../train/metrics.ts';
import { normaliseVolume } from '../train/samples.ts';
import { SessionError, EXIT_CODES } from './errors.ts';
import {
  archiveId,
  besideKept,
  CURRENT_RUN,
  compileKey,
  matchStoredRun,
  RUN_RECORD_FORMAT,
  type RunRecord,
  type RunStore,
  type RunSummary,
  summariseRun,
} from './run-store.ts';
import { runDetails, type RunDetails } from './run-compare.ts';
import { runFromFolder, runZip, type RunFiles } from './run-zip.ts';
import { isPngCase, predictionDownload } from './prediction-file.ts';
import { recordBytes } from './run-store-quota.ts';
import { panelOverrides, resolveRun, resolveVolumeRun } from './settings.ts';
import { checkLayout, type DataLayout } from './data-layout.ts';
import { volumeInput } from '../train/volume-batches.ts';
import { resizeRecords } from '../data/prepare.ts';
import { runInfo } from './run-info.ts';
import type {
  CompileReply,
  DataInfo,
  EvalResult,
  HistoryPoint,
  ImportReply,
  Preview,
  RestoreReply,
  TrainEventMessage,
  TrainPanelSettings,
  ValidationPoint,
  WeightsSummary,
} from './types.ts';
import { carryWeights, weightsDigest } from './weights-carry.ts';
import { applyWeightsFile, describeWeightsOutcome } from './weights.ts';

/** The splits a session's data set has, by name; each a list of cases (volumes). */
export type SplitName = 'train' | 'val' | 'test';

/** A pixel's maps with the slice they were computed on (normalised, H×W). */
export interface SliceMaps extends PixelMaps {
  index: number;
  slices: number;
  gray: Float32Array;
}

/** A data set as the session takes it: training slices, the cases of each split, and what to say about it. */
export interface SessionData {
  info: DataInfo;
  train: Sample2D[];
  cases: Record<SplitName, Case[]>;
  fingerprint: string;
  /** How the split was made (run.json's data.splitRule), as `mam train` says it of the same data. */
  splitRule: string;
  /** The seed the split was drawn with, where the data were split by one (absent: the run's seed, as `mam train`). */
  splitSeed?: number;
  /** Which graphs it suits (absent: either): a 3D graph trains on the train split's whole volumes. */
  layout?: DataLayout;
}

/** What a run's start says. */
export interface StartReply {
  totalSteps: number;
  resumed: boolean;
  learningRate: number;
  valEvery: number;
}

/** Everything the session tells its listener, typed by `type`. */
export type SessionEvent = TrainEventMessage | { type: 'log'; message: string };

export interface SessionOptions {
  catalogue: Catalogue;
  kernels: KernelTable;
  /** Where the current run is kept across reloads. */
  store: RunStore;
  /** The code's version for run.json (the CLI's "mam-studio 0.1.0"). */
  code?: string;
  onEvent?: (e: SessionEvent) => void;
}

const trainedOrigin = (step: number) => `trained ${step} step${step === 1 ? '' : 's'}`;
const noCarry = () => ({ kept: 0, reinitialised: 0, dropped: 0 });

const busy = (what: string) => new SessionError(what, EXIT_CODES.usage);

export class Session {
  private backend: BackendInfo | undefined;
  private plan: Plan | undefined;
  private model: CompiledModel | undefined;
  private carry = noCarry();
  private origin = 'initialised';
  private data: SessionData | undefined;
  private readonly normalised = new Map<Case, Float32Array>();
  private history: HistoryPoint[] = [];
  private validations: ValidationPoint[] = [];
  /** Steps trained over the session (all runs). */
  private step = 0;
  /** Session step at which the current (or last) run began. */
  private runBase = 0;
  /** The last run's checkpoint, kept in memory so a start can resume it. */
  private checkpoint: Checkpoint | undefined;
  private running: AbortController | undefined;
  /** The graph compiled last: what the weights belong to. */
  private graph: GraphDoc | undefined;
  private settings: TrainPanelSettings | undefined;
  private best: RunRecord['best'];
  private evaluation: EvalResult | undefined;
  /** The record last written to the run store; undefined while there is nothing worth keeping. */
  private stored: RunRecord | undefined;
  private saving: Promise<void> = Promise.resolve();
  /** When the current run began, and the name the user gave it. */
  private createdAt: number | undefined;
  private runName: string | undefined;
  /** What the current run trains on, in words. */
  private dataSource: string | undefined;
  /** The last run's run.json, as `mam train` writes it for the same run (runInfo). */
  private runJson: Record<string, unknown> | undefined;

  constructor(private readonly opts: SessionOptions) {}

  private emit(e: SessionEvent) {
    this.opts.onEvent?.(e);
  }

  /** Sets who hears the session's events (the worker's page, through a comlink proxy). */
  listen(fn: ((e: SessionEvent) => void) | undefined): void {
    this.opts.onEvent = fn;
  }

  private requireModel(): CompiledModel {
    if (!this.model) throw busy('no compiled graph yet');
    return this.model;
  }

  private requireData(): SessionData {
    if (!this.data) throw busy('no data loaded');
    return this.data;
  }

  private summary(): WeightsSummary {
    const m = this.requireModel();
    return {
      tensors: m.weights.size,
      parameters: m.parameterCount,
      ...this.carry,
      digest: weightsDigest(m),
      fingerprint: weightFingerprint(m),
      origin: this.origin,
    };
  }

  /**
   * A checkpoint can be resumed when it belongs to these weights and to the
   * data now loaded (a reload brings the run back before its data folder is
   * opened again), and has steps left.
   */
  private canResume(): boolean {
    const c = this.checkpoint;
    return (
      !!c &&
      !!this.model &&
      !this.resumeRefusal() &&
      c.state.step < c.state.settings.steps &&
      c.state.weightsFingerprint === weightFingerprint(this.model) &&
      c.state.dataFingerprint === this.data?.fingerprint
    );
  }

  /**
   * Why Resume cannot continue the checkpoint, which has steps left, in one line (undefined
   * when nothing refuses it): another engine trained it and drew its randomness its own way.
   */
  private resumeRefusal(): string | undefined {
    const c = this.checkpoint;
    const engine = c && c.state.step < c.state.settings.steps && foreignEngine(c.state);
    if (!engine) return undefined;
    return `This run was trained by ${engine}, whose random draws the editor cannot repeat, so Resume cannot continue it step for step: resume it with python -m mam_torch.train … --resume, or start a new run from its weights here (New run).`;
  }

  /** Whether Resume would continue the last run (see canResume). */
  get resumable(): boolean {
    return this.canResume();
  }

  /** The session as a run record, with these weights (the checkpoint's own bytes when they are the same). */
  private runRecord(weights: Uint8Array): RunRecord {
    const m = this.requireModel();
    const now = Date.now();
    return {
      format: RUN_RECORD_FORMAT,
      version: 1,
      id: CURRENT_RUN,
      ...(this.runName ? { name: this.runName } : {}),
      graph: this.graph!,
      graphKey: compileKey(this.graph!),
      weightsFingerprint: weightFingerprint(m),
      parameters: m.parameterCount,
      settings: this.settings,
      ...(this.dataSource ? { dataSource: this.dataSource } : {}),
      ...(this.runJson ? { run: this.runJson } : {}),
      step: this.step,
      runBase: this.runBase,
      // Copies: the record is written after this returns, and the run may go on meanwhile.
      history: this.history.slice(),
      validations: this.validations.slice(),
      evaluation: this.evaluation,
      origin: this.origin,
      weights,
      checkpoint: this.checkpoint,
      best: this.best,
      createdAt: (this.createdAt ??= now),
      updatedAt: now,
    };
  }

  /** run.json of a run on `d` with `settings`, as `mam train` writes it (the graph as the zip's graph.json). */
  private runJsonOf(d: SessionData, settings: TrainSettings): Record<string, unknown> {
    const plan = this.plan!;
    const vol = volumeInput(plan);
    const [, inH, inW] = plan.input.shape;
    return runInfo({
      graphFile: 'graph.json',
      graph: this.graph!,
      weightsFingerprint: weightFingerprint(this.requireModel()),
      ...(this.opts.code ? { code: this.opts.code } : {}),
      tfjs: tf.version_core,
      ...(this.backend ? { backend: this.backend } : {}),
      data: {
        source: d.info.source,
        fingerprint: d.fingerprint,
        splitRule: d.splitRule,
        splits: d.cases,
        classNames: plan.classNames,
        ...(d.info.note ? { note: d.info.note } : {}),
      },
      settings,
      input: vol
        ? { crop: vol.roi }
        : {
            size: [inH, inW],
            slices: d.train.length,
            resized: resizeRecords(d.train, [inH, inW], settings.resize ?? 'stretch'),
          },
    });
  }

  /**
   * Writes the session to the run store, one write after another. A failed
   * write is reported (a 'persisted' event with the error) and changes
   * nothing else: training goes on and the previous stored run stays.
   */
  private persist(weights: Uint8Array): Promise<void> {
    const record = this.runRecord(weights);
    this.stored = record;
    this.saving = this.saving.then(async () => {
      const t0 = performance.now();
      let error: string | undefined;
      try {
        await this.opts.store.put(record);
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
      const ms = performance.now() - t0;
      this.emit({ type: 'persisted', step: record.step, bytes: recordBytes(record), ms, error });
    });
    return this.saving;
  }

  /** Starts (or switches) the backend; the weights travel across as bytes. */
  async switchBackend(pref: BackendPreference): Promise<BackendInfo> {
    if (this.running) throw busy('training is running; stop it before changing the backend');
    // Tensors belong to the backend that made them.
    const bytes = this.model ? saveWeights(this.model) : undefined;
    this.model?.dispose();
    this.model = undefined;
    this.backend = await initBackend(pref);
    this.normalised.clear();
    if (this.plan) {
      this.model = CompiledModel.create(this.plan);
      if (bytes) {
        const r = loadWeights(this.model, bytes, 'the weights before the backend switch');
        if (!r.ok) throw new Error(r.message);
      }
    }
    return this.backend;
  }

  /** Compiles a graph, carrying every weight whose key and shape survive; a graph with errors changes nothing. */
  compile(doc: GraphDoc): CompileReply {
    if (this.running) throw busy('training is running; the graph is compiled again when it stops');
    const r = planGraph(doc, this.opts.catalogue, this.opts.kernels);
    if (!r.ok) return { ok: false, errors: r.errors, weightsKept: !!this.model };
    const next = CompiledModel.create(r.plan, { seed: doc.metadata?.training?.seed ?? 0 });
    const prev = this.model;
    if (prev) {
      this.carry = carryWeights(prev, next);
      prev.dispose();
    } else this.carry = { kept: 0, reinitialised: next.weights.size, dropped: 0 };
    this.plan = r.plan;
    this.model = next;
    this.graph = doc;
    // The stored run follows the graph: its weights are now the carried ones.
    if (this.stored) void this.persist(saveWeights(next));
    return {
      ok: true,
      weights: this.summary(),
      classNames: r.plan.classNames,
      inputShape: r.plan.input.shape,
      canResume: this.canResume(),
    };
  }

  setData(data: SessionData): DataInfo {
    this.data = data;
    this.normalised.clear();
    return data.info;
  }

  get dataInfo(): DataInfo | undefined {
    return this.data?.info;
  }

  private checkClasses(plan: Plan, d: SessionData) {
    const problem = d.info.folder?.errors[0];
    if (problem) {
      const more = d.info.folder!.errors.length - 1;
      throw new SessionError(
        `${problem.message}${more ? ` (and ${more} more problem${more > 1 ? 's' : ''} in the data panel)` : ''}`,
        EXIT_CODES.badData,
      );
    }
    const want = d.info.classNames.length;
    if (plan.classNames.length !== want) {
      throw new SessionError(
        `the graph outputs ${plan.classNames.length} classes (${plan.classNames.join(', ')}) but the data has ${want} (${d.info.classNames.join(', ')}): set the Segmentation head's classes to ${want}`,
        EXIT_CODES.labelRange,
      );
    }
    checkLayout(plan, d.layout, d.info.source);
  }

  /** Starts a run (or resumes the last one) and returns at once; events tell its progress and end. */
  train(p: TrainPanelSettings, resume: boolean): StartReply {
    if (this.running) throw busy('training is already running');
    const model = this.requireModel();
    const plan = this.plan!;
    const d = this.requireData();
    this.checkClasses(plan, d);
    const vol = volumeInput(plan);
    const meta = this.graph?.metadata?.training;
    const overrides = {
      ...panelOverrides(p, this.graph),
      ...(d.splitSeed !== undefined ? { splitSeed: d.splitSeed } : {}),
    };
    const settings = (
      vol
        ? resolveVolumeRun(meta, overrides, d.cases.train.length, vol.roi)
        : resolveRun(meta, overrides, d.train.length)
    ).settings;
    const resumeFrom = resume && this.canResume() ? this.checkpoint : undefined;
    if (!resumeFrom) {
      this.runBase = this.step;
      this.best = undefined; // the best of this run, not of an earlier one
      // The run kept before stays in the runs list; this one is kept as the current run.
      void this.keepCurrentAside().catch(() => {});
      this.createdAt = undefined;
      this.runName = undefined;
    }
    this.settings = p;
    this.dataSource = d.info.source;
    this.runJson = this.runJsonOf(d, resumeFrom?.state.settings ?? settings);
    const controller = new AbortController();
    this.running = controller;
    const total = resumeFrom ? resumeFrom.state.settings.steps : settings.steps;
    void train({
      model,
      data: {
        classNames: plan.classNames,
        train: d.train,
        ...(vol ? { volumes: d.cases.train } : {}),
        val: d.cases.val,
        fingerprint: d.fingerprint,
      },
      settings,
      signal: controller.signal,
      resume: resumeFrom,
      checkpoint: {
        save: async (c) => {
          this.checkpoint = c;
          this.origin = trainedOrigin(this.runBase + c.state.step);
          await this.persist(c.weights);
          return 'this browser';
        },
        saveBest: async (weights, s) => {
          // Written with the checkpoint that follows a validation.
          this.best = { step: this.runBase + s.step, meanDice: s.best?.meanDice ?? NaN, weights };
          return 'this browser';
        },
      },
      onEvent: (e) => {
        if (e.type === 'step') {
          this.step = this.runBase + e.step;
          this.history.push({ step: this.step, loss: e.loss, lr: e.lr });
          this.emit({
            type: 'step',
            step: this.step,
            runStep: e.step,
            totalSteps: e.totalSteps,
            epoch: e.epoch,
            loss: e.loss,
            lr: e.lr,
            imagesPerSec: e.imagesPerSec,
            etaSec: e.etaSec,
            numTensors: tf.memory().numTensors,
          });
        } else if (e.type === 'validation') {
          const point = {
            step: this.runBase + e.step,
            meanDice: e.meanDice,
            convention: e.convention,
          };
          this.validations.push(point);
          const perClass = Object.fromEntries(
            Object.entries(e.perClass).map(([k, v]) => [k, v.dice]),
          );
          this.emit({ type: 'validation', point, perClass });
        }
      },
    }).then(
      (r) => {
        this.running = undefined;
        this.origin = trainedOrigin(this.step);
        this.emit({
          type: 'done',
          reason: r.reason,
          step: this.step,
          weights: this.summary(),
          canResume: this.canResume(),
        });
      },
      (err: unknown) => {
        this.running = undefined;
        this.emit({
          type: 'done',
          reason: 'failed',
          // the worker lives on after a failed run: a damaged wasm heap needs a fresh page
          message: withRestart(
            err,
            err instanceof Error ? err.message : String(err),
            'reload the page before training again; the run saved so far is kept',
          ),
          step: this.step,
          weights: this.summary(),
          canResume: this.canResume(),
        });
      },
    );
    return {
      totalSteps: total,
      resumed: !!resumeFrom,
      learningRate: settings.learningRate,
      valEvery: settings.valEvery,
    };
  }

  /** Asks the run to stop after its current step; false when none runs. */
  stop(): boolean {
    this.running?.abort();
    return !!this.running;
  }

  private normalisedCase(c: Case): Float32Array {
    let v = this.normalised.get(c);
    if (!v) {
      v = normaliseVolume(c.channels[0], 'auto');
      this.normalised.set(c, v);
    }
    return v;
  }

  /** The cases of a split, refusing an empty one by name. */
  private splitCases(split: SplitName): Case[] {
    const cases = this.requireData().cases[split];
    if (cases.length === 0)
      throw new SessionError(`the ${split} split has no cases`, EXIT_CODES.emptyData);
    return cases;
  }

  /**
   * One slice of a split, normalised like its whole volume: `index` counts
   * the slices of the split's cases one after another (clamped), `k` is the
   * slice within case `c`.
   */
  private sliceOf(split: SplitName, index: number) {
    const cases = this.splitCases(split);
    const slices = cases.reduce((a, c) => a + (c.channels[0].dims[2] ?? 1), 0);
    let k = Math.max(0, Math.min(slices - 1, Math.round(index)));
    const at = k;
    let c = cases[0];
    for (const x of cases) {
      c = x;
      const n = x.channels[0].dims[2] ?? 1;
      if (k < n) break;
      k -= n;
    }
    const [w, h] = c.channels[0].dims;
    const image = this.normalisedCase(c).slice(k * w * h, (k + 1) * w * h);
    return { c, k, at, slices, w, h, image };
  }

  /**
   * The prediction of one slice of a split, with its image and label; `index`
   * counts the slices of the split's cases one after another.
   */
  async predict(split: SplitName, index: number): Promise<Preview> {
    const model = this.requireModel();
    const { c, k, at, slices, w, h, image } = this.sliceOf(split, index);
    // One slice as a one-slice case, already normalised like its whole volume.
    const one: Case = {
      id: `${c.id}:${k}`,
      channels: [{ ...c.channels[0], data: image, dims: [w, h, 1], datatype: 'float32' }],
      label: null,
      files: [],
    };
    const pred = await predictVolume(model, one, { normalisation: 'none', batchSize: 1 });
    return {
      split,
      index: at,
      slices,
      caseId: c.id,
      width: w,
      height: h,
      image,
      label: c.label!.data.slice(k * w * h, (k + 1) * w * h),
      pred,
      classNames: this.plan!.classNames,
      step: this.step,
      predictionFormat: isPngCase(c) ? 'png' : 'nii.gz',
    };
  }

  /**
   * One case of a split predicted whole and written as `mam eval` writes it:
   * NIfTI on the case's own grid, voxel order and affine; a PNG mask for a
   * PNG case (prediction-file.ts).
   */
  async predictionFile(
    split: SplitName,
    caseId: string,
  ): Promise<{ name: string; bytes: Uint8Array }> {
    if (this.running) throw busy('training is running: stop it (or let it finish) to predict');
    const model = this.requireModel();
    const c = this.splitCases(split).find((x) => x.id === caseId);
    if (!c) throw new SessionError(`no case ${caseId} in the ${split} split`, EXIT_CODES.usage);
    const labels = await predictVolume(model, c, {
      normalisation: 'auto',
      resize: this.checkpoint?.state.settings.resize,
      batchSize: 4,
    });
    return predictionDownload(c, labels);
  }

  /** Dice and HD95 per class on one split, kept with the run. */
  async evaluate(split: SplitName, convention: MetricConvention): Promise<EvalResult> {
    if (this.running) throw busy('training is running: stop it (or let it finish) to evaluate');
    const model = this.requireModel();
    const d = this.requireData();
    this.checkClasses(this.plan!, d);
    const t0 = performance.now();
    const cases = this.splitCases(split);
    const report = await evaluateCases(model, cases, {
      classNames: this.plan!.classNames,
      convention,
      normalisation: 'auto',
      batchSize: 8,
    });
    const scores = report.cases[0].perClass;
    const result: EvalResult = {
      split,
      convention: report.convention,
      hd95Unit: report.hd95Unit,
      perClass: Object.entries(report.summary.perClass).map(([name, c]) => ({
        name,
        dice: c.dice,
        hd95: c.hd95,
        rule: scores[name].rule,
      })),
      meanDice: report.summary.meanDice,
      meanHd95: report.summary.meanHd95,
      classesPresent: d.info.splits[split].classesPresent,
      note: d.info.note,
      step: this.step,
      seconds: (performance.now() - t0) / 1000,
    };
    this.evaluation = result;
    if (this.stored) void this.persist(this.stored.weights);
    return result;
  }

  /** One pixel's attention and memory maps (src/analysis/maps.ts) on a slice of a split, with the slice. */
  pixelMaps(split: SplitName, index: number, pixel: [number, number]): SliceMaps {
    if (this.running)
      throw busy('training is running: stop it (or let it finish) to map attention');
    const model = this.requireModel();
    const { at, slices, w, h, image } = this.sliceOf(split, index);
    const [, H, W, C] = this.plan!.input.shape;
    if (h !== H || w !== W)
      throw busy(`the ${split} slices are ${h}×${w}; the graph takes ${H}×${W}`);
    const x = tf.tidy(() => tf.tile(tf.tensor4d(image, [1, H, W, 1]), [1, 1, 1, C]) as tf.Tensor4D);
    try {
      return { ...pixelMaps(model, x, pixel), index: at, slices, gray: image };
    } finally {
      x.dispose();
    }
  }

  /** A store operation after the writes before it; a failure is the caller's (the chain goes on). */
  private queue<T>(op: () => Promise<T>): Promise<T> {
    const done = this.saving.then(op);
    this.saving = done.then(
      () => {},
      () => {},
    );
    return done;
  }

  /**
   * The stored current run, when it holds training, copied under its own id
   * (archiveId) before another run takes its place (`thenRemove`: and the
   * current run removed). Written whole before anything replaces it, so it
   * is never lost in between; a failed copy removes nothing.
   */
  private keepCurrentAside(thenRemove = false): Promise<void> {
    return this.queue(async () => {
      const r = await this.opts.store.get(CURRENT_RUN).catch(() => undefined);
      if (r && r.step > r.runBase) {
        try {
          await this.opts.store.put({ ...r, id: archiveId(r) });
        } catch (e) {
          const error = `the run before could not be kept in the runs list: ${(e as Error).message}`;
          this.emit({ type: 'persisted', step: r.step, bytes: 0, ms: 0, error });
          throw e;
        }
      }
      // In the same queued step, so no listing sees the current run half removed.
      if (thenRemove) await this.opts.store.delete(CURRENT_RUN);
    });
  }

  /** Every run kept, newest first; the current run once (not also under the id it is kept aside as). */
  async listRuns(): Promise<RunSummary[]> {
    const all = await this.queue(() => this.opts.store.list());
    const current = all.find((r) => r.current && !r.problem);
    const twin = current && archiveId(current);
    return all.filter((r) => r.id !== twin).sort((a, b) => b.createdAt - a.createdAt);
  }

  /** A kept run, or a SessionError naming the id. */
  private async keptRun(id: string): Promise<RunRecord> {
    const r = await this.queue(() => this.opts.store.get(id));
    if (!r) throw new SessionError(`no run ${id} is kept in this browser`, EXIT_CODES.usage);
    return r;
  }

  /** Gives a kept run a name (the current run keeps it at its next saves). */
  async renameRun(id: string, name: string): Promise<void> {
    const clean = name.trim();
    if (!clean) throw new SessionError('a run needs a name', EXIT_CODES.usage);
    const r = await this.keptRun(id);
    if (id === CURRENT_RUN && this.stored) this.runName = clean;
    await this.queue(() => this.opts.store.put({ ...r, name: clean }));
  }

  /** Removes a kept run; the one training now cannot be removed. */
  async deleteRun(id: string): Promise<void> {
    if (this.running && id === CURRENT_RUN)
      throw busy('this run is training: stop it before deleting it');
    await this.queue(() => this.opts.store.delete(id));
    if (id === CURRENT_RUN) {
      this.stored = undefined;
      this.createdAt = undefined;
      this.runName = undefined;
    }
  }

  /** Kept runs as the compare view shows them (run-compare.ts), in the order asked. */
  async compareRuns(ids: string[]): Promise<RunDetails[]> {
    if (ids.length < 2 || ids.length > 6)
      throw new SessionError(`compare 2 to 6 runs (${ids.length} chosen)`, EXIT_CODES.usage);
    const out: RunDetails[] = [];
    for (const id of ids) out.push(runDetails(await this.keptRun(id)));
    return out;
  }

  /** A kept run as a zip of `mam train`'s run folder (run-zip.ts). */
  async exportRun(id: string): Promise<{ name: string; bytes: Uint8Array }> {
    return runZip(await this.keptRun(id));
  }

  /**
   * A run folder (`mam train`'s, mam_torch's or an exported zip's files) kept
   * as a run of the list, beside any kept (a second import of one run is a second line,
   * named "… (2)"); refused with a message naming the file, keeping nothing.
   */
  async importRun(source: string, files: RunFiles): Promise<RunSummary> {
    const m = this.model;
    const open =
      m && this.graph ? { doc: this.graph, weightsFingerprint: weightFingerprint(m) } : undefined;
    const read = runFromFolder(files, { source, catalogue: this.opts.catalogue, open });
    // Listed and written in one queued step, so two imports of one run cannot take the same id.
    const r = await this.queue(async () => {
      const kept = besideKept(read, await this.opts.store.list());
      await this.opts.store.put(kept);
      return kept;
    });
    return summariseRun(r);
  }

  /**
   * Makes a kept run the current one (the current run is kept aside first)
   * and loads it when its graph is the one compiled; otherwise answers its
   * graph, and the next compile of that graph restores it (`restore`).
   */
  async openRun(id: string): Promise<{ graph: GraphDoc; reply: RestoreReply }> {
    if (this.running) throw busy('training is running: stop it before opening another run');
    const r = await this.keptRun(id);
    if (id !== CURRENT_RUN) {
      await this.keepCurrentAside();
      await this.queue(() => this.opts.store.put({ ...r, id: CURRENT_RUN }));
      await this.queue(() => this.opts.store.delete(id));
    }
    // The session lets go of its own run (kept in the store), so restore takes the opened one.
    this.forgetRun();
    const sameGraph = !!this.graph && compileKey(this.graph) === compileKey(r.graph);
    const reply: RestoreReply = sameGraph
      ? await this.restore()
      : {
          status: 'not-restored',
          reason: 'other-graph',
          graphKey: compileKey(r.graph),
          message: 'the run’s graph is opened',
        };
    return { graph: r.graph, reply };
  }

  /** Frees the model's tensors (the session is not used afterwards). */
  dispose(): void {
    this.running?.abort();
    this.model?.dispose();
    this.model = undefined;
    this.plan = undefined;
  }

  /** The weights as our safetensors, with the step and origin in the metadata. */
  exportWeights(): Uint8Array {
    return saveWeights(this.requireModel(), {
      metadata: { step: String(this.step), origin: this.origin },
    });
  }

  /** Weights from a file by the session's weights policy (a partial state dict is taken); a refusal changes nothing. */
  importWeights(name: string, bytes: Uint8Array): ImportReply {
    if (this.running)
      return { ok: false, message: 'training is running: stop it before importing weights' };
    const model = this.requireModel();
    let message: string;
    try {
      // A state dict that fills part of the graph is taken: the rest keeps the current weights.
      message = describeWeightsOutcome(
        applyWeightsFile(model, bytes, name, { allowPartial: true }),
      );
    } catch (e) {
      if (e instanceof SessionError) return { ok: false, message: `${e.message}; nothing changed` };
      throw e;
    }
    this.checkpoint = undefined; // the next run starts from these weights
    this.origin = `imported ${name}`;
    this.carry = noCarry();
    void this.persist(saveWeights(model));
    return { ok: true, message, weights: this.summary() };
  }

  /** Fresh weights and no history; the stored run goes only when it is this session's. */
  reinitialise(): WeightsSummary {
    if (this.running) throw busy('training is running: stop it first');
    if (!this.plan) throw busy('no compiled graph yet');
    this.model?.dispose();
    // The graph's seed, as its first compile: re-initialised weights are the ones a new page starts from.
    this.model = CompiledModel.create(this.plan, {
      seed: this.graph?.metadata?.training?.seed ?? 0,
    });
    this.carry = { kept: 0, reinitialised: this.model.weights.size, dropped: 0 };
    // This session's stored run goes to the runs list; a stored run of another graph stays current.
    if (this.stored) void this.keepCurrentAside(true).catch(() => {});
    this.forgetRun();
    return this.summary();
  }

  /** No history, checkpoint or stored run: what a fresh or newly opened run starts from (the weights stay). */
  private forgetRun(): void {
    this.origin = 'initialised';
    this.checkpoint = undefined;
    this.history = [];
    this.validations = [];
    this.step = 0;
    this.runBase = 0;
    this.best = undefined;
    this.evaluation = undefined;
    this.stored = undefined;
    this.createdAt = undefined;
    this.runName = undefined;
    this.dataSource = undefined;
    this.runJson = undefined;
  }

  /** The run stored for the graph now compiled, loaded (or why not). */
  async restore(): Promise<RestoreReply> {
    if (this.running) throw busy('training is running');
    const model = this.requireModel();
    // Never over what this session trained or imported itself.
    if (this.stored || this.history.length || this.origin !== 'initialised')
      return { status: 'none' };
    let r: RunRecord | undefined;
    try {
      r = await this.opts.store.get(CURRENT_RUN);
    } catch (e) {
      return {
        status: 'not-restored',
        reason: 'unreadable',
        message: `The run stored in this browser was not loaded: ${(e as Error).message}. It stays stored until a run or an import replaces it.`,
      };
    }
    if (!r) return { status: 'none' };
    const match = matchStoredRun(r, {
      graphKey: compileKey(this.graph!),
      weightsFingerprint: weightFingerprint(model),
      parameters: model.parameterCount,
    });
    if (!match.ok)
      return {
        status: 'not-restored',
        reason: 'other-graph',
        message: match.message,
        graphKey: compileKey(r.graph),
      };
    const loaded = loadWeights(model, r.weights, 'the stored run');
    if (!loaded.ok)
      return {
        status: 'not-restored',
        reason: 'unreadable',
        message: `${loaded.message}; nothing was loaded`,
      };
    this.history = r.history;
    this.validations = r.validations;
    this.step = r.step;
    this.runBase = r.runBase;
    this.checkpoint = r.checkpoint;
    this.best = r.best;
    this.evaluation = r.evaluation;
    this.origin = r.origin;
    this.settings = r.settings;
    this.carry = noCarry();
    this.stored = r;
    this.createdAt = r.createdAt;
    this.runName = r.name;
    this.dataSource = r.dataSource;
    this.runJson = r.run;
    const c = r.checkpoint?.state;
    return {
      status: 'restored',
      weights: this.summary(),
      step: r.step,
      history: r.history,
      validations: r.validations,
      evaluation: r.evaluation,
      settings: r.settings,
      run: c && { runStep: c.step, totalSteps: c.settings.steps, epoch: c.epoch },
      canResume: this.canResume(),
      resumeRefusal: this.resumeRefusal(),
      dataSource: r.dataSource,
      savedAt: r.updatedAt,
    };
  }
}
