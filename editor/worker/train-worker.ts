/**
 * The training worker: owns the tfjs backend, the compiled model, the data
 * and the loop, so the editor never freezes. Requests come with an id and get
 * one reply each; a training run streams step/validation/done events. Nothing
 * here is lost by accident: a recompile keeps every weight whose key and shape
 * survive, a refused graph or a refused weights file changes nothing, and a
 * stop keeps the weights, the history and a checkpoint to resume from.
 */
import * as tf from '#tfjs';
import { initBackend } from '../../src/backend/init.ts';
import type { BackendInfo } from '../../src/backend/types.ts';
import { CompiledModel } from '../../src/compile/model.ts';
import { planGraph, type Plan } from '../../src/compile/plan.ts';
import { loadWeights, saveWeights, weightFingerprint } from '../../src/compile/weights.ts';
import { SessionError } from '../../src/session/errors.ts';
import { applyWeightsFile, describeWeightsOutcome } from '../../src/session/weights.ts';
import {
  DEMO_SPLITS,
  loadDemoFromUrl,
  type DemoDataSet,
  type DemoSplit,
} from '../../src/data/demo.ts';
import type { Case } from '../../src/data/types.ts';
import type { GraphDoc } from '../../src/graph/types.ts';
import type { Sample2D } from '../../src/train/augment.ts';
import type { Checkpoint } from '../../src/train/checkpoint.ts';
import { evaluateCases, predictVolume } from '../../src/train/evaluate.ts';
import { train } from '../../src/train/loop.ts';
import { resolveRun } from '../../src/session/settings.ts';
import { panelOverrides } from './panel-settings.ts';
import type { MetricConvention } from '../../src/train/metrics.ts';
import { caseSlices, dataFingerprint, normaliseVolume } from '../../src/train/samples.ts';
import { hasIndexedDb, IndexedDbRunStore } from '../run-store-idb.ts';
import {
  CURRENT_RUN,
  MemoryRunStore,
  RUN_RECORD_FORMAT,
  matchStoredRun,
  type RunRecord,
  type RunStore,
} from '../run-store.ts';
import { compileKey } from '../train-format.ts';
import type {
  CompileReply,
  DataInfo,
  EvalResult,
  HistoryPoint,
  ImportReply,
  Preview,
  RequestEnvelope,
  RestoreReply,
  TrainEventMessage,
  TrainPanelSettings,
  TrainRequest,
  ValidationPoint,
  WeightsSummary,
  WorkerMessage,
} from './protocol.ts';
import { carryWeights, weightsDigest } from './weights-carry.ts';
import { catalogue } from '../../nodes/index.ts';
import { kernels } from '../../src/compile/kernels/index.ts';

interface WorkerScope {
  postMessage(message: WorkerMessage, transfer?: Transferable[]): void;
  addEventListener(type: 'message', fn: (e: MessageEvent<RequestEnvelope>) => void): void;
}
const scope = self as unknown as WorkerScope;

interface LoadedDemo {
  demo: DemoDataSet;
  train: Sample2D[];
  fingerprint: string;
  normalised: Map<DemoSplit, Float32Array>;
}

const state = {
  backend: undefined as BackendInfo | undefined,
  plan: undefined as Plan | undefined,
  model: undefined as CompiledModel | undefined,
  carry: { kept: 0, reinitialised: 0, dropped: 0 },
  origin: 'initialised',
  data: undefined as LoadedDemo | undefined,
  history: [] as HistoryPoint[],
  validations: [] as ValidationPoint[],
  /** Steps trained over the session (all runs). */
  step: 0,
  /** Session step at which the current (or last) run began. */
  runBase: 0,
  /** The last run's checkpoint, kept in memory so Start can resume it. */
  checkpoint: undefined as Checkpoint | undefined,
  running: undefined as AbortController | undefined,
  /** The graph compiled last: what the weights belong to. */
  graph: undefined as GraphDoc | undefined,
  settings: undefined as TrainPanelSettings | undefined,
  best: undefined as RunRecord['best'],
  evaluation: undefined as EvalResult | undefined,
  /** The record last written to the run store; undefined while there is nothing worth keeping. */
  stored: undefined as RunRecord | undefined,
};

