/**
 * The Session (src/session/session.ts) driven headless, as the editor's
 * worker drives it: a run emits typed step / persisted / done events with
 * flat tensor counts, is kept in the run store at its checkpoints, and a new
 * session on the same graph restores it (weights, history, resumable); a
 * graph with other weights does not get them; errors are SessionErrors.
 */
import * as tf from '#tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { initBackend } from '../../src/backend/index.ts';
import { kernels } from '../../src/compile/kernels/index.ts';
import { SessionError } from '../../src/session/errors.ts';
import { CURRENT_RUN, MemoryRunStore } from '../../src/session/run-store.ts';
import { Session, type SessionData, type SessionEvent } from '../../src/session/session.ts';
import { panelDefaults } from '../../src/session/settings.ts';
import { readNifti } from '../../src/data/nifti.ts';
import { caseSlices, dataFingerprint } from '../../src/train/samples.ts';
import { phantomCase, phantomSessionData } from '../helpers/phantom-cases.ts';
import { tinyGraph } from '../helpers/tiny-graph.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

/** Resolves with the events up to and including the run's 'done'. */
function runEvents(session: Session): { events: SessionEvent[]; done: Promise<void> } {
  const events: SessionEvent[] = [];
  let finish: () => void;
  const done = new Promise<void>((r) => (finish = r));
  session.listen((e) => {
    events.push(e);
    if (e.type === 'done') finish();
  });
  return { events, done };
}

describe('Session', () => {
  it('trains with typed events, keeps the run at checkpoints, and a new session restores it', async () => {
    const store = new MemoryRunStore();
    const doc = tinyGraph({ dropPath: 0 });
    const s = new Session({ catalogue, kernels, store });
    const compiled = s.compile(doc);
    expect(compiled.ok).toBe(true);
    s.setData(phantomSessionData());
    const { events, done } = runEvents(s);
    // 6 slices at batch 4 (the graph's): 2 steps per epoch (4, then the 2 left); 4 steps by the panel's field.
    const start = s.train({ ...panelDefaults(doc), steps: 4, augment: false }, false);
    expect(start).toMatchObject({ totalSteps: 4, resumed: false, valEvery: 2 });
    // SGD 0.05 (the graph's) at batch 24, scaled ×4/24.
    expect(start.learningRate).toBeCloseTo((0.05 * 4) / 24, 12);
    expect(() => s.train(panelDefaults(doc), false)).toThrow(SessionError);
    await done;
    // Each checkpoint's save is awaited by the loop, so the run is stored before 'done'.
    const steps = events.filter((e) => e.type === 'step');
    expect(steps.map((e) => e.step)).toEqual([1, 2, 3, 4]);
    const tensors = steps.map((e) => e.numTensors);
    expect(tensors[3]).toBe(tensors[1]);
    const last = events.at(-1)!;
    expect(last).toMatchObject({ type: 'done', reason: 'completed', step: 4, canResume: false });
    expect(events.some((e) => e.type === 'persisted' && !e.error)).toBe(true);
    const trained = last.type === 'done' ? last.weights : undefined;

    const stored = await store.get(CURRENT_RUN);
    expect(stored).toMatchObject({ step: 4, history: expect.any(Array) });
    expect(stored!.history.map((h) => h.step)).toEqual([1, 2, 3, 4]);

    const again = new Session({ catalogue, kernels, store });
    again.compile(doc);
    const r = await again.restore();
    expect(r.status).toBe('restored');
    if (r.status !== 'restored') return;
    expect(r.step).toBe(4);
    expect(r.weights.digest).toBe(trained!.digest);
    expect(r.history.map((h) => h.loss)).toEqual(
      steps.map((e) => (e.type === 'step' ? e.loss : NaN)),
    );

    // Another graph (4 classes) is told why, and keeps its own weights.
    const other = new Session({ catalogue, kernels, store });
    other.compile(tinyGraph({ classes: ['background', 'a', 'b', 'c'] }));
    const no = await other.restore();
    expect(no).toMatchObject({ status: 'not-restored', reason: 'other-graph' });
  });

  it('refuses data whose classes the graph does not output, as a SessionError naming both', () => {
    const s = new Session({ catalogue, kernels, store: new MemoryRunStore() });
    const doc = tinyGraph({ classes: ['background', 'a'] });
    s.compile(doc);
    s.setData(phantomSessionData());
    const before = tf.memory().numTensors;
    expect(() => s.train(panelDefaults(doc), false)).toThrow(
      /the graph outputs 2 classes \(background, a\) but the data has 3/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('takes several cases per split: a slice index runs across them, a case predicts whole onto its own grid, and Resume is only on the run’s own data', async () => {
    const doc = tinyGraph({ dropPath: 0 });
    const s = new Session({ catalogue, kernels, store: new MemoryRunStore() });
    s.compile(doc);
    const [a, b, c, d] = [
      phantomCase('a', 1, 16, 6),
      phantomCase('b', 2, 16, 4),
      phantomCase('c', 3, 16, 5),
      phantomCase('d', 4, 16, 3),
    ];
    const affine = [
      [0, -0.8, 0, 12],
      [1.1, 0, 0, -3],
      [0, 0, 2.5, 40],
      [0, 0, 0, 1],
    ];
    d.label = { ...d.label!, affine, spacing: [1.1, 0.8, 2.5] };
    const cases = { train: [a, b], val: [c, d], test: [] };
    const split = { slices: 0, classesPresent: [] };
    const data: SessionData = {
      info: {
        source: 'phantoms',
        classNames: ['background', 'organ1', 'organ2'],
        trainSlices: 10,
        splits: { train: split, val: split, test: split },
      },
      train: [a, b].flatMap((x) => caseSlices(x, 'none')),
      cases,
      fingerprint: dataFingerprint([a, b, c, d]),
      splitRule: 'two cases per split',
    };
    s.setData(data);
    // val holds c (5 slices) then d (3): slice 6 is d's second.
    const p = await s.predict('val', 6);
    expect(p).toMatchObject({ caseId: 'd', index: 6, slices: 8, width: 16, height: 16 });
    expect([...p.label]).toEqual([...d.label!.data.slice(256, 512)]);
    await expect(s.predict('test', 0)).rejects.toThrow(/the test split has no cases/);

    const f = await s.predictionFile('val', 'd');
    expect(f.name).toBe('d-prediction.nii.gz');
    const back = readNifti(f.bytes, f.name);
    expect(back.ok).toBe(true);
    if (!back.ok) return;
    expect(back.value.dims).toEqual([16, 16, 3]);
    back.value.affine.forEach((row, i) =>
      row.forEach((v, j) => expect(v).toBeCloseTo(affine[i][j], 5)),
    );

    // Stopped after its first step: a checkpoint with steps left.
    const stopped = new Promise<void>((resolve) =>
      s.listen((e) => {
        if (e.type === 'step') s.stop();
        if (e.type === 'done') resolve();
      }),
    );
    s.train({ ...panelDefaults(doc), steps: 6, augment: false }, false);
    await stopped;
    expect(s.resumable).toBe(true);
    s.setData({ ...data, fingerprint: dataFingerprint([a, b, c]) });
    expect(s.resumable).toBe(false);
    s.setData(data);
    expect(s.resumable).toBe(true);
  });
});
