/**
 * The runs list of the Session (what the editor's Train drawer shows): a new
 * run keeps the one before under its own id, runs are renamed and deleted
 * whole, a run stopped halfway, "reloaded" (a new session on the same store)
 * and resumed ends with the weights of the same run trained straight, and a
 * run exported as the CLI's run folder zip imports back as the same run.
 */
import { strFromU8, strToU8, unzipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { initBackend } from '../../src/backend/index.ts';
import { kernels } from '../../src/compile/kernels/index.ts';
import { SessionError } from '../../src/session/errors.ts';
import { CURRENT_RUN, MemoryRunStore, type RunStore } from '../../src/session/run-store.ts';
import { runFromFolder, unzipRun } from '../../src/session/run-zip.ts';
import { RNG_SCHEME, TORCH_RNG_SCHEME } from '../../src/train/checkpoint.ts';
import { Session } from '../../src/session/session.ts';
import { panelDefaults } from '../../src/session/settings.ts';
import type { WeightsSummary } from '../../src/session/types.ts';
import { phantomSessionData } from '../helpers/phantom-cases.ts';
import { tinyGraph } from '../helpers/tiny-graph.ts';
import { evaluateCases } from '../../src/train/evaluate.ts';
import { CompiledModel } from '../../src/compile/model.ts';
import { planGraph } from '../../src/compile/plan.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

const doc = tinyGraph({ dropPath: 0 });

/** A session on `store` with the tiny graph and the phantoms, as a page (re)load makes it. */
function openSession(store: RunStore): Session {
  const s = new Session({ catalogue, kernels, store });
  expect(s.compile(doc).ok).toBe(true);
  s.setData(phantomSessionData());
  return s;
}

const settings = { ...panelDefaults(doc), steps: 6, augment: true, valEvery: 2 };

/** Trains (or resumes) and resolves at 'done' with its weights; `stopAt` stops after that run step. */
function trainRun(s: Session, resume: boolean, stopAt?: number): Promise<WeightsSummary> {
  return new Promise((resolve, reject) => {
    s.listen((e) => {
      if (e.type === 'step' && e.runStep === stopAt) s.stop();
      if (e.type === 'done' && e.reason === 'failed') reject(new Error(e.message));
      else if (e.type === 'done') resolve(e.weights);
    });
    s.train(settings, resume);
  });
}

describe('the runs kept by a session', () => {
  it('resumes a stopped run after a reload bit-identically; a new run keeps the one before; rename and delete', async () => {
    const straight = await trainRun(openSession(new MemoryRunStore()), false);

    const store = new MemoryRunStore();
    const first = openSession(store);
    await trainRun(first, false, 3);
    first.dispose();
    // The "reload": a new session on the same store, the run opened from the list and resumed.
    const again = openSession(store);
    const [listed] = await again.listRuns();
    expect(listed).toMatchObject({ id: CURRENT_RUN, current: true, steps: 3, totalSteps: 6 });
    expect(listed.name).toMatch(/^tiny \d{4}-\d\d-\d\d \d\d:\d\d$/);
    const opened = await again.openRun(CURRENT_RUN);
    expect(opened.reply).toMatchObject({ status: 'restored', step: 3, canResume: true });
    const resumed = await trainRun(again, true);
    expect(resumed.digest).toBe(straight.digest);

    // A new run: the resumed one stays in the list under its own id, whole.
    await trainRun(again, false, 2);
    const runs = await again.listRuns();
    expect(runs.map((r) => [r.current, r.steps])).toEqual([
      [true, 2],
      [false, 6],
    ]);
    const old = runs[1];
    expect(old.id).toMatch(/^run-/);
    expect((await store.get(old.id))!.weights).toEqual(
      (await store.get(old.id))!.checkpoint!.weights,
    );

    await again.renameRun(old.id, '  six steps  ');
    expect((await again.listRuns())[1].name).toBe('six steps');
    await expect(again.renameRun(old.id, ' ')).rejects.toThrow(/a run needs a name/);
    await expect(again.renameRun('run-gone', 'x')).rejects.toThrow(SessionError);

    // Opening the old run makes it current; the run that was current is kept aside.
    const back = await again.openRun(old.id);
    expect(back.reply).toMatchObject({ status: 'restored', step: 6 });
    if (back.reply.status === 'restored') expect(back.reply.weights.digest).toBe(straight.digest);
    const swapped = await again.listRuns();
    expect(swapped.map((r) => [r.current, r.steps, r.name])).toEqual([
      [false, 2, expect.any(String)],
      [true, 6, 'six steps'],
    ]);

    await again.deleteRun(swapped[0].id);
    expect((await again.listRuns()).map((r) => r.id)).toEqual([CURRENT_RUN]);
    expect(await store.get(swapped[0].id)).toBeUndefined();
    again.dispose();
  });

  it('exports a run as the CLI run folder zip, which imports back as the same, resumable run', async () => {
    const store = new MemoryRunStore();
    const s = openSession(store);
    await trainRun(s, false, 4);
    const ev = await s.evaluate('test', 'synapse');
    const zip = await s.exportRun(CURRENT_RUN);
    expect(zip.name).toMatch(/^tiny-\d{4}-\d\d-\d\d-\d\d-\d\d\.zip$/);
    const entries = unzipSync(zip.bytes);
    const folder = zip.name.replace(/\.zip$/, '');
    expect(Object.keys(entries).sort()).toEqual(
      [
        'best.safetensors',
        'checkpoint/optimizer.safetensors',
        'checkpoint/state.json',
        'checkpoint/weights.safetensors',
        'graph.json',
        'history.csv',
        'metrics.json',
        'run.json',
        'weights.safetensors',
      ].map((f) => `${folder}/${f}`),
    );
    // history.csv: a header and one row per step, validations at steps 2 and 4.
    const csv = strFromU8(entries[`${folder}/history.csv`]).trim().split('\n');
    expect(csv).toHaveLength(5);
    expect(csv[0]).toMatch(/^step,epoch,loss,ce,dice_loss,lr,elapsed_s,val_convention,/);
    expect(csv[0].endsWith('val_dice_organ1,val_dice_organ2')).toBe(true);
    expect(csv.slice(1).map((l) => l.split(',')[7])).toEqual(['', 'synapse', '', 'synapse']);
    const metrics = JSON.parse(strFromU8(entries[`${folder}/metrics.json`])) as {
      test: { summary: { meanDice: number } };
    };
    expect(metrics.test.summary.meanDice).toBe(ev.meanDice);

    const stored = (await store.get(CURRENT_RUN))!;
    const back = runFromFolder(unzipRun(zip.name, zip.bytes), { source: zip.name, catalogue });
    expect(back.checkpoint!.state).toEqual(stored.checkpoint!.state);
    expect(back.checkpoint!.weights).toEqual(stored.checkpoint!.weights);
    expect(back.checkpoint!.optimizer).toEqual(stored.checkpoint!.optimizer);
    expect(back.weights).toEqual(stored.weights);
    expect(back.best!.weights).toEqual(stored.best!.weights);
    expect(back).toMatchObject({
      graphKey: stored.graphKey,
      weightsFingerprint: stored.weightsFingerprint,
      parameters: stored.parameters,
      step: 4,
    });
    expect(back.evaluation).toEqual(ev);
    expect(back.history).toEqual(stored.history);
    expect(back.validations).toEqual(stored.validations);

    // Imported into another browser's store, it opens and resumes.
    const other = openSession(new MemoryRunStore());
    const summary = await other.importRun(zip.name, unzipRun(zip.name, zip.bytes));
    expect(summary).toMatchObject({ steps: 4, totalSteps: 6, current: false });
    const opened = await other.openRun(summary.id);
    expect(opened.reply).toMatchObject({ status: 'restored', step: 4, canResume: true });
    s.dispose();
    other.dispose();
  });

  it('keeps both when one run is imported twice: a new id and "name (2)", also after one of them is opened', async () => {
    const s = openSession(new MemoryRunStore());
    await trainRun(s, false, 2);
    const zip = await s.exportRun(CURRENT_RUN);
    const other = openSession(new MemoryRunStore());
    const files = () => unzipRun(zip.name, zip.bytes);
    const first = await other.importRun(zip.name, files());
    const second = await other.importRun(zip.name, files());
    expect(second.id).not.toBe(first.id);
    const listed = async () => (await other.listRuns()).map((r) => [r.name, r.steps, r.current]);
    // Newest first: the copy starts a millisecond after the run it copies.
    expect(await listed()).toEqual([
      [`${first.name} (2)`, 2, false],
      [first.name, 2, false],
    ]);
    // The second opened (now the current run), a third import is a third line, and opening
    // the first sets the second aside under its own id: three runs, none replaced.
    await other.openRun(second.id);
    const third = await other.importRun(zip.name, files());
    expect(third.name).toBe(`${first.name} (3)`);
    await other.openRun(first.id);
    expect(await listed()).toEqual([
      [`${first.name} (3)`, 2, false],
      [`${first.name} (2)`, 2, false],
      [first.name, 2, true],
    ]);
    s.dispose();
    other.dispose();
  });

  it('a run mam_torch trained (its random draws) opens, evaluates and starts a new run from its weights, but does not resume', async () => {
    const s = openSession(new MemoryRunStore());
    await trainRun(s, false, 2);
    const zip = await s.exportRun(CURRENT_RUN);
    const files = unzipRun(zip.name, zip.bytes);
    // The folder as mam_torch writes it: the same format, its own random draws (torch-train.test.ts).
    const state = strFromU8(files.get('checkpoint/state.json')!);
    expect(state).toContain(RNG_SCHEME);
    files.set('checkpoint/state.json', strToU8(state.replace(RNG_SCHEME, TORCH_RNG_SCHEME)));
    const other = openSession(new MemoryRunStore());
    const imported = await other.importRun('torch-run', files);
    const opened = await other.openRun(imported.id);
    expect(opened.reply).toMatchObject({ status: 'restored', step: 2, canResume: false });
    expect(opened.reply.status === 'restored' && opened.reply.resumeRefusal).toBe(
      'This run was trained by mam_torch (PyTorch), whose random draws the editor cannot repeat, so Resume cannot continue it step for step: resume it with python -m mam_torch.train … --resume, or start a new run from its weights here (New run).',
    );
    expect(other.resumable).toBe(false);
    const ev = await other.evaluate('test', 'synapse');
    expect(ev.perClass.map((c) => c.name)).toEqual(['organ1', 'organ2']);
    // Asked to resume, it starts a fresh schedule from the run's weights instead.
    const started = await new Promise<{ resumed: boolean; weights: WeightsSummary }>((resolve) => {
      let resumed = true;
      other.listen((e) => {
        if (e.type === 'done') resolve({ resumed, weights: e.weights });
      });
      resumed = other.train(settings, true).resumed;
    });
    expect(started.resumed).toBe(false);
    expect(started.weights.origin).toBe('trained 8 steps');
    s.dispose();
    other.dispose();
  });

  it('re-initialises to the weights a fresh compile of the graph gives (its seed), keeping the run in the list', async () => {
    const store = new MemoryRunStore();
    const s = openSession(store);
    const fresh = s.compile(doc);
    expect(fresh.ok).toBe(true);
    const initial = fresh.ok ? fresh.weights.digest : '';
    const trained = await trainRun(s, false, 2);
    expect(trained.digest).not.toBe(initial);
    expect(s.reinitialise().digest).toBe(initial);
    const runs = await s.listRuns();
    expect(runs.map((r) => [r.current, r.steps])).toEqual([[false, 2]]);
    s.dispose();
  });

  it('opens a run of another graph: answers its graph, and the compile of that graph restores it', async () => {
    const store = new MemoryRunStore();
    const first = openSession(store);
    const trained = await trainRun(first, false, 2);
    first.dispose();
    // Another page with another graph open: the run of the tiny graph is listed, not loaded.
    const s = new Session({ catalogue, kernels, store });
    expect(s.compile(tinyGraph({ classes: ['background', 'a', 'b', 'c'] })).ok).toBe(true);
    expect(await s.restore()).toMatchObject({ status: 'not-restored', reason: 'other-graph' });
    const [kept] = await s.listRuns();
    const opened = await s.openRun(kept.id);
    expect(opened.reply).toMatchObject({ status: 'not-restored', reason: 'other-graph' });
    expect(opened.graph).toEqual(doc);
    // What the page does next: opens that graph; its compile restores the run.
    expect(s.compile(opened.graph).ok).toBe(true);
    const r = await s.restore();
    expect(r).toMatchObject({ status: 'restored', step: 2 });
    if (r.status === 'restored') expect(r.weights.digest).toBe(trained.digest);
    s.dispose();
  });

  it('a CLI run folder without the editor’s part: its test table (metrics.json, as mam train writes it) is the run’s evaluation', async () => {
    const kept = new MemoryRunStore();
    const s = openSession(kept);
    await trainRun(s, false, 2);
    const zip = await s.exportRun(CURRENT_RUN);
    const files = unzipRun(zip.name, zip.bytes);
    const run = JSON.parse(strFromU8(files.get('run.json')!)) as Record<string, unknown>;
    delete run.editor;
    files.set('run.json', strToU8(JSON.stringify(run)));
    files.delete('graph.json');
    // metrics.json as trainInFolder writes it: the test report's summary, NaN written as null.
    const planned = planGraph(doc, catalogue, kernels);
    if (!planned.ok) throw new Error('the tiny graph does not plan');
    const model = CompiledModel.create(planned.plan);
    const report = await evaluateCases(model, phantomSessionData().cases.test, {
      classNames: planned.plan.classNames,
      convention: 'synapse',
      normalisation: 'auto',
    });
    model.dispose();
    const metrics = {
      convention: 'synapse',
      step: 2,
      reason: 'aborted',
      best: { step: 2, meanDice: 0.5 },
      lastValidation: null,
      test: { weights: 'best.safetensors', summary: report.summary, ruleCounts: report.ruleCounts },
    };
    files.set('metrics.json', strToU8(JSON.stringify(metrics, null, 2)));
    const open = { doc, weightsFingerprint: (await kept.get(CURRENT_RUN))!.weightsFingerprint };
    const r = runFromFolder(files, { source: 'cli-run', catalogue, open });
    expect(r.name).toBe('cli-run');
    expect(r.evaluation).toMatchObject({ split: 'test', convention: 'synapse', step: 2 });
    expect(r.evaluation!.perClass.map((c) => [c.name, c.dice])).toEqual(
      Object.entries(report.summary.perClass).map(([n, c]) => [n, c.dice]),
    );
    expect(r.evaluation!.meanDice).toBe(report.summary.meanDice);
    s.dispose();
  });

  it('refuses what is not a run folder, naming it, and keeps nothing', async () => {
    const store = new MemoryRunStore();
    const s = openSession(store);
    const files = new Map([['notes.txt', new Uint8Array([104, 105])]]);
    await expect(s.importRun('notes', files)).rejects.toThrow(
      'notes holds no run.json: it is not a run folder of mam train or of the editor',
    );
    expect(() => unzipRun('x.zip', new Uint8Array([1, 2, 3]))).toThrow(/^x\.zip is not a zip file/);
    const noGraph = new Map([
      [
        'run.json',
        new TextEncoder().encode('{"graph":{"file":"/tmp/g.json","weightsFingerprint":"abc"}}'),
      ],
      ['weights.safetensors', new Uint8Array(8)],
    ]);
    await expect(s.importRun('cli-run', noGraph)).rejects.toThrow(
      /^cli-run holds no graph\.json, and its weights \(fingerprint abc\) do not fit the graph open \(\w+\): open \/tmp\/g\.json first$/,
    );
    expect(await s.listRuns()).toEqual([]);
    s.dispose();
  });
});
