/**
 * The Train drawer: backend, data, settings, Start/Stop with progress and
 * live charts, evaluation per class, a test slice with overlays, and weights
 * in and out. Everything heavy happens in the training worker (train-client);
 * this element keeps what the user sees and follows the graph: each edit
 * recompiles (after a run, never during one), keeping the weights that fit.
 * An edit during a run is said on the panel, with Stop and recompile. The
 * worker keeps the run in the browser's run store, so a reload brings it
 * back; leaving the page while a run is active asks first.
 */
import * as Comlink from 'comlink';
import { LitElement, html, nothing } from 'lit';
import type { BackendInfo, BackendPreference } from '../src/backend/types.ts';
import type { Analysis } from '../src/graph/infer.ts';
import type { GraphDoc, GraphIssue } from '../src/graph/types.ts';
import type { DemoSplit } from '../src/data/demo.ts';
import type { MetricConvention } from '../src/train/metrics.ts';
import './charts.ts';
import type { DataOpen } from './data-panel.ts';
import './data-panel.ts';
import type { DirectoryHandle } from './data-pick.ts';
import { keepFolder, keptFolder, readKeptFolder } from './folder-handles.ts';
import './eval-table.ts';
import './image-view.ts';
import { download } from './files.ts';
import { saveGraph } from '../src/graph/save.ts';
import { graphFileName } from '../src/share/filename.ts';
import { torchExportFiles, torchExportZip } from '../src/share/torch-export.ts';
import { TrainClient } from './train-client.ts';
import { carryNote, formatNumber } from './train-format.ts';
import { renderNotice, type Notice } from './train-notice.ts';
import './train-progress-view.ts';
import { RunState, type Persisted } from './train-run-state.ts';
import './train-settings-view.ts';
import './train-weights-view.ts';
import { trainPanelStyles } from './train-styles.ts';
import './compare-view.ts';
import { RunsController } from './runs-controller.ts';
import './runs-list.ts';
import type { Catalogue } from '../src/graph/node-kind.ts';
import {
  compileKey,
  panelDefaults,
  type DataInfo,
  type DemoSet,
  type DataOpenReply,
  type EvalResult,
  type PickedFile,
  type StorageEstimate,
  type Preview,
  type RestoreReply,
  type SessionEvent,
  type TrainEventMessage,
  type TrainPanelSettings,
  type WeightsSummary,
} from './worker/api.ts';

const BACKENDS: BackendPreference[] = ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'];
/** Where the app serves the embedded demo sets (vite.config.ts): data/demo/ and data/demo3d/. */
const demoUrl = (which: DemoSet) => `${import.meta.env.BASE_URL}data/${which}/`;

/** Read-only state for tests and the console. */
export interface TrainSummary {
  backend: BackendInfo | undefined;
  weights: WeightsSummary | undefined;
  running: boolean;
  compiled: 'ok' | 'errors' | 'none';
  step: number;
  lossPoints: number;
  validations: number;
  canResume: boolean;
  carryNote: string;
  evaluation: { split: string; convention: string; meanDice: number } | undefined;
  /** The last save of the run in this browser (step, bytes, milliseconds), and how many so far. */
  saved: Persisted | undefined;
  saves: number;
  /** Evaluations run in this page (a restored table is not one). */
  evaluations: number;
  /** Re-initialisations done in this page. */
  reinitialisations: number;
  /** The worker's tensor count after each step of this page's runs: flat, or a leak. */
  numTensors: readonly number[];
  /** The canvas differs from the graph being trained (during a run). */
  graphChanged: boolean;
  /** The runs list as shown: id, name, steps, whether it is the open run. */
  runs: { id: string; name: string; steps: number; current: boolean }[];
}

export class TrainPanel extends LitElement {
  static override properties = {
    doc: { attribute: false },
    catalogue: { attribute: false },
    analysis: { attribute: false },
    open: { type: Boolean, reflect: true },
    backendPref: { state: true },
    backend: { state: true },
    busy: { state: true },
    data: { state: true },
    dataFailure: { state: true },
    classNames: { state: true },
    storage: { state: true },
    weights: { state: true },
    compileErrors: { state: true },
    settings: { state: true },
    running: { state: true },
    stopping: { state: true },
    note: { state: true },
    notice: { state: true },
    weightsNotice: { state: true },
    canResume: { state: true },
    resumeRefusal: { state: true },
    reopen: { state: true },
    evalSplit: { state: true },
    evalConvention: { state: true },
    evalResult: { state: true },
    preview: { state: true },
    previewIndex: { state: true },
  };
  static override styles = trainPanelStyles;

