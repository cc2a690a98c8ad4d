/**
 * The run store's rules, on the in-memory store (the IndexedDB one is driven
 * by the editor's e2e test): a put is a snapshot, foreign records are named
 * as such, a run comes back only to the graph it was trained on, and a run
 * kept at its checkpoints (tensors flat while it is kept) comes back with
 * exactly the trained weights and resumes at its step.
 */
import * as tf from '#tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  asRunRecord,
  CURRENT_RUN,
  matchStoredRun,
  MemoryRunStore,
  RUN_RECORD_FORMAT,
  type RunRecord,
  compileKey,
} from '../../src/session/run-store.ts';
import { initBackend } from '../../src/backend/index.ts';
import { CompiledModel } from '../../src/compile/model.ts';
import { planGraph } from '../../src/compile/plan.ts';
import { loadWeights, saveWeights, weightFingerprint } from '../../src/compile/weights.ts';
import type { GraphDoc } from '../../src/graph/types.ts';
import type { TrainSettings } from '../../src/train/checkpoint.ts';
import { train } from '../../src/train/loop.ts';
import { optimizerSettings } from '../../src/train/optim.ts';
import { caseSlices } from '../../src/train/samples.ts';
import { phantomCase } from '../helpers/phantom-cases.ts';
import { tinyGraph } from '../helpers/tiny-graph.ts';
import { catalogue } from '../../nodes/index.ts';
import { kernels } from '../../src/compile/kernels/index.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

function compiled(doc: GraphDoc, seed: number) {
  const r = planGraph(doc, catalogue, kernels);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('; '));
  return CompiledModel.create(r.plan, { seed });
}

function record(doc: GraphDoc, model: CompiledModel, o: Partial<RunRecord> = {}): RunRecord {
  return {
    format: RUN_RECORD_FORMAT,
    version: 1,
    id: CURRENT_RUN,
    graph: doc,
    graphKey: compileKey(doc),
    weightsFingerprint: weightFingerprint(model),
    parameters: model.parameterCount,
    step: 0,
    runBase: 0,
    history: [],
    validations: [],
    origin: 'initialised',
    weights: saveWeights(model),
    createdAt: Date.UTC(2026, 0, 2, 3, 4),
    updatedAt: Date.UTC(2026, 0, 2, 3, 4),
    ...o,
  };
}

const settings: TrainSettings = {
  batchSize: 4,
  steps: 8,
  learningRate: 0.05,
  schedule: 'poly',
  optimizer: optimizerSettings('sgd'),
  seed: 3,
  valEvery: 0,
  checkpointEvery: 2,
  patience: 0,
  augment: false,
  convention: 'synapse',
  normalisation: 'none',
};

describe('MemoryRunStore', () => {
  it('stores a snapshot: later changes to the caller’s record do not reach the store', async () => {
    const doc = tinyGraph();
    const m = compiled(doc, 1);
    const store = new MemoryRunStore();
    const r = record(doc, m, { history: [{ step: 1, loss: 2, lr: 0.1 }] });
    await store.put(r);
    r.history.push({ step: 2, loss: 1, lr: 0.1 });
    r.weights[100] ^= 0xff;
    const back = (await store.get(CURRENT_RUN))!;
    expect(back.history).toEqual([{ step: 1, loss: 2, lr: 0.1 }]);
    expect(back.weights[100]).toBe(r.weights[100] ^ 0xff);
    await store.delete(CURRENT_RUN);
    expect(await store.get(CURRENT_RUN)).toBeUndefined();
    m.dispose();
  });
});

describe('asRunRecord', () => {
  it('names what is wrong with a stored value that is not a run record', () => {
    expect(asRunRecord(undefined)).toBe('the stored run is empty');
    expect(asRunRecord({ format: 'mam-studio/weights', version: 1 })).toBe(
      'the stored run is not a mam-studio/run record of version 1',
    );
    expect(asRunRecord({ format: RUN_RECORD_FORMAT, version: 1, graph: {}, step: 3 })).toBe(
      'the stored run is incomplete (graph, step, history or weights missing)',
    );
  });
});

