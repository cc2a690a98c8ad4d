// The Train drawer driven as a user drives it: backend picker, settings,
// Start/Stop, evaluation, a SAM→MAM swap that keeps the weights, weights out
// and back in; then the run across reloads (kept in OPFS, a warning
// before leaving during a run, another graph open on reload) and an edit
// during a run (said on the panel, Stop and recompile). The demo graph trains
// on wasm (fast on a CPU); state is read through window.__mam.training,
// actions go through the UI.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrowser, type BrowserSession } from './browser.ts';
import {
  boxOf,
  canvasBox,
  drag,
  freshEditor,
  node,
  nodeType,
  ready,
  settle,
} from './editor-helpers.ts';
import { itOracle, repoRoot, venvPython } from '../unit/data-oracle.ts';
import {
  byId,
  dialogsOf,
  fill,
  freshTraining,
  openTrain,
  panel,
  reloadTrain,
  startRun,
  stopRun,
  trainPastCheckpoint,
  training,
} from './train-helpers.ts';

const FILES = resolve(import.meta.dirname, '../../test-results/e2e-train');

/**
 * Pans the canvas left until a node sits well inside it, dragging along the
 * empty strip at the top of the canvas (the demo graph starts lower down).
 */
async function panTo(page: Page, id: string) {
  for (let i = 0; i < 10; i++) {
    const c = await canvasBox(page);
    const b = await boxOf(node(page, id));
    if (b.x + b.width < c.x + c.width - 60) return;
    const dx = Math.min(500, b.x + b.width - (c.x + c.width / 2));
    const from = { x: c.x + c.width - 40, y: c.y + 25 };
    await drag(page, from, { x: from.x - dx, y: from.y }, 8);
    await settle(page);
  }
}

async function swapByMenu(page: Page, id: string, item: string) {
  await panTo(page, id);
  const b = await boxOf(node(page, id).locator('header'));
  await page.mouse.click(b.x + b.width / 2, b.y + b.height / 2, { button: 'right' });
  await page.locator('[data-testid="menu-item"]', { hasText: item }).first().click();
  await settle(page);
}

/** Trains the demo past the first checkpoint and stops; resolves once the stopped run is kept. */
async function trainAndKeep(page: Page) {
  await openTrain(page);
  return trainPastCheckpoint(page);
}

/** Sets a numeric parameter of a node through the inspector (the drawer closed). */
async function setParam(page: Page, id: string, param: string, value: string) {
  await panTo(page, id);
  await node(page, id).locator('header').click();
  const input = page.locator(`mam-inspector input[data-param="${param}"]`);
  await input.fill(value);
  await input.press('Enter');
  await settle(page);
}

const count = (n: number) => n.toLocaleString('en-US');