  doc: GraphDoc | undefined;
  /** The app's node kinds (the compare view counts and compares graphs with them). */
  catalogue: Catalogue | undefined;
  analysis: Analysis | undefined;
  open = false;
  backendPref: BackendPreference = 'auto';
  backend: BackendInfo | undefined;
  /** What the worker is doing besides training, in words ('' when idle). */
  busy = '';
  data: DataInfo | undefined;
  /** The last folder that could not be opened (the data before it is kept). */
  dataFailure: Extract<DataOpenReply, { ok: false }> | undefined;
  /** Browser storage used and granted, as last asked. */
  storage: StorageEstimate | undefined;
  /** The compiled graph's output classes. */
  classNames: string[] | undefined;
  weights: WeightsSummary | undefined;
  compileErrors: GraphIssue[] | undefined;
  settings: TrainPanelSettings = panelDefaults(undefined);
  running = false;
  stopping = false;
  /** The run's numbers and history, from the session's events (O(1) per step). */
  readonly runState = new RunState();
  note = '';
  notice: Notice | undefined;
  /** The outcome of an export or import, shown beside the weights buttons. */
  weightsNotice: Notice | undefined;
  canResume = false;
  /** Why Resume cannot continue the opened run (another engine trained it): shown, Resume disabled. */
  resumeRefusal: string | undefined;
  evalSplit: DemoSplit = 'test';
  evalConvention: MetricConvention = 'synapse';
  evalResult: EvalResult | undefined;
  preview: Preview | undefined;
  previewIndex = -1;

  private client: TrainClient | undefined;
  /** The runs kept in this browser, and the compare view (runs-controller.ts). */
  readonly runs = new RunsController({
    run: (what, fn) => this.run(what, fn),
    opened: (graph, reply, name) => this.openedRun(graph, reply, name),
    say: (notice) => (this.notice = notice),
    requestUpdate: () => this.requestUpdate(),
  });
  private compiledKey = '';
  /** The compile key of the graph on the canvas (kept up to date while training). */
  private openKey = '';
  /**
   * A stored run may belong to the graph compiled next: at the first compile,
   * and while the stored run is of another graph and nothing new was trained.
   */
  private storedRunWaiting = true;
  /** The compile key of the stored run's graph, once known: only that graph asks the store again. */
  private storedRunKey: string | undefined;
  private evaluations = 0;
  private reinitialisations = 0;
  /** The data the restored run trained on, while it has steps left to resume. */
  private resumeOn: string | undefined;
  /** That data's folder as the picker gave it before the reload (folder-handles.ts), if kept. */
  reopen: DirectoryHandle | undefined;
  private settingsFor = '';
  /** Requests to the worker other than training run one after another. */
  private queue: Promise<unknown> = Promise.resolve();

  get summary(): TrainSummary {
    return {
      backend: this.backend,
      weights: this.weights,
      running: this.running,
      compiled: this.compileErrors ? 'errors' : this.weights ? 'ok' : 'none',
      step: this.runState.progress?.step ?? 0,
      lossPoints: this.runState.losses.count,
      validations: this.runState.validations.length,
      canResume: this.canResume,
      carryNote: this.note,
      evaluation: this.evalResult && {
        split: this.evalResult.split,
        convention: this.evalResult.convention,
        meanDice: this.evalResult.meanDice,
      },
      saved: this.runState.saved,
      saves: this.runState.saves,
      evaluations: this.evaluations,
      reinitialisations: this.reinitialisations,
      numTensors: this.runState.tensorCounts,
      graphChanged: this.graphChanged,
      runs: this.runs.runs.map(({ id, name, steps, current }) => ({ id, name, steps, current })),
    };
  }

  /** The loss series the chart draws (read by tests: appended in place, never replaced during a run). */
  get losses() {
    return this.runState.losses;
  }

  /** Training on a graph other than the canvas's: edits made since the run started. */
  private get graphChanged(): boolean {
    return this.running && !!this.compiledKey && this.openKey !== this.compiledKey;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('beforeunload', this.onBeforeUnload);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('beforeunload', this.onBeforeUnload);
    this.client?.terminate();
  }