describe('matchStoredRun', () => {
  it('gives the weights back only to the graph they were trained on, and says why not with both counts', () => {
    const doc = tinyGraph();
    const other = tinyGraph({ classes: ['background', 'a', 'b', 'c'] });
    const m = compiled(doc, 1);
    const n = compiled(other, 1);
    const r = record(doc, m, { step: 12 });
    const open = (d: GraphDoc, x: CompiledModel) => ({
      graphKey: compileKey(d),
      weightsFingerprint: weightFingerprint(x),
      parameters: x.parameterCount,
    });
    expect(matchStoredRun(r, open(doc, m))).toEqual({ ok: true });
    // The head (1×1, no bias) on 8 channels: one class more is 8 weights more.
    expect(n.parameterCount - m.parameterCount).toBe(8);
    const no = matchStoredRun(r, open(other, n));
    expect(no.ok).toBe(false);
    const count = (x: number) => x.toLocaleString('en-US');
    expect(!no.ok && no.message).toBe(
      `The stored run (step 12, ${count(m.parameterCount)} parameters, saved 2026-01-02 03:04 UTC) was trained on a different graph than the one open (${count(n.parameterCount)} parameters): its weights were not loaded, and it stays stored until a run or an import on this graph replaces it.`,
    );
    // The same graph saved and read back (its parameters written in another order): the same graph.
    const reordered = structuredClone(doc);
    for (const n of reordered.nodes)
      n.params = Object.fromEntries(Object.entries(n.params ?? {}).reverse());
    expect(compileKey(reordered)).toBe(compileKey(doc));
    expect(
      matchStoredRun(record(doc, m, { graphKey: 'an older key' }), open(reordered, m)),
    ).toEqual({
      ok: true,
    });
    // Same weight structure, other parameters (drop-path): still another graph.
    const dropped = tinyGraph({ dropPath: 0.3 });
    expect(matchStoredRun(r, open(dropped, m)).ok).toBe(false);
    m.dispose();
    n.dispose();
  });
});

describe('a run kept at its checkpoints', () => {
  it('keeps tensors flat while saving, comes back with the trained weights exactly, and resumes at its step', async () => {
    const doc = tinyGraph();
    const model = compiled(doc, 1);
    const cases = [1, 2, 3].map((i) => phantomCase(`c${i}`, i));
    const data = {
      classNames: model.plan.classNames,
      train: cases.slice(0, 2).flatMap((c) => caseSlices(c, 'none')),
      val: [cases[2]],
      fingerprint: 'phantom',
    };
    const store = new MemoryRunStore();
    const history: RunRecord['history'] = [];
    const tensorsAt: number[] = [];
    const controller = new AbortController();
    await train({
      model,
      data,
      settings,
      signal: controller.signal,
      checkpoint: {
        save: async (c) => {
          await store.put(
            record(doc, model, { step: c.state.step, history, weights: c.weights, checkpoint: c }),
          );
          return 'memory';
        },
      },
      onEvent: (e) => {
        if (e.type !== 'step') return;
        history.push({ step: e.step, loss: e.loss, lr: e.lr });
        tensorsAt.push(tf.memory().numTensors);
        if (e.step === 5) controller.abort();
      },
    });
    expect(tensorsAt).toHaveLength(5);
    expect(new Set(tensorsAt.slice(1)).size).toBe(1);

    const stored = (await store.get(CURRENT_RUN))!;
    expect(stored.step).toBe(5);
    expect(stored.history.map((p) => p.step)).toEqual([1, 2, 3, 4, 5]);
    const fresh = compiled(doc, 99);
    const before = tf.memory().numTensors;
    expect(loadWeights(fresh, stored.weights, 'the stored run')).toEqual({
      ok: true,
      loaded: model.weights.size,
    });
    expect(tf.memory().numTensors).toBe(before);
    for (const [key, w] of model.weights) {
      const a = w.variable.dataSync();
      const b = fresh.weights.get(key)!.variable.dataSync();
      expect(b.length).toBe(a.length);
      let same = 0;
      for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
      expect(same, key).toBe(a.length);
    }
    const steps: number[] = [];
    await train({
      model: fresh,
      data,
      settings,
      resume: stored.checkpoint,
      onEvent: (e) => e.type === 'step' && steps.push(e.step),
    });
    expect(steps).toEqual([6, 7, 8]);
    model.dispose();
    fresh.dispose();
  });
});