/** Where the current run is kept across reloads: IndexedDB, or memory where a scope lacks it. */
const store: RunStore = hasIndexedDb() ? new IndexedDbRunStore() : new MemoryRunStore();
let saving: Promise<void> = Promise.resolve();

const emit = (event: TrainEventMessage) => scope.postMessage({ kind: 'event', event });

function requireModel(): CompiledModel {
  if (!state.model) throw new Error('no compiled graph yet');
  return state.model;
}

function summary(): WeightsSummary {
  const m = requireModel();
  return {
    tensors: m.weights.size,
    parameters: m.parameterCount,
    ...state.carry,
    digest: weightsDigest(m),
    fingerprint: weightFingerprint(m),
    origin: state.origin,
  };
}

const initSeed = (doc: GraphDoc) => doc.metadata?.training?.seed ?? 0;

/** A checkpoint can be resumed when it belongs to these weights and has steps left. */
function canResume(): boolean {
  const c = state.checkpoint;
  return (
    !!c &&
    !!state.model &&
    c.state.step < c.state.settings.steps &&
    c.state.weightsFingerprint === weightFingerprint(state.model)
  );
}

/** The session as a run record, with these weights (the checkpoint's own bytes when they are the same). */
function runRecord(weights: Uint8Array): RunRecord {
  const m = requireModel();
  const now = Date.now();
  return {
    format: RUN_RECORD_FORMAT,
    version: 1,
    id: CURRENT_RUN,
    graph: state.graph!,
    graphKey: compileKey(state.graph!),
    weightsFingerprint: weightFingerprint(m),
    parameters: m.parameterCount,
    settings: state.settings,
    step: state.step,
    runBase: state.runBase,
    // Copies: the record is written after this returns, and the run may go on meanwhile.
    history: state.history.slice(),
    validations: state.validations.slice(),
    evaluation: state.evaluation,
    origin: state.origin,
    weights,
    checkpoint: state.checkpoint,
    best: state.best,
    createdAt: state.stored?.createdAt ?? now,
    updatedAt: now,
  };
}

/**
 * Writes the session to the run store, one write after another. A failed
 * write is reported (the panel says so) and changes nothing else: training
 * goes on and the previous stored run stays.
 */