  /** Leaving during a run asks first: the run itself would stop (its last checkpoint is kept). */
  private onBeforeUnload = (e: BeforeUnloadEvent) => {
    if (!this.running) return;
    e.preventDefault();
    e.returnValue = ''; // older Chromium shows the dialog only when this is set
  };

  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('doc') && this.doc) {
      this.openKey = compileKey(this.doc);
      const key = JSON.stringify(this.doc.metadata?.training ?? {});
      if (key !== this.settingsFor && !this.running) {
        this.settingsFor = key;
        this.settings = panelDefaults(this.doc);
        this.evalConvention = this.settings.convention;
      }
    }
    if ((changed.has('open') && this.open) || (changed.has('doc') && this.client)) void this.sync();
  }

  /** Starts the worker on first open; recompiles when the graph changed (not during a run). */
  private async sync() {
    if (!this.client) {
      this.client = new TrainClient((e) => this.onTrainEvent(e));
      await this.run('starting the backend', async (c) => {
        this.backend = await c.call((w) => w.init(this.backendPref));
      });
      void this.refreshStorage();
      await this.recompile();
      await this.run('loading the demo data', async (c) => {
        if (this.data) return; // a folder opened meanwhile
        await this.loadDemo(c);
      });
      await this.runs.refresh();
      return;
    }
    if (!this.running) await this.recompile();
  }

  /** One case of the opened folder for the data panel's volume viewer. */
  private readonly loadVolume = (id: string) => this.client!.call((w) => w.caseVolume(id));

  private run<T>(what: string, fn: (c: TrainClient) => Promise<T>): Promise<T | undefined> {
    const c = this.client!;
    const next = this.queue.then(async () => {
      this.busy = what;
      try {
        return await fn(c);
      } catch (e) {
        const notice: Notice = {
          level: 'error',
          text: `${capitalise(what)} failed: ${(e as Error).message}`,
        };
        if (/weights/.test(what)) this.weightsNotice = notice;
        else this.notice = notice;
        return undefined;
      } finally {
        this.busy = '';
      }
    });
    this.queue = next;
    return next;
  }

  private recompile() {
    const doc = this.doc;
    if (!doc || compileKey(doc) === this.compiledKey) return Promise.resolve();
    return this.run('compiling the graph', async (c) => {
      const key = compileKey(doc);
      if (key === this.compiledKey) return;
      const first = !this.weights;
      const r = await c.call((w) => w.compile(doc));
      this.compiledKey = key;
      if (r.ok) {
        this.compileErrors = undefined;
        this.classNames = r.classNames;
        // An opened folder is checked against the graph as it is now; the demo follows the
        // graph's input (a 3D graph trains on data/demo3d, a 2D one on data/demo).
        if (this.data?.folder) this.data = await c.call((w) => w.dataInfo());
        this.demoSet = r.inputShape.length === 5 ? 'demo3d' : 'demo';
        if (this.data && !this.data.folder && this.loadedDemo !== this.demoSet)
          await this.loadDemo(c);
        this.weights = r.weights;
        this.canResume = r.canResume;
        this.note = carryNote(r.weights, first);
        if (this.storedRunWaiting && (this.storedRunKey ?? key) === key)
          this.restored(await c.call((w) => w.restore()));
      } else {
        this.compileErrors = r.errors;
      }
    });
  }

  /** Shows the run the worker found in the store (or says why it was not loaded). */
  private restored(r: RestoreReply) {
    this.storedRunWaiting = r.status === 'not-restored' && r.reason === 'other-graph';
    this.storedRunKey = r.status === 'not-restored' ? r.graphKey : undefined;
    if (r.status === 'none') return;
    if (r.status === 'not-restored') {
      this.notice = { level: r.reason === 'unreadable' ? 'error' : 'info', text: r.message };
      return;
    }
    this.notice = undefined;
    this.weights = r.weights;
    this.canResume = r.canResume;
    this.resumeRefusal = r.resumeRefusal;
    this.runState.restore(r);
    this.evalResult = r.evaluation;
    if (r.settings) this.settings = r.settings;
    this.requestUpdate();
    const when = new Date(r.savedAt).toLocaleTimeString('en-GB');
    this.note = `Restored from this browser: ${r.weights.origin}, saved at ${when}.`;
    const left = r.run && r.run.runStep < r.run.totalSteps;
    this.resumeOn = left ? r.dataSource : undefined;
    this.sayWhereResumes();
    this.reopen = undefined;
    const on = this.resumeOn;
    if (on)
      void keptFolder(on).then((h) => {
        if (this.resumeOn === on) this.reopen = h;
      });
  }

  /** "Reopen <folder>": asks to read the kept folder again (this click is the user's gesture), then opens it. */
  private async reopenFolder() {
    const h = this.reopen;
    if (!h) return;
    const r = await readKeptFolder(h);
    if (!r.ok) this.notice = { level: 'error', text: r.message };
    else await this.openFolder(r.files, h);
  }

  /**
   * A restored run with steps left resumes only on its own data: while other
   * data is loaded (the demo after a reload, say), the panel says which to open.
   */
  private sayWhereResumes() {
    const on = this.resumeOn;
    const now = this.data?.source;
    // The same name with other contents (files changed, another folder of that name): the data fingerprint differs.
    const text = (n: string) =>
      n === on
        ? `This run was trained on ${on}, but the folder loaded now under that name holds other data (its files or split differ): Resume is off; a new run trains on it.`
        : `This run was trained on ${on}: open that folder again to resume it (${n} is loaded now; a new run trains on it).`;
    if (on && now && !this.canResume) this.notice = { level: 'info', text: text(now) };
    else if (this.notice?.text.startsWith(`This run was trained on ${on}`)) this.notice = undefined;
  }

  /** A run opened from the list: shown now when its graph is the one compiled, else once that graph is. */
  private openedRun(graph: GraphDoc, r: RestoreReply, name: string) {
    this.runState.clear();
    this.evalResult = undefined;
    this.canResume = false;
    this.resumeRefusal = undefined;
    if (r.status === 'restored') {
      this.restored(r);
      this.note = `Opened the run ${name}: ${r.weights.origin}.`;
      return;
    }
    // The run's graph goes on the canvas; its compile restores the run (recompile).
    this.storedRunWaiting = true;
    this.storedRunKey = r.status === 'not-restored' ? r.graphKey : undefined;
    this.dispatchEvent(
      new CustomEvent('open-graph', { detail: { doc: graph, source: `run ${name}` } }),
    );
  }

  private onTrainEvent(e: SessionEvent) {
    this.runState.apply(e);
    this.requestUpdate();
    if (e.type === 'persisted') {
      void this.refreshStorage();
      if (!this.running) void this.runs.refresh();
    }
    if (e.type === 'validation') void this.refreshPreview();
    else if (e.type === 'persisted' && e.error)
      this.notice = {
        level: 'error',
        text: `Could not keep the run in this browser at step ${e.step}: ${e.error} Training goes on; Export keeps the weights.`,
      };
    else if (e.type === 'done') {
      const recompile = this.graphChanged;
      this.running = false;
      this.stopping = false;
      this.weights = e.weights;
      this.canResume = e.canResume;
      this.notice = doneNotice(e, recompile);
      void this.runs.refresh();
      void this.refreshPreview();
      void this.recompile(); // edits made during the run
    }
  }

  private async start(resume: boolean) {
    const c = this.client;
    if (!c || this.running) return;
    await this.queue;
    this.notice = undefined;
    try {
      const settings = this.settings;
      const r = await c.call((w) => w.train(settings, resume));
      this.running = true;
      this.resumeRefusal = undefined; // a new run from the weights: its own checkpoints resume
      this.storedRunWaiting = false; // this run replaces the stored one at its first checkpoint
      this.resumeOn = undefined;
      this.runState.start(r.totalSteps, r.learningRate);
      void this.runs.refresh();
      this.notice = {
        level: 'info',
        text: `${r.resumed ? 'Resumed' : 'Started'}: ${r.totalSteps} steps, lr ${formatNumber(r.learningRate, 4)}${this.settings.optimizer === 'sgd' ? ` (${this.settings.learningRate} × batch/24)` : ''}, validation every ${r.valEvery} steps.`,
      };
    } catch (e) {
      this.notice = { level: 'error', text: `Cannot start: ${(e as Error).message}` };
    }
  }

  /** Stops the run; its end recompiles the graph as it is now, carrying weights by key and shape. */
  private async stop() {
    if (!this.running || !this.client) return;
    this.stopping = true;
    await this.client.call((w) => w.stop());
  }

  private async changeBackend(pref: BackendPreference) {
    this.backendPref = pref;
    await this.run('starting the backend', async (c) => {
      this.backend = await c.call((w) => w.init(pref));
    });
  }

  /** The split the slice view shows: test, else val, else train (a folder may have no test cases). */
  private get previewSplit(): DemoSplit {
    const s = this.data?.splits;
    return !s || s.test.slices ? 'test' : s.val.slices ? 'val' : 'train';
  }

  private middleSlice(): number {
    return Math.floor((this.data?.splits[this.previewSplit].slices ?? 0) / 2);
  }

  private async refreshPreview() {
    if (!this.client || !this.weights || !this.data || this.compileErrors) return;
    if (this.data.folder?.errors.length) return;
    await this.run('predicting a slice', async (c) => {
      const index = this.previewIndex;
      const split = this.previewSplit;
      this.preview = await c.call((w) => w.predict(split, index));
    });
  }

  private async refreshStorage() {
    this.storage = await this.client?.call((w) => w.storage()).catch(() => undefined);
  }

  /** New data in the session: shown with whether Resume continues on it (a run resumes only on its own data). */
  private async setData(c: TrainClient, info: DataInfo) {
    const canResume = await c.call((w) => w.canResume());
    this.data = info;
    this.canResume = canResume;
    this.sayWhereResumes();
    this.preview = undefined;
    this.previewIndex = this.middleSlice();
  }

  /** A folder the user picked or dropped, read in the worker; one that cannot be used changes nothing. */
  private async openFolder(files: PickedFile[], handle?: DirectoryHandle) {
    if (!this.client) await this.sync();
    await this.run('reading the data', async (c) => {
      const seed = this.settings.seed;
      const r = await c.call((w) => w.openFolder(files, seed));
      if (!r.ok) {
        this.dataFailure = r;
        return;
      }
      this.dataFailure = undefined;
      if (handle) await keepFolder(r.info.source, handle);
      await this.setData(c, r.info);
    });
    await this.refreshPreview();
  }

  private async moveCase(id: string, split: DemoSplit | 'unused') {
    await this.run('changing the split', async (c) => {
      await this.setData(c, await c.call((w) => w.moveCase(id, split)));
    });
    await this.refreshPreview();
  }

  private async useDemo() {
    await this.run('loading the demo data', async (c) => {
      this.dataFailure = undefined;
      await this.loadDemo(c);
    });
    await this.refreshPreview();
  }

  /** The demo set the compiled graph takes: volumes for a 3D input, 2D slices otherwise. */
  private demoSet: DemoSet = 'demo';
  /** The demo set loaded in the worker (undefined: a folder is, or nothing yet). */
  private loadedDemo: DemoSet | undefined;

  /** Training volumes, where the graph takes volumes (its epochs count volumes), else undefined. */
  private trainVolumes(): number | undefined {
    if (this.demoSet !== 'demo3d') return undefined;
    return (this.data?.folder?.cases ?? this.data?.cases)?.filter((c) => c.split === 'train')
      .length;
  }

  private async loadDemo(c: TrainClient) {
    const which = this.demoSet;
    await this.setData(c, await c.call((w) => w.loadDemo(demoUrl(which), which)));
    this.loadedDemo = which;
  }

  /** The case the slice view shows, predicted whole, downloaded as NIfTI (as `mam eval` writes it). */
  private async downloadPrediction() {
    const caseId = this.preview?.caseId;
    if (!caseId) return;
    const split = this.preview!.split;
    await this.run('predicting the case', async (c) => {
      const f = await c.call((w) => w.predictionFile(split, caseId));
      download(f.name, new Blob([f.bytes as BlobPart]));
    });
  }

  private async evaluate() {
    await this.run(`evaluating the ${this.evalSplit} split`, async (c) => {
      const { evalSplit, evalConvention } = this;
      this.evalResult = await c.call((w) => w.evaluate(evalSplit, evalConvention));
      this.evaluations++;
    });
    await this.refreshPreview();
  }

  private async exportWeights() {
    await this.run('exporting the weights', async (c) => {
      const bytes = await c.call((w) => w.exportWeights());
      const base = (this.doc?.metadata?.title ?? 'graph').replace(/[^\w.-]+/g, '-').toLowerCase();
      download(
        `${base}-step${this.runState.progress?.step ?? 0}.safetensors`,
        new Blob([bytes as BlobPart]),
      );
      this.weightsNotice = {
        level: 'info',
        text: `Exported ${bytes.length.toLocaleString('en-US')} bytes of weights.`,
      };
    });
  }

  /** The graph, these weights, a launch script and a README in one zip, as `mam export --torch` writes them. */
  private async exportForTorch() {
    await this.run('exporting for PyTorch', async (c) => {
      const doc = this.doc;
      if (!doc) return;
      const weights = await c.call((w) => w.exportWeights());
      const graphName = graphFileName(doc);
      const folder = `${graphName.replace(/\.json$/i, '')}-torch`;
      const files = torchExportFiles({
        graphText: saveGraph(doc),
        graphName,
        title: doc.metadata?.title ?? '',
        fingerprint: this.weights?.fingerprint ?? '',
        weights,
      });
      download(`${folder}.zip`, new Blob([torchExportZip(files, folder) as BlobPart]));
      this.weightsNotice = {
        level: 'info',
        text: `Exported ${folder}.zip for PyTorch (graph, weights at step ${this.runState.progress?.step ?? 0}, train.sh, README.md).`,
      };
    });
  }

  private async importWeights(file: File) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    await this.run('importing weights', async (c) => {
      const r = await c.call((w) =>
        w.importWeights(file.name, Comlink.transfer(bytes, [bytes.buffer])),
      );
      if (!r.ok) {
        this.weightsNotice = { level: 'error', text: `Import refused: ${r.message}` };
        return;
      }
      this.weights = r.weights;
      this.canResume = false;
      this.resumeRefusal = undefined;
      const [head, ...rest] = r.message.split('\n');
      this.weightsNotice = { level: 'info', text: head, detail: rest.join('\n') || undefined };
    });
    await this.refreshPreview();
  }

  private async reinitialise() {
    if (!confirm('Re-initialise every weight and clear the training history?')) return;
    await this.run('re-initialising', async (c) => {
      this.weights = await c.call((w) => w.reinitialise());
      this.reinitialisations++;
      this.runState.clear();
      this.evalResult = undefined;
      this.canResume = false;
      this.resumeRefusal = undefined;
      this.note = carryNote(this.weights, true);
    });
    await this.runs.refresh();
    await this.refreshPreview();
  }

  /**
   * Start, or Resume and New run while the last run has steps left; a run Resume cannot
   * continue (another engine's) shows Resume disabled with the reason, and New run.
   */
  private renderStart(ready: boolean, errors: GraphIssue[] | undefined) {
    const refusal = this.resumeRefusal;
    const resumable = this.canResume || !!refusal;
    return html`<button
        class="primary"
        data-testid="train-start"
        ?disabled=${!ready || !!refusal}
        title=${refusal ?? (errors ? 'Fix the graph’s problems first' : '')}
        @click=${() => void this.start(this.canResume)}
      >
        ${resumable ? 'Resume' : 'Start'}
      </button>
      ${
        resumable
          ? html`<button
              data-testid="train-new-run"
              ?disabled=${!ready}
              title="A fresh schedule from the current weights"
              @click=${() => void this.start(false)}
            >
              New run
            </button>`
          : nothing
      }`;
  }

  override render() {
    const errors = this.compileErrors;
    const ready =
      !!this.weights && !errors && !!this.data && !this.data.folder?.errors.length && !this.busy;
    const xMax = this.runState.xMax;
    return html`
      <header>
        <h2>Train &amp; evaluate</h2>
        <span class="busy" data-testid="train-busy">${this.busy ? `${this.busy}…` : ''}</span>
        <button
          class="close"
          title="Close"
          @click=${() => this.dispatchEvent(new CustomEvent('close'))}
        >
          ×
        </button>
      </header>
      <div class="body">
        ${this.renderBackend()} ${this.renderData()} ${errors ? this.renderErrors(errors) : nothing}
        <mam-train-settings
          .settings=${this.settings}
          .doc=${this.doc}
          .trainSlices=${this.data?.trainSlices}
          .trainVolumes=${this.trainVolumes()}
          ?disabled=${this.running}
          @settings-change=${(e: CustomEvent<TrainPanelSettings>) => (this.settings = e.detail)}
        ></mam-train-settings>
        <section class="actions">
          ${
            this.running
              ? html`<button
                  class="primary stop"
                  data-testid="train-stop"
                  ?disabled=${this.stopping}
                  @click=${() => void this.stop()}
                >
                  ${this.stopping ? 'Stopping after this step…' : 'Stop'}
                </button>`
              : this.renderStart(ready, errors)
          }
          <span class="weights-note" data-testid="weights-note">${this.note}</span>
        </section>
        ${this.graphChanged ? this.renderGraphChanged() : nothing}
        ${
          this.resumeRefusal && !this.running
            ? html`<p class="notice info" data-testid="resume-refusal">${this.resumeRefusal}</p>`
            : nothing
        }
        ${renderNotice(this.notice, 'train-notice')}
        ${
          this.reopen && this.resumeOn && !this.canResume && !this.running
            ? html`<button data-testid="data-reopen" @click=${() => void this.reopenFolder()}>
                Reopen ${this.reopen.name}
              </button>`
            : nothing
        }
        <mam-train-progress
          .progress=${this.runState.progress}
          .saved=${this.runState.saved}
          ?running=${this.running}
        ></mam-train-progress>
        ${this.renderRuns()}
        <section>
          <h3>Training loss</h3>
          <mam-line-chart
            data-testid="loss-chart"
            y-label="loss"
            .xMin=${0}
            .xMax=${xMax}
            .series=${[{ label: '', color: '#2563eb', points: this.runState.losses.points }]}
            empty="Start training to see the loss"
          ></mam-line-chart>
          <h3>Validation: mean foreground Dice <small>(${this.settings.convention})</small></h3>
          <mam-line-chart
            data-testid="val-chart"
            y-label="Dice"
            .xMin=${0}
            .xMax=${xMax}
            .yMin=${0}
            .yMax=${1}
            .series=${[{ label: '', color: '#16a34a', points: this.runState.validations, dots: true }]}
            empty="Validation runs every epoch (or every N steps)"
          ></mam-line-chart>
        </section>
        ${this.renderEvaluation()}
        <section>
          <h3>Test slice</h3>
          <mam-slice-view
            data-testid="slice-view"
            .preview=${this.preview}
            ?busy=${!!this.busy}
            @slice-change=${(e: CustomEvent<number>) => {
              this.previewIndex = e.detail;
              void this.refreshPreview();
            }}
          ></mam-slice-view>
          ${
            this.data?.folder && this.preview?.caseId
              ? html`<button
                  data-testid="prediction-download"
                  ?disabled=${this.running || !!this.busy}
                  @click=${() => void this.downloadPrediction()}
                >
                  Download the prediction of ${this.preview.caseId}
                  (.${this.preview.predictionFormat ?? 'nii.gz'})
                </button>`
              : nothing
          }
        </section>
        <mam-train-weights
          .weights=${this.weights}
          .notice=${this.weightsNotice}
          ?disabled=${this.running || !!this.busy}
          @weights-export=${() => void this.exportWeights()}
          @weights-export-torch=${() => void this.exportForTorch()}
          @weights-import=${(e: CustomEvent<File>) => void this.importWeights(e.detail)}
          @weights-reinit=${() => void this.reinitialise()}
        ></mam-train-weights>
        ${
          this.storage
            ? html`<p class="muted" data-testid="storage">
                Browser storage: ${formatBytes(this.storage.usage)} used of
                ${formatBytes(this.storage.quota)}; a run that would not fit is not kept (the one
                before stays).
              </p>`
            : nothing
        }
      </div>
    `;
  }

  private renderBackend() {
    const b = this.backend;
    return html`<section class="row">
        <label
          >Backend
          <select
            data-testid="backend-select"
            ?disabled=${this.running || !!this.busy}
            @change=${(e: Event) => void this.changeBackend((e.target as HTMLSelectElement).value as BackendPreference)}
          >
            ${BACKENDS.map((n) => html`<option value=${n} ?selected=${n === this.backendPref}>${n}</option>`)}
          </select></label
        >
        <span
          class="backend ${b?.fallbackFrom ? 'warn' : ''}"
          data-testid="backend-info"
          title=${b?.message ?? ''}
        >
          ${b ? backendWords(b) : 'not started'}
        </span>
      </section>
      ${
        b && !/^Running on [^.]*\.$/.test(b.message)
          ? html`<p
              class="backend-detail ${b.fallbackFrom ? 'warn' : ''}"
              data-testid="backend-detail"
            >
              ${b.message}
            </p>`
          : nothing
      }`;
  }

  private renderData() {
    return html`<mam-data-panel
      .data=${this.data}
      .failure=${this.dataFailure}
      .graphClasses=${this.classNames}
      ?disabled=${this.running || !!this.busy}
      .loadVolume=${this.loadVolume}
      @data-open=${(e: CustomEvent<DataOpen>) => void this.openFolder(e.detail.files, e.detail.handle)}
      @data-move=${(e: CustomEvent<{ id: string; split: DemoSplit | 'unused' }>) =>
        void this.moveCase(e.detail.id, e.detail.split)}
      @data-demo=${() => void this.useDemo()}
    ></mam-data-panel>`;
  }

  private renderRuns() {
    const r = this.runs;
    return html`<mam-runs-list
        .runs=${r.runs}
        ?disabled=${this.running || !!this.busy}
        @run-open=${(e: CustomEvent<string>) => void r.open(e.detail)}
        @run-rename=${(e: CustomEvent<{ id: string; name: string }>) =>
          void r.rename(e.detail.id, e.detail.name)}
        @run-delete=${(e: CustomEvent<string>) => void r.delete(e.detail)}
        @run-export=${(e: CustomEvent<string>) => void r.export(e.detail)}
        @runs-import=${(e: CustomEvent<PickedFile[]>) => void r.import(e.detail)}
        @runs-compare=${(e: CustomEvent<string[]>) => void r.compareRuns(e.detail)}
      ></mam-runs-list>
      ${
        r.compare
          ? html`<mam-compare-view
              data-testid="compare-view"
              .runs=${r.compare}
              .catalogue=${this.catalogue}
              @close=${() => r.close()}
            ></mam-compare-view>`
          : nothing
      }`;
  }

  private renderErrors(errors: GraphIssue[]) {
    return html`<section class="errors" data-testid="train-graph-errors">
      <b
        >The graph has ${errors.length} problem${errors.length > 1 ? 's' : ''}: training is off
        until ${errors.length > 1 ? 'they are' : 'it is'} fixed.</b
      >
      ${this.weights ? ' The trained weights are kept and come back when the graph compiles.' : ''}
      <ul>
        ${errors.slice(0, 5).map((i) => html`<li>${i.node && !i.message.includes(i.node) ? html`<code>${i.node}</code> ` : nothing}${i.message}</li>`)}
      </ul>
      ${errors.length > 5 ? html`<span>… and ${errors.length - 5} more (see Problems).</span>` : nothing}
    </section>`;
  }

  private renderGraphChanged() {
    const trained = this.weights?.parameters;
    const canvas = this.analysis?.params;
    const count = (n: number | undefined) => (n === undefined ? '?' : n.toLocaleString('en-US'));
    return html`<section class="notice info graph-changed" data-testid="train-graph-changed">
      The graph changed since this run started: the run goes on training the graph as it was
      (${count(trained)} parameters); the canvas now has ${count(canvas)}.
      <button
        data-testid="train-stop-recompile"
        ?disabled=${this.stopping}
        @click=${() => void this.stop()}
      >
        Stop and recompile
      </button>
    </section>`;
  }

  private renderEvaluation() {
    const off = this.running || !this.weights || !this.data || !!this.compileErrors || !!this.busy;
    return html`<section>
      <h3>Evaluation</h3>
      <div class="row">
        <label
          >Split
          <select
            data-testid="eval-split"
            @change=${(e: Event) => (this.evalSplit = (e.target as HTMLSelectElement).value as DemoSplit)}
          >
            ${(['test', 'val', 'train'] as const).map((s) => html`<option value=${s} ?selected=${s === this.evalSplit}>${s}</option>`)}
          </select></label
        >
        <label
          >Convention
          <select
            data-testid="eval-convention-select"
            @change=${(e: Event) => (this.evalConvention = (e.target as HTMLSelectElement).value as MetricConvention)}
          >
            <option value="synapse" ?selected=${this.evalConvention === 'synapse'}>
              synapse (paper)
            </option>
            <option value="monai" ?selected=${this.evalConvention === 'monai'}>monai</option>
          </select></label
        >
        <button
          data-testid="eval-run"
          ?disabled=${off}
          title=${this.running ? 'Stop training first' : ''}
          @click=${() => void this.evaluate()}
        >
          Evaluate
        </button>
      </div>
      <mam-eval-table .result=${this.evalResult}></mam-eval-table>
    </section>`;
  }
}