describe('editor training', () => {
  let session: BrowserSession;

  beforeAll(async () => {
    mkdirSync(FILES, { recursive: true });
    session = await openBrowser('/');
  });
  afterAll(async () => {
    await session?.close();
  });

  it('trains the demo graph on wasm, stops with the history kept, and evaluates per class', async () => {
    const { page, baseUrl } = session;
    await freshEditor(page, baseUrl);
    await page.getByTestId('train-toggle').click();
    await expect
      .poll(() => byId(page, 'data-info').textContent(), { timeout: 60_000 })
      .toMatch(/92 training slices/);
    await expect
      .poll(() => byId(page, 'weights-note').textContent())
      .toMatch(/Compiled: \d+ weight tensors/);
    // Defaults come from the graph's metadata.training (demo-mam: AdamW, batch 4, seed 1234, no augmentation).
    expect(await byId(page, 'setting-batchSize').inputValue()).toBe('4');
    expect(await byId(page, 'setting-optimizer').inputValue()).toBe('adamw');
    expect(await byId(page, 'setting-seed').inputValue()).toBe('1234');
    expect(await byId(page, 'setting-augment').isChecked()).toBe(false);

    await byId(page, 'backend-select').selectOption('wasm');
    await expect
      .poll(() => byId(page, 'backend-info').textContent(), { timeout: 30_000 })
      .toMatch(/^\s*wasm \(WebAssembly/);

    await fill(page, 'setting-batchSize', '2');
    await fill(page, 'setting-steps', '60');
    await fill(page, 'setting-valEvery', '3');
    await byId(page, 'train-start').click();
    await expect
      .poll(async () => (await training(page)).step, { timeout: 90_000 })
      .toBeGreaterThanOrEqual(4);
    await expect
      .poll(async () => (await training(page)).validations, { timeout: 60_000 })
      .toBeGreaterThanOrEqual(1);
    expect(await byId(page, 'progress-step').textContent()).toMatch(/step\s+\d+\/60/);
    expect(await byId(page, 'progress-speed').textContent()).toMatch(/\d+\.\d+ img\/s/);
    expect(await byId(page, 'loss-chart').locator('path').count()).toBeGreaterThan(0);
    await session.screenshot('editor-train-running');

    await byId(page, 'train-stop').click();
    await expect.poll(async () => (await training(page)).running, { timeout: 60_000 }).toBe(false);
    const stopped = await training(page);
    expect(stopped.lossPoints).toBe(stopped.step);
    expect(stopped.canResume).toBe(true);
    await expect
      .poll(() => byId(page, 'train-notice').textContent())
      .toMatch(/Stopped at step \d+: weights and history kept/);
    await expect.poll(() => byId(page, 'train-start').textContent()).toMatch(/Resume/);

    await byId(page, 'eval-run').click();
    await expect
      .poll(async () => (await training(page)).evaluation?.convention, { timeout: 60_000 })
      .toBe('synapse');
    const label = await panel(page)
      .locator('mam-eval-table')
      .getByTestId('eval-convention')
      .textContent();
    expect(label).toMatch(/synapse convention/);
    expect(await panel(page).locator('mam-eval-table').getByTestId('eval-note').textContent()).toBe(
      'single-subject demo, not a benchmark',
    );
    const rows = await panel(page)
      .locator('mam-eval-table tbody tr[data-class]')
      .evaluateAll((trs) => trs.map((t) => t.getAttribute('data-class')));
    expect(rows).toEqual([
      'frontal',
      'limbic',
      'occipital',
      'parietal',
      'deep grey',
      'temporal',
      'cerebellum',
    ]);
    // History is still there after the evaluation; the preview shows a test slice.
    expect((await training(page)).lossPoints).toBe(stopped.lossPoints);
    await expect
      .poll(() => panel(page).locator('mam-slice-view').getByTestId('class-legend').textContent())
      .toMatch(/frontal/);
    await panel(page).locator('mam-eval-table').scrollIntoViewIfNeeded();
    await session.screenshot('editor-train-evaluated');
    await panel(page).locator('mam-slice-view').scrollIntoViewIfNeeded();
    await session.screenshot('editor-train-slice');
  });

  it('keeps every weight across a SAM→MAM swap, exports them and imports them back', async () => {
    const { page, baseUrl } = session;
    await freshTraining(page, baseUrl);
    await openTrain(page);
    await startRun(page, 60, 3);
    await expect
      .poll(async () => (await training(page)).step, { timeout: 120_000 })
      .toBeGreaterThanOrEqual(2);
    await stopRun(page);
    const before = (await training(page)).weights!;
    expect(before.origin).toMatch(/^trained \d+ steps$/);

    await page.getByTestId('train-toggle').click(); // close the drawer to reach the canvas
    await swapByMenu(page, 'layers_up.1.blocks.0', 'Swap to memory-attention (MAM)');
    expect(await nodeType(page, 'layers_up.1.blocks.0')).toBe('mam-swin-block');
    await page.getByTestId('train-toggle').click();
    await expect
      .poll(() => byId(page, 'weights-note').textContent(), { timeout: 30_000 })
      .toMatch(/Graph changed: kept/);
    const after = (await training(page)).weights!;
    expect(after).toMatchObject({
      kept: before.tensors,
      reinitialised: 0,
      dropped: 0,
      digest: before.digest,
    });
    expect((await training(page)).canResume).toBe(true);

    // A graph with errors cannot train, and keeps the trained weights for when it compiles again.
    await page.getByTestId('train-toggle').click();
    await node(page, 'layers_up.1.blocks.0').locator('header').click();
    const heads = page.locator('mam-inspector input[data-param="heads"]');
    await heads.fill('5'); // 64 channels are not divisible by 5 heads
    await heads.press('Enter');
    await settle(page);
    await page.getByTestId('train-toggle').click();
    await expect.poll(async () => (await training(page)).compiled).toBe('errors');
    await expect
      .poll(async () =>
        (await byId(page, 'train-graph-errors').textContent())?.replace(/\s+/g, ' '),
      )
      .toMatch(/training is off until it is fixed\. The trained weights are kept/);
    expect(await byId(page, 'train-start').isDisabled()).toBe(true);
    await byId(page, 'train-graph-errors').scrollIntoViewIfNeeded();
    await session.screenshot('editor-train-graph-errors');
    await page.getByTestId('undo').click();
    await expect.poll(async () => (await training(page)).compiled).toBe('ok');
    expect((await training(page)).weights).toMatchObject({
      kept: before.tensors,
      digest: before.digest,
    });

    const wait = page.waitForEvent('download', { timeout: 180_000 });
    await byId(page, 'weights-export').click();
    const file = join(FILES, 'demo.safetensors');
    await (await wait).saveAs(file);

    // A file that is not weights is refused and changes nothing.
    const bad = join(FILES, 'not-weights.safetensors');
    writeFileSync(bad, '{"this is": "not a safetensors file"}');
    let chooser = page.waitForEvent('filechooser');
    await byId(page, 'weights-import').click();
    await (await chooser).setFiles(bad);
    await expect
      .poll(() => byId(page, 'weights-notice').textContent())
      .toMatch(/Import refused: .*nothing changed/);
    expect((await training(page)).weights!.digest).toBe(before.digest);

    await byId(page, 'weights-reinit').click({ trial: true }); // present and enabled
    chooser = page.waitForEvent('filechooser');
    await byId(page, 'weights-import').click();
    await (await chooser).setFiles(file);
    await expect
      .poll(() => byId(page, 'weights-notice').textContent())
      .toMatch(new RegExp(`Loaded ${before.tensors} weights from demo.safetensors`));
    expect((await training(page)).weights!.digest).toBe(before.digest);
    await byId(page, 'weights-notice').scrollIntoViewIfNeeded();
    await expect.poll(() => page.getByTestId('toast').count(), { timeout: 10_000 }).toBe(0);
    await session.screenshot('editor-train-weights');
  });

  itOracle(
    'Export for PyTorch: one zip of graph, weights, train.sh and README that mam_torch opens',
    async () => {
      const { page, baseUrl } = session;
      await freshTraining(page, baseUrl);
      await openTrain(page);
      await expect.poll(() => byId(page, 'weights-export-torch').isEnabled()).toBe(true);
      const wait = page.waitForEvent('download', { timeout: 180_000 });
      await byId(page, 'weights-export-torch').click();
      const download = await wait;
      expect(download.suggestedFilename()).toMatch(/-torch\.zip$/);
      const zip = join(FILES, download.suggestedFilename());
      await download.saveAs(zip);
      await expect
        .poll(() => byId(page, 'weights-notice').textContent())
        .toMatch(
          /Exported .*-torch\.zip for PyTorch \(graph, weights at step 0, train\.sh, README\.md\)/,
        );
      // Unpacked by Python's zipfile and read by mam_torch, not by our code.
      const out = execFileSync(venvPython, ['-c', READ_TORCH_ZIP, zip], {
        encoding: 'utf8',
        env: { ...process.env, PYTHONPATH: join(repoRoot, 'python') },
      });
      const r = JSON.parse(out);
      expect(r.names).toEqual(['graph.json', 'weights.safetensors', 'train.sh', 'README.md']);
      expect(r.scriptMode).toBe(0o755);
      expect(r.loaded).toBe(true);
      expect(r.fingerprint).toBe((await training(page)).weights!.fingerprint);
      expect(r.fileFingerprint).toBe(r.fingerprint);
      expect(r.readmeHasFingerprint).toBe(true);
    },
  );
});

/** Python: open the zip, build the graph with mam_torch and load the weights into it (strict). */
const READ_TORCH_ZIP = `
import io, json, sys, zipfile
from safetensors import safe_open
from safetensors.torch import load
from mam_torch import GraphModule, parse_graph, weight_fingerprint
z = zipfile.ZipFile(sys.argv[1])
infos = z.infolist()
folder = infos[0].filename.split("/")[0]
names = [i.filename[len(folder) + 1:] for i in infos]
read = lambda n: z.read(f"{folder}/{n}")
g = parse_graph(read("graph.json").decode(), "graph.json")
m = GraphModule(g, seed=None)
m.load_state_dict(load(read("weights.safetensors")), strict=True)
import tempfile, os
with tempfile.NamedTemporaryFile(suffix=".safetensors", delete=False) as f:
    f.write(read("weights.safetensors"))
with safe_open(f.name, "pt") as sf:
    meta = sf.metadata()
os.unlink(f.name)
script = next(i for i in infos if i.filename.endswith("/train.sh"))
print(json.dumps({"names": names, "scriptMode": (script.external_attr >> 16) & 0o777, "loaded": True,
    "fingerprint": weight_fingerprint(g), "fileFingerprint": meta.get("fingerprint"),
    "readmeHasFingerprint": weight_fingerprint(g) in read("README.md").decode()}))
`;

describe('editor training survives the page', () => {
  let session: BrowserSession;

  beforeAll(async () => {
    session = await openBrowser('/');
  });
  afterAll(async () => {
    await session?.close();
  });

  it('keeps the run across a reload: history, evaluation, the trained weights; Resume continues', async () => {
    const { page, baseUrl } = session;
    await freshTraining(page, baseUrl);
    await openTrain(page);
    await startRun(page, 40, 3);
    await expect
      .poll(async () => (await training(page)).step, { timeout: 120_000 })
      .toBeGreaterThanOrEqual(4);
    await stopRun(page);
    const savesBefore = (await training(page)).saves;
    await byId(page, 'eval-run').click();
    await expect.poll(async () => (await training(page)).evaluations, { timeout: 90_000 }).toBe(1);
    // The evaluation is kept too: one more save after it.
    await expect
      .poll(async () => (await training(page)).saves, { timeout: 30_000 })
      .toBeGreaterThan(savesBefore);
    const before = await training(page);
    expect(before.saved).toMatchObject({ step: before.step });
    expect(before.saved!.error).toBeUndefined();
    console.log(
      `run store: one save of the demo (${count(before.weights!.parameters)} parameters) = ${count(before.saved!.bytes)} bytes in ${before.saved!.ms.toFixed(0)} ms`,
    );

    const dialogs = dialogsOf(page);
    await reloadTrain(page, before.step);
    expect(dialogs).toEqual([]); // no run was active: leaving did not ask
    const after = await training(page);
    expect(after).toMatchObject({
      lossPoints: before.lossPoints,
      validations: before.validations,
      canResume: true,
      evaluation: before.evaluation,
    });
    expect(after.weights!.digest).toBe(before.weights!.digest);
    expect(await byId(page, 'weights-note').textContent()).toMatch(
      new RegExp(`Restored from this browser: trained ${before.step} steps`),
    );
    expect(await panel(page).locator('mam-eval-table tbody tr[data-class]').count()).toBe(7);
    expect(await byId(page, 'loss-chart').locator('path').count()).toBeGreaterThan(0);
    expect(await byId(page, 'progress-step').textContent()).toMatch(
      new RegExp(`step\\s+${before.step}/40`),
    );

    // The same weights evaluate to the same Dice.
    await byId(page, 'eval-run').click();
    await expect.poll(async () => (await training(page)).evaluations, { timeout: 90_000 }).toBe(1);
    expect((await training(page)).evaluation!.meanDice).toBe(before.evaluation!.meanDice);

    // Resume goes on from the stored step, with the history continuing.
    await expect.poll(() => byId(page, 'train-start').textContent()).toMatch(/Resume/);
    await byId(page, 'train-start').click();
    await expect
      .poll(async () => (await training(page)).step, { timeout: 120_000 })
      .toBeGreaterThan(before.step);
    expect(await byId(page, 'progress-step').textContent()).toMatch(/step\s+\d+\/40/);
    await stopRun(page);
    const resumed = await training(page);
    expect(resumed.lossPoints).toBe(resumed.step);
    const runStep = Number(
      /step\s+(\d+)\/40/.exec((await byId(page, 'progress-step').textContent())!)![1],
    );
    expect(runStep).toBe(resumed.step);
    await session.screenshot('editor-train-restored');
  });

  it('asks before leaving during a run, keeps the last checkpoint of a run cut by a reload, and keeps tensors flat while saving', async () => {
    const { page, baseUrl } = session;
    await freshTraining(page, baseUrl);
    await openTrain(page);
    await startRun(page, 60, 3);
    // The loss array grows in place, not copied on each step.
    await page.evaluate(() => {
      const p = document.querySelector('mam-train-panel') as unknown as { losses: unknown };
      (window as unknown as { lossRef: unknown }).lossRef = p.losses;
    });
    await expect
      .poll(async () => (await training(page)).saved?.step ?? 0, { timeout: 180_000 })
      .toBeGreaterThanOrEqual(6);
    await expect
      .poll(async () => (await training(page)).step, { timeout: 60_000 })
      .toBeGreaterThanOrEqual(8);
    const running = await training(page);
    expect(running.running).toBe(true);
    expect(
      await page.evaluate(() => {
        const p = document.querySelector('mam-train-panel') as unknown as {
          losses: { count: number };
        };
        return p.losses === (window as unknown as { lossRef: unknown }).lossRef && p.losses.count;
      }),
    ).toBeGreaterThanOrEqual(8);
    // Two saves and validations happened between these steps; the worker's tensor count did not move.
    expect(running.numTensors.length).toBeGreaterThanOrEqual(8);
    expect(new Set(running.numTensors).size).toBe(1);

    const dialogs = dialogsOf(page);
    await page.reload();
    expect(dialogs).toEqual(['beforeunload']);
    await ready(page);
    await openTrain(page);
    await expect
      .poll(async () => (await training(page)).step, { timeout: 60_000 })
      .toBeGreaterThanOrEqual(6);
    const restored = await training(page);
    expect(restored.step % 3).toBe(0); // a checkpoint: after a validation
    expect(restored.lossPoints).toBe(restored.step);
    expect(restored.canResume).toBe(true);
    expect(restored.running).toBe(false);

    // No run active: leaving does not ask.
    await page.reload();
    await ready(page);
    expect(dialogs).toEqual(['beforeunload']);
  });

  it('says when the graph changed during a run, and Stop and recompile carries the weights by key and shape', async () => {
    const { page, baseUrl } = session;
    await freshTraining(page, baseUrl);
    await openTrain(page);
    await startRun(page, 400, 200);
    await expect
      .poll(async () => (await training(page)).step, { timeout: 120_000 })
      .toBeGreaterThanOrEqual(1);
    const trained = (await training(page)).weights!;

    await page.getByTestId('train-toggle').click();
    await setParam(page, 'layers.0.blocks.0', 'mlpRatio', '2');
    await page.getByTestId('train-toggle').click();
    const canvas = await page.evaluate(() => window.__mam!.analysis.params);
    // fc1 (32→128) and fc2 (128→32) become 32→64→32: 2·32·64 + 64 parameters fewer.
    expect(trained.parameters - canvas).toBe(2 * 32 * 64 + 64);
    await expect
      .poll(async () =>
        (await byId(page, 'train-graph-changed').textContent())?.replace(/\s+/g, ' '),
      )
      .toMatch(
        `The graph changed since this run started: the run goes on training the graph as it was (${count(trained.parameters)} parameters); the canvas now has ${count(canvas)}.`,
      );
    const during = await training(page);
    expect(during.running).toBe(true);
    expect(during.graphChanged).toBe(true);
    await byId(page, 'train-graph-changed').scrollIntoViewIfNeeded();
    await session.screenshot('editor-train-graph-changed');

    await byId(page, 'train-stop-recompile').click();
    await expect
      .poll(async () => (await training(page)).weights?.parameters, { timeout: 90_000 })
      .toBe(canvas);
    const after = await training(page);
    expect(after.running).toBe(false);
    expect(after.graphChanged).toBe(false);
    expect(await byId(page, 'train-graph-changed').count()).toBe(0);
    // fc1.weight, fc1.bias and fc2.weight change shape; every other weight is kept.
    expect(after.weights).toMatchObject({
      tensors: trained.tensors,
      kept: trained.tensors - 3,
      reinitialised: 3,
      dropped: 0,
    });
    expect(await byId(page, 'train-notice').textContent()).toMatch(
      /Stopped at step \d+ to compile the changed graph: weights and history kept\./,
    );
    expect(after.carryNote).toBe(
      `Graph changed: kept ${trained.tensors - 3} of ${trained.tensors} weight tensors, re-initialised 3.`,
    );
  });

  it('on reload with another graph open, says the stored run belongs to a different graph and keeps it', async () => {
    const { page, baseUrl } = session;
    await freshTraining(page, baseUrl);
    const stored = await trainAndKeep(page);

    await page.reload();
    await ready(page);
    await setParam(page, 'layers.0.blocks.0', 'mlpRatio', '2');
    const canvas = await page.evaluate(() => window.__mam!.analysis.params);
    await openTrain(page);
    await expect
      .poll(() => byId(page, 'train-notice').textContent(), { timeout: 60_000 })
      .toMatch(
        `was trained on a different graph than the one open (${count(canvas)} parameters): its weights were not loaded`,
      );
    expect(await byId(page, 'train-notice').textContent()).toMatch(
      `The stored run (step ${stored.step}, ${count(stored.weights!.parameters)} parameters`,
    );
    const other = await training(page);
    expect(other).toMatchObject({ step: 0, lossPoints: 0, canResume: false });
    expect(other.weights!.parameters).toBe(canvas);

    // Re-initialising this graph's weights leaves the other graph's stored run alone; the
    // weights are the graph's seeded ones, as its compile gave them.
    const dialogs = dialogsOf(page);
    await byId(page, 'weights-reinit').click();
    await expect.poll(async () => (await training(page)).reinitialisations).toBe(1);
    expect((await training(page)).weights!.digest).toBe(other.weights!.digest);
    expect(dialogs).toEqual(['confirm']);

    // Back to the graph it was trained on: the stored run was kept, and comes back.
    await page.getByTestId('train-toggle').click();
    await page.getByTestId('undo').click();
    await settle(page);
    await page.getByTestId('train-toggle').click();
    await expect
      .poll(async () => (await training(page)).step, { timeout: 60_000 })
      .toBe(stored.step);
    const back = await training(page);
    expect(back).toMatchObject({ lossPoints: stored.lossPoints, canResume: true });
    expect(back.weights!.digest).toBe(stored.weights!.digest);
    expect(await byId(page, 'train-notice').count()).toBe(0);
  });

  it('says so when the run cannot be kept in the browser, and trains on', async () => {
    const { page, baseUrl } = session;
    await freshTraining(page, baseUrl);
    // A file where the runs folder should be: OPFS refuses every write under it.
    await page.evaluate(async () => {
      const root = await navigator.storage.getDirectory();
      await root.getFileHandle('mam-studio-runs', { create: true });
    });
    await openTrain(page);
    await startRun(page, 60, 3);
    await expect
      .poll(() => byId(page, 'train-notice').textContent(), { timeout: 180_000 })
      .toMatch(
        /Could not keep the run in this browser at step 3: OPFS mam-studio-runs: .* Training goes on; Export keeps the weights\./,
      );
    await expect
      .poll(async () => (await training(page)).step, { timeout: 120_000 })
      .toBeGreaterThanOrEqual(4);
    expect((await training(page)).saved!.error).toMatch(/^OPFS mam-studio-runs: /);
    await stopRun(page);
    await expect.poll(() => byId(page, 'weights-export').isEnabled()).toBe(true);
  });

  it('says so when the stored run is not one it can read, and starts afresh', async () => {
    const { page, baseUrl } = session;
    await freshTraining(page, baseUrl);
    // What an earlier mam-studio kept in IndexedDB is still read; here a later one's record
    // of another format under the same id.
    await writeRunsDb(page, 1, { id: 'current', format: 'mam-studio/run', version: 2 });
    await openTrain(page);
    await expect
      .poll(() => byId(page, 'train-notice').textContent(), { timeout: 60_000 })
      .toMatch(
        'The run stored in this browser was not loaded: the stored run is not a mam-studio/run record of version 1. It stays stored until a run or an import replaces it.',
      );
    expect(await training(page)).toMatchObject({ step: 0, lossPoints: 0, canResume: false });
    await expect.poll(() => byId(page, 'train-start').isDisabled()).toBe(false);
  });
  it('a save cut short leaves the stored run whole; a broken one is said, not loaded', async () => {
    const { page, baseUrl } = session;
    await freshTraining(page, baseUrl);
    const stored = await trainAndKeep(page);

    // A later save cut off before its head.json was replaced: a version folder with part of its files.
    await page.evaluate(async () => {
      const root = await navigator.storage.getDirectory();
      const run = await (
        await root.getDirectoryHandle('mam-studio-runs')
      ).getDirectoryHandle('current');
      const cut = await run.getDirectoryHandle('vcut', { create: true });
      const w = await (await cut.getFileHandle('0.bin', { create: true })).createWritable();
      await w.write(new Uint8Array([1, 2, 3]));
      await w.close();
    });
    await page.reload();
    await ready(page);
    await openTrain(page);
    await expect
      .poll(async () => (await training(page)).step, { timeout: 60_000 })
      .toBe(stored.step);
    expect((await training(page)).weights!.digest).toBe(stored.weights!.digest);

    // head.json naming a version that is not there: said on the panel, nothing loaded.
    await page.evaluate(async () => {
      const root = await navigator.storage.getDirectory();
      const run = await (
        await root.getDirectoryHandle('mam-studio-runs')
      ).getDirectoryHandle('current');
      const w = await (await run.getFileHandle('head.json')).createWritable();
      await w.write('{"version":"vgone"}');
      await w.close();
    });
    await page.reload();
    await ready(page);
    await openTrain(page);
    await expect
      .poll(() => byId(page, 'train-notice').textContent(), { timeout: 60_000 })
      .toMatch(/^\s*The run stored in this browser was not loaded: OPFS mam-studio-runs: /);
    expect(await training(page)).toMatchObject({ step: 0, lossPoints: 0, canResume: false });
  });
});

/** Writes the run database from the page as another mam-studio would: at `version`, with `record` in it. */
function writeRunsDb(page: Page, version: number, record?: object): Promise<void> {
  return page.evaluate(
    ([version, record]) =>
      new Promise<void>((resolve, reject) => {
        const req = indexedDB.open('mam-studio-runs', version);
        req.onupgradeneeded = () => req.result.createObjectStore('runs', { keyPath: 'id' });
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const db = req.result;
          const tx = db.transaction('runs', 'readwrite');
          if (record) tx.objectStore('runs').put(record);
          tx.oncomplete = () => {
            db.close();
            resolve();
          };
          tx.onerror = () => reject(tx.error);
        };
      }),
    [version, record] as const,
  );
}