function persist(weights: Uint8Array): Promise<void> {
  const record = runRecord(weights);
  state.stored = record;
  saving = saving.then(async () => {
    const t0 = performance.now();
    let error: string | undefined;
    try {
      await store.put(record);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    const ms = performance.now() - t0;
    const bytes =
      record.weights.byteLength +
      (record.checkpoint && record.checkpoint.weights !== record.weights
        ? record.checkpoint.weights.byteLength
        : 0) +
      (record.checkpoint?.optimizer.byteLength ?? 0) +
      (record.best?.weights.byteLength ?? 0);
    emit({ type: 'persisted', step: record.step, bytes, ms, error });
  });
  return saving;
}

/** The run stored in this browser, loaded when it was trained on the graph now compiled. */
async function restore(): Promise<RestoreReply> {
  if (state.running) throw new Error('training is running');
  const model = requireModel();
  // Never over what this session trained or imported itself.
  if (state.stored || state.history.length || state.origin !== 'initialised')
    return { status: 'none' };
  let r: RunRecord | undefined;
  try {
    r = await store.get(CURRENT_RUN);
  } catch (e) {
    return {
      status: 'not-restored',
      reason: 'unreadable',
      message: `The run stored in this browser was not loaded: ${(e as Error).message}. It stays stored until a run or an import replaces it.`,
    };
  }
  if (!r) return { status: 'none' };
  const match = matchStoredRun(r, {
    graphKey: compileKey(state.graph!),
    weightsFingerprint: weightFingerprint(model),
    parameters: model.parameterCount,
  });
  if (!match.ok)
    return {
      status: 'not-restored',
      reason: 'other-graph',
      message: match.message,
      graphKey: r.graphKey,
    };
  const loaded = loadWeights(model, r.weights, 'the stored run');
  if (!loaded.ok)
    return {
      status: 'not-restored',
      reason: 'unreadable',
      message: `${loaded.message}; nothing was loaded`,
    };
  Object.assign(state, {
    history: r.history,
    validations: r.validations,
    step: r.step,
    runBase: r.runBase,
    checkpoint: r.checkpoint,
    best: r.best,
    evaluation: r.evaluation,
    origin: r.origin,
    settings: r.settings,
    carry: { kept: 0, reinitialised: 0, dropped: 0 },
    stored: r,
  });
  const c = r.checkpoint?.state;
  return {
    status: 'restored',
    weights: summary(),
    step: r.step,
    history: r.history,
    validations: r.validations,
    evaluation: r.evaluation,
    settings: r.settings,
    run: c && { runStep: c.step, totalSteps: c.settings.steps, epoch: c.epoch },
    canResume: canResume(),
    savedAt: r.updatedAt,
  };
}

const trainedOrigin = (step: number) => `trained ${step} step${step === 1 ? '' : 's'}`;

function compile(doc: GraphDoc): CompileReply {
  if (state.running)
    throw new Error('training is running; the graph is compiled again when it stops');
  const r = planGraph(doc, catalogue, kernels);
  if (!r.ok) return { ok: false, errors: r.errors, weightsKept: !!state.model };
  const next = CompiledModel.create(r.plan, { seed: initSeed(doc) });
  const prev = state.model;
  if (prev) {
    state.carry = carryWeights(prev, next);
    prev.dispose();
  } else state.carry = { kept: 0, reinitialised: next.weights.size, dropped: 0 };
  state.plan = r.plan;
  state.model = next;
  state.graph = doc;
  // The stored run follows the graph: its weights are now the carried ones.
  if (state.stored) void persist(saveWeights(next));
  return {
    ok: true,
    weights: summary(),
    classNames: r.plan.classNames,
    inputShape: r.plan.input.shape,
    canResume: canResume(),
  };
}

async function switchBackend(pref: TrainRequest & { type: 'init' }): Promise<BackendInfo> {
  if (state.running) throw new Error('training is running; stop it before changing the backend');
  // Weights travel across the switch as bytes: tensors belong to the backend that made them.
  const bytes = state.model ? saveWeights(state.model) : undefined;
  state.model?.dispose();
  state.model = undefined;
  state.backend = await initBackend(pref.backend);
  state.data?.normalised.clear();
  if (state.plan) {
    state.model = CompiledModel.create(state.plan);
    if (bytes) {
      const r = loadWeights(state.model, bytes, 'the weights before the backend switch');
      if (!r.ok) throw new Error(r.message);
    }
  }
  return state.backend;
}

async function loadData(baseUrl: string): Promise<DataInfo> {
  const r = await loadDemoFromUrl(new URL(baseUrl, self.location.origin).href);
  if (!r.ok) throw new Error(r.message);
  const demo = r.value;
  const all = DEMO_SPLITS.map((s) => demo.splits[s]);
  state.data = {
    demo,
    train: caseSlices(demo.splits.train, 'auto'),
    fingerprint: dataFingerprint(all),
    normalised: new Map(),
  };
  return dataInfo(state.data);
}

function dataInfo(d: LoadedDemo): DataInfo {
  const splits = {} as DataInfo['splits'];
  for (const s of DEMO_SPLITS) {
    const info = d.demo.meta.splits[s];
    splits[s] = { slices: info.slices, classesPresent: info.classes_present };
  }
  return {
    source: 'demo: ch2 T1 brain, 8 classes (data/demo)',
    classNames: d.demo.classNames,
    note: d.demo.note,
    trainSlices: d.train.length,
    splits,
  };
}

function requireData(): LoadedDemo {
  if (!state.data) throw new Error('no data loaded');
  return state.data;
}

function checkClasses(plan: Plan, d: LoadedDemo) {
  const want = d.demo.classNames.length;
  if (plan.classNames.length !== want) {
    throw new Error(
      `the graph outputs ${plan.classNames.length} classes (${plan.classNames.join(', ')}) but the data has ${want} (${d.demo.classNames.join(', ')}): set the Segmentation head's classes to ${want}`,
    );
  }
}

function startTraining(p: TrainPanelSettings, resume: boolean) {
  if (state.running) throw new Error('training is already running');
  const model = requireModel();
  const plan = state.plan!;
  const d = requireData();
  checkClasses(plan, d);
  const settings = resolveRun(
    state.graph?.metadata?.training,
    panelOverrides(p, state.graph),
    d.train.length,
  ).settings;
  const resumeFrom = resume && canResume() ? state.checkpoint : undefined;
  if (!resumeFrom) {
    state.runBase = state.step;
    state.best = undefined; // the best of this run, not of an earlier one
  }
  state.settings = p;
  const controller = new AbortController();
  state.running = controller;
  const total = resumeFrom ? resumeFrom.state.settings.steps : settings.steps;
  void train({
    model,
    data: {
      classNames: plan.classNames,
      train: d.train,
      val: [d.demo.splits.val],
      fingerprint: d.fingerprint,
    },
    settings,
    signal: controller.signal,
    resume: resumeFrom,
    checkpoint: {
      save: async (c) => {
        state.checkpoint = c;
        state.origin = trainedOrigin(state.runBase + c.state.step);
        await persist(c.weights);
        return 'this browser';
      },
      saveBest: async (weights, s) => {
        // Written with the checkpoint that follows a validation.
        state.best = { step: state.runBase + s.step, meanDice: s.best?.meanDice ?? NaN, weights };
        return 'this browser';
      },
    },
    onEvent: (e) => {
      if (e.type === 'step') {
        state.step = state.runBase + e.step;
        state.history.push({ step: state.step, loss: e.loss, lr: e.lr });
        emit({
          type: 'step',
          step: state.step,
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
          step: state.runBase + e.step,
          meanDice: e.meanDice,
          convention: e.convention,
        };
        state.validations.push(point);
        const perClass = Object.fromEntries(
          Object.entries(e.perClass).map(([k, v]) => [k, v.dice]),
        );
        emit({ type: 'validation', point, perClass });
      }
    },
  }).then(
    (r) => {
      state.running = undefined;
      state.origin = trainedOrigin(state.step);
      emit({
        type: 'done',
        reason: r.reason,
        step: state.step,
        weights: summary(),
        canResume: canResume(),
      });
    },
    (err: unknown) => {
      state.running = undefined;
      const message = err instanceof Error ? err.message : String(err);
      emit({
        type: 'done',
        reason: 'failed',
        message,
        step: state.step,
        weights: summary(),
        canResume: canResume(),
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

function normalisedSplit(d: LoadedDemo, split: DemoSplit): Float32Array {
  let v = d.normalised.get(split);
  if (!v) {
    v = normaliseVolume(d.demo.splits[split].channels[0], 'auto');
    d.normalised.set(split, v);
  }
  return v;
}

async function predict(split: DemoSplit, index: number): Promise<Preview> {
  const model = requireModel();
  const d = requireData();
  const c = d.demo.splits[split];
  const [w, h, n] = c.channels[0].dims;
  const k = Math.max(0, Math.min(n - 1, Math.round(index)));
  const plane = w * h;
  const image = normalisedSplit(d, split).slice(k * plane, (k + 1) * plane);
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
    index: k,
    slices: n,
    width: w,
    height: h,
    image,
    label: c.label!.data.slice(k * plane, (k + 1) * plane),
    pred,
    classNames: state.plan!.classNames,
    step: state.step,
  };
}

async function evaluate(split: DemoSplit, convention: MetricConvention): Promise<EvalResult> {
  if (state.running) throw new Error('training is running: stop it (or let it finish) to evaluate');
  const model = requireModel();
  const d = requireData();
  checkClasses(state.plan!, d);
  const t0 = performance.now();
  const report = await evaluateCases(model, [d.demo.splits[split]], {
    classNames: state.plan!.classNames,
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
    classesPresent: d.demo.meta.splits[split].classes_present,
    note: d.demo.note,
    step: state.step,
    seconds: (performance.now() - t0) / 1000,
  };
  state.evaluation = result;
  if (state.stored) void persist(state.stored.weights);
  return result;
}

function importWeights(name: string, bytes: Uint8Array): ImportReply {
  if (state.running)
    return { ok: false, message: 'training is running: stop it before importing weights' };
  const model = requireModel();
  let message: string;
  try {
    // A state dict that fills part of the graph is taken: the rest keeps the current weights.
    message = describeWeightsOutcome(applyWeightsFile(model, bytes, name, { allowPartial: true }));
  } catch (e) {
    if (e instanceof SessionError) return { ok: false, message: `${e.message}; nothing changed` };
    throw e;
  }
  state.checkpoint = undefined; // the next run starts from these weights
  state.origin = `imported ${name}`;
  state.carry = { kept: 0, reinitialised: 0, dropped: 0 };
  void persist(saveWeights(model));
  return { ok: true, message, weights: summary() };
}

function reinitialise(): WeightsSummary {
  if (state.running) throw new Error('training is running: stop it first');
  const plan = state.plan;
  if (!plan) throw new Error('no compiled graph yet');
  state.model?.dispose();
  state.model = CompiledModel.create(plan, { seed: 0 });
  state.carry = { kept: 0, reinitialised: state.model.weights.size, dropped: 0 };
  state.origin = 'initialised';
  state.checkpoint = undefined;
  state.history = [];
  state.validations = [];
  state.step = 0;
  state.runBase = 0;
  state.best = undefined;
  state.evaluation = undefined;
  // The stored run goes only when it is this session's: a stored run of another graph stays.
  if (state.stored) saving = saving.then(() => store.delete(CURRENT_RUN)).catch(() => {});
  state.stored = undefined;
  return summary();
}

async function handle(req: TrainRequest): Promise<{ value: unknown; transfer?: Transferable[] }> {
  switch (req.type) {
    case 'init':
      return { value: await switchBackend(req) };
    case 'compile':
      return { value: compile(req.doc) };
    case 'load-data':
      return { value: state.data ? dataInfo(state.data) : await loadData(req.baseUrl) };
    case 'train':
      return { value: startTraining(req.settings, req.resume) };
    case 'stop':
      state.running?.abort();
      return { value: !!state.running };
    case 'evaluate':
      return { value: await evaluate(req.split, req.convention) };
    case 'predict': {
      const p = await predict(req.split, req.index);
      return { value: p, transfer: [p.image.buffer, p.label.buffer, p.pred.buffer] };
    }
    case 'export-weights': {
      const bytes = saveWeights(requireModel(), {
        metadata: { step: String(state.step), origin: state.origin },
      });
      return { value: bytes, transfer: [bytes.buffer] };
    }
    case 'import-weights':
      return { value: importWeights(req.name, req.bytes) };
    case 'reinitialise':
      return { value: reinitialise() };
    case 'restore':
      return { value: await restore() };
  }
}

scope.addEventListener('message', (e) => {
  const { id, request } = e.data;
  handle(request).then(
    ({ value, transfer }) => scope.postMessage({ kind: 'reply', id, ok: true, value }, transfer),
    (err: unknown) =>
      scope.postMessage({
        kind: 'reply',
        id,
        ok: false,
        message: err instanceof Error ? err.message : String(err),
      }),
  );
});