/** 1234567 → "1.2 MB" */
const formatBytes = (n: number) =>
  n >= 1e9 ? `${(n / 1e9).toFixed(1)} GB` : `${(n / 1e6).toFixed(1)} MB`;

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** "WebGPU on google swiftshader (software)", "wasm (WebAssembly SIMD, 2 threads)". */
export function backendWords(b: BackendInfo): string {
  const name = b.name === 'webgpu' ? 'WebGPU' : b.name === 'webgl' ? 'WebGL' : b.name;
  const gpu = b.name === 'webgpu' || b.name === 'webgl';
  return gpu
    ? `${name} on ${b.adapterInfo}${b.isSoftware ? ' (software)' : ''}`
    : `${name} (${b.adapterInfo})`;
}

/** What the end of a run says; `recompile`: the graph changed during the run and is compiled now. */
function doneNotice(e: Extract<TrainEventMessage, { type: 'done' }>, recompile: boolean): Notice {
  switch (e.reason) {
    case 'completed':
      return { level: 'info', text: `Finished at step ${e.step}.` };
    case 'aborted':
      return {
        level: 'info',
        text: recompile
          ? `Stopped at step ${e.step} to compile the changed graph: weights and history kept.`
          : `Stopped at step ${e.step}: weights and history kept. Resume continues the schedule.`,
      };
    case 'early-stop':
      return {
        level: 'info',
        text: `Stopped early at step ${e.step}: validation stopped improving.`,
      };
    case 'diverged':
      return {
        level: 'error',
        text: `Stopped at step ${e.step}: the loss became NaN or infinite. Lower the learning rate, then re-initialise or import weights (these may hold NaN).`,
      };
    case 'failed':
      return {
        level: 'error',
        text: `Training failed at step ${e.step}: ${e.message ?? 'unknown error'}`,
      };
  }
}

customElements.define('mam-train-panel', TrainPanel);

declare global {
  interface HTMLElementTagNameMap {
    'mam-train-panel': TrainPanel;
  }
}
