/**
 * The training loop on a tiny MAM graph and phantom data: tensors stay flat
 * across steps, the loss falls on a learnable phantom, and a run stopped and
 * resumed from its checkpoint repeats the uninterrupted run exactly.
 */
import * as tf from '#tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { CompiledModel } from '../../src/compile/model.ts';
import { planGraph } from '../../src/compile/plan.ts';
import type { Checkpoint, CheckpointStore, TrainSettings } from '../../src/train/checkpoint.ts';
import { train, type TrainEvent, type TrainingData } from '../../src/train/loop.ts';
import { optimizerSettings } from '../../src/train/optim.ts';
import { caseSlices } from '../../src/train/samples.ts';
import { phantomCase } from '../helpers/phantom-cases.ts';
import { tinyGraph } from '../helpers/tiny-graph.ts';
import { catalogue } from '../../nodes/index.ts';
import { kernels } from '../../src/compile/kernels/index.ts';

beforeAll(async () => {
  await initBackend('wasm');
});
afterEach(() => vi.useRealTimers());

function setup(seed = 1) {
  const plan = planGraph(tinyGraph(), catalogue, kernels);
  if (!plan.ok) throw new Error(plan.errors.map((e) => e.message).join('; '));
  const model = CompiledModel.create(plan.plan, { seed });
  const cases = [1, 2, 3].map((i) => phantomCase(`c${i}`, i));
  const data: TrainingData = {
    classNames: plan.plan.classNames,
    train: cases.slice(0, 2).flatMap((c) => caseSlices(c, 'none')),
    val: [cases[2]],
    fingerprint: 'phantom',
  };
  return { model, data };
}

const settings = (o: Partial<TrainSettings> = {}): TrainSettings => ({
  batchSize: 4,
  steps: 50,
  learningRate: 0.01,
  schedule: 'poly',
  optimizer: optimizerSettings('adamw'),
  seed: 3,
  valEvery: 0,
  checkpointEvery: 0,
  patience: 0,
  augment: true,
  convention: 'synapse',
  normalisation: 'none',
  ...o,
});

class MemoryStore implements CheckpointStore {
  saved: Checkpoint[] = [];
  best: Uint8Array | null = null;
  async save(c: Checkpoint) {
    this.saved.push(structuredClone(c));
    return `memory#${this.saved.length}`;
  }
  async saveBest(w: Uint8Array) {
    this.best = w;
    return 'memory#best';
  }
}

describe('train()', () => {
  it('keeps tf.memory().numTensors flat (step 5 = step 50) and the loss falls on a learnable phantom', async () => {
    const { model, data } = setup();
    const tensorsAt = new Map<number, number>();
    const losses: number[] = [];
    const events: TrainEvent['type'][] = [];
    const store = new MemoryStore();
    const r = await train({
      model,
      data,
      settings: settings({ steps: 50, valEvery: 25 }),
      checkpoint: store,
      onEvent: (e) => {
        events.push(e.type);
        if (e.type === 'step') {
          losses.push(e.loss);
          tensorsAt.set(e.step, tf.memory().numTensors);
          expect(e.imagesPerSec).toBeGreaterThan(0);
          expect(e.etaSec).toBeGreaterThanOrEqual(0);
        }
      },
    });
    expect(r.reason).toBe('completed');
    expect(tensorsAt.get(50)).toBe(tensorsAt.get(5));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-10))).toBeLessThan(0.6 * mean(losses.slice(0, 5)));
    expect(events.filter((t) => t === 'validation')).toHaveLength(2);
    expect(events.at(-1)).toBe('done');
    expect(store.saved.map((c) => c.state.step)).toEqual([25, 50]);
    expect(store.best).not.toBeNull();
    expect(r.state.lastValidation!.convention).toBe('synapse');
    expect(r.state.lastValidation!.meanDice).toBeGreaterThan(0.2);
    model.dispose();
  });

  it('steps on without timers (Node waits ≥1 ms for a setTimeout(0), browsers ≥4 ms when nested)', async () => {
    const { model, data } = setup();
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval'] });
    let finished = false;
    void train({ model, data: { ...data, val: [] }, settings: settings({ steps: 3 }) }).then(
      () => (finished = true),
    );
    // each step needs one macrotask turn; none of these runs a faked timer
    for (let turn = 0; turn < 1000 && !finished; turn++) await new Promise((r) => setImmediate(r));
    expect(finished).toBe(true);
    model.dispose();
  });

  it('stops on abort with a checkpoint, and resuming repeats the uninterrupted run exactly', async () => {
    const s = settings({
      steps: 12,
      optimizer: optimizerSettings('sgd'),
      learningRate: 0.05,
      checkpointEvery: 4,
    });
    const a = setup();
    const full: number[] = [];
    await train({ ...a, settings: s, onEvent: (e) => e.type === 'step' && full.push(e.loss) });
    a.model.dispose();

    const b = setup();
    const controller = new AbortController();
    const store = new MemoryStore();
    const first: number[] = [];
    const r1 = await train({
      ...b,
      settings: s,
      checkpoint: store,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'step') {
          first.push(e.loss);
          if (e.step === 6) controller.abort();
        }
      },
    });
    expect(r1.reason).toBe('aborted');
    expect(r1.step).toBe(6);
    const ckpt = store.saved.at(-1)!;
    expect(ckpt.state.step).toBe(6);
    b.model.dispose();

    const c = setup(99); // other initial weights: the checkpoint must replace them
    const rest: number[] = [];
    const r2 = await train({
      ...c,
      settings: s,
      resume: ckpt,
      onEvent: (e) => e.type === 'step' && rest.push(e.loss),
    });
    expect(r2.reason).toBe('completed');
    expect([...first, ...rest]).toEqual(full);
    expect(r2.state.history.map((h) => h.step)).toEqual(
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    c.model.dispose();
  });

  it('stops early after `patience` validations without improvement', async () => {
    const { model, data } = setup();
    const r = await train({
      model,
      data,
      settings: settings({ steps: 40, valEvery: 2, patience: 2, learningRate: 0 }),
    });
    expect(r.reason).toBe('early-stop');
    expect(r.step).toBe(6);
    model.dispose();
  });
});
