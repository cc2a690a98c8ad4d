/**
 * The training worker: a thin adapter that exposes the session
 * (src/session/session.ts) to the page over comlink. The worker owns the
 * tfjs backend, the compiled model, the data and the loop, so the editor
 * never freezes; the page holds a typed proxy of `TrainWorker` (its type is
 * this class, so the two sides cannot drift) and hears the session's events
 * through a comlink proxy callback. This file adds only what is the
 * browser's: the demo data from a URL, the browser's run store, and
 * transferring the big arrays instead of copying them.
 */
import * as Comlink from 'comlink';
import { name as codeName, version as codeVersion } from '../../package.json';
import { catalogue } from '../../nodes/index.ts';
import type { BackendInfo, BackendPreference } from '../../src/backend/types.ts';
import { kernels } from '../../src/compile/kernels/index.ts';
import { loadDemoFromUrl } from '../../src/data/demo.ts';
import { demoSessionData, type DemoSet } from '../../src/session/demo-data.ts';
import { blobFileSource } from '../../src/data/files.ts';
import type { Case } from '../../src/data/types.ts';
import type { GraphDoc } from '../../src/graph/types.ts';
import { folderSessionData, moveCase, summariseData } from '../../src/session/data-summary.ts';
import { EXIT_CODES, SessionError } from '../../src/session/errors.ts';
import type { RunData } from '../../src/session/folder-train.ts';
import { DataFolderError, openDataFolder, splitCasesOnce } from '../../src/session/open-data.ts';
import { openBrowserRunStore } from '../../src/session/run-store-browser.ts';
import type { RunDetails } from '../../src/session/run-compare.ts';
import type { RunSummary } from '../../src/session/run-store.ts';
import { unzipRun, withoutCommonFolder, type RunFiles } from '../../src/session/run-zip.ts';
import { browserEstimate, type StorageEstimate } from '../../src/session/run-store-quota.ts';
import {
  Session,
  type SessionData,
  type SessionEvent,
  type SliceMaps,
  type SplitName,
  type StartReply,
} from '../../src/session/session.ts';
import type {
  CompileReply,
  DataInfo,
  DataOpenReply,
  PickedFile,
  EvalResult,
  ImportReply,
  Preview,
  RestoreReply,
  TrainPanelSettings,
  WeightsSummary,
} from '../../src/session/types.ts';
import type { MetricConvention } from '../../src/train/metrics.ts';
import { unitRange, type VolumeData } from '../volume-pixels.ts';

/** What the page may call; every method answers a promise on the page's side (comlink.Remote). */
export class TrainWorker {
  private readonly session = new Session({
    catalogue,
    kernels,
    store: openBrowserRunStore(),
    // run.json names the code as `mam train` does
    code: `${codeName} ${codeVersion}`,
  });

  /** The page's listener for training events (a comlink proxy). */
  listen(fn: (e: SessionEvent) => void): void {
    this.session.listen(fn);
  }

  init(backend: BackendPreference): Promise<BackendInfo> {
    return this.session.switchBackend(backend);
  }

  /** An opened folder: its cases as read, and the split now used. */
  private folder: { name: string; seed: number; data: RunData; all: Case[] } | undefined;
  private graph: { classNames: string[]; inputShape: number[] } | undefined;

  compile(doc: GraphDoc): CompileReply {
    const r = this.session.compile(doc);
    if (r.ok) {
      this.graph = { classNames: r.classNames, inputShape: r.inputShape };
      if (this.folder) this.useFolder(); // checked against the graph as it is now
    }
    return r;
  }

  /** The folder as the session's data, checked against the compiled graph. */
  private useFolder(): DataInfo {
    const f = this.folder!;
    const summary = summariseData(f.data, f.name, f.seed, this.graph);
    return this.session.setData(
      folderSessionData(f.data, summary, this.graph?.classNames ?? f.data.classNames),
    );
  }

  /**
   * Reads a data folder from the files the user picked or dropped (any layout
   * `mam train --data` reads); a folder that cannot be used leaves the data as
   * it was and answers every problem, each naming its file.
   */
  async openFolder(files: PickedFile[], seed: number): Promise<DataOpenReply> {
    const { source, root } = blobFileSource(files.map((f) => ({ path: f.path, blob: f.file })));
    const name = root || (files.length === 1 ? files[0].path : `${files.length} files`);
    try {
      const data = await openDataFolder(source, name, seed);
      this.folder = { name, seed, data, all: splitCasesOnce(data.splits) };
      return { ok: true, info: this.useFolder() };
    } catch (e) {
      if (e instanceof DataFolderError)
        return {
          ok: false,
          name,
          errors: e.issues.map((i) => ({ file: i.file, message: i.message })),
        };
      if (e instanceof SessionError)
        return { ok: false, name, errors: [{ file: name, message: e.message }] };
      throw e;
    }
  }

  /** Moves one case of the opened folder to another split ('unused' leaves it out). */
  moveCase(id: string, to: SplitName | 'unused'): DataInfo {
    const f = this.folder;
    if (!f) throw new SessionError('no data folder is open', EXIT_CODES.usage);
    f.data = moveCase(f.data, f.all, id, to);
    return this.useFolder();
  }

  /**
   * One case of the opened folder (or of the demo) as the volume viewer shows
   * it: its first channel scaled to [0, 1] by its range, its labels (copies:
   * the case stays).
   */
  caseVolume(id: string): VolumeData {
    const c = (this.folder?.all ?? this.demoCases).find((x) => x.id === id);
    if (!c) throw new SessionError(`no case ${id} in the data loaded`, EXIT_CODES.usage);
    const ch = c.channels[0];
    const [nx, ny, nz] = [0, 1, 2].map((a) => ch.dims[a] ?? 1);
    const n = nx * ny * nz;
    const v: VolumeData = {
      id,
      dims: [nx, ny, nz],
      spacing: [0, 1, 2].map((a) => ch.spacing[a] ?? 1) as [number, number, number],
      image: unitRange(ch.data.subarray(0, n)),
      label: c.label ? c.label.data.slice(0, n) : undefined,
    };
    return Comlink.transfer(v, [v.image.buffer, ...(v.label ? [v.label.buffer] : [])]);
  }

  /** The demo sets loaded so far (each once), and the cases of the one in use. */
  private readonly demos = new Map<DemoSet, SessionData>();
  private demoCases: Case[] = [];

  /**
   * Trains on a demo set (data/demo: 2D slices; data/demo3d: volumes) from
   * `baseUrl`, in place of an opened folder.
   */
  async loadDemo(baseUrl: string, which: DemoSet = 'demo'): Promise<DataInfo> {
    let demo = this.demos.get(which);
    if (!demo) {
      const r = await loadDemoFromUrl(new URL(baseUrl, self.location.origin).href);
      if (!r.ok) throw new Error(r.message);
      demo = demoSessionData(r.value, which);
      this.demos.set(which, demo);
    }
    this.folder = undefined;
    this.demoCases = Object.values(demo.cases).flat();
    return this.session.setData(demo);
  }

  /** The browser storage used and granted (undefined where the browser does not say). */
  storage(): Promise<StorageEstimate | undefined> {
    return browserEstimate();
  }

  /** Whether Resume continues the last run with the data now loaded. */
  canResume(): boolean {
    return this.session.resumable;
  }

  /** The data the session trains on now (an opened folder is checked against the graph compiled last). */
  dataInfo(): DataInfo | undefined {
    return this.session.dataInfo;
  }

  train(settings: TrainPanelSettings, resume: boolean): StartReply {
    return this.session.train(settings, resume);
  }

  stop(): boolean {
    return this.session.stop();
  }

  evaluate(split: SplitName, convention: MetricConvention): Promise<EvalResult> {
    return this.session.evaluate(split, convention);
  }

  async predict(split: SplitName, index: number): Promise<Preview> {
    const p = await this.session.predict(split, index);
    return Comlink.transfer(p, [p.image.buffer, p.label.buffer, p.pred.buffer]);
  }

  async predictionFile(
    split: SplitName,
    caseId: string,
  ): Promise<{ name: string; bytes: Uint8Array }> {
    const f = await this.session.predictionFile(split, caseId);
    return Comlink.transfer(f, [f.bytes.buffer]);
  }

  pixelMaps(split: SplitName, index: number, pixel: [number, number]): SliceMaps {
    return this.session.pixelMaps(split, index, pixel);
  }

  exportWeights(): Uint8Array {
    const bytes = this.session.exportWeights();
    return Comlink.transfer(bytes, [bytes.buffer]);
  }

  importWeights(name: string, bytes: Uint8Array): ImportReply {
    return this.session.importWeights(name, bytes);
  }

  reinitialise(): WeightsSummary {
    return this.session.reinitialise();
  }

  restore(): Promise<RestoreReply> {
    return this.session.restore();
  }

  /** The runs kept in this browser, newest first. */
  listRuns(): Promise<RunSummary[]> {
    return this.session.listRuns();
  }

  renameRun(id: string, name: string): Promise<void> {
    return this.session.renameRun(id, name);
  }

  deleteRun(id: string): Promise<void> {
    return this.session.deleteRun(id);
  }

  /** Makes a kept run the current one; its graph comes back for the page to open. */
  openRun(id: string): Promise<{ graph: GraphDoc; reply: RestoreReply }> {
    return this.session.openRun(id);
  }

  compareRuns(ids: string[]): Promise<RunDetails[]> {
    return this.session.compareRuns(ids);
  }

  /** A kept run as a zip of the CLI's run folder. */
  async exportRun(id: string): Promise<{ name: string; bytes: Uint8Array }> {
    const z = await this.session.exportRun(id);
    return Comlink.transfer(z, [z.bytes.buffer]);
  }

  /** A run from a zip, or from the files of a run folder the user picked or dropped. */
  async importRun(files: PickedFile[]): Promise<RunSummary> {
    if (files.length === 1 && /\.zip$/i.test(files[0].path)) {
      const f = files[0];
      const name = f.path.split('/').pop()!;
      return this.session.importRun(
        name,
        unzipRun(name, new Uint8Array(await f.file.arrayBuffer())),
      );
    }
    const read: RunFiles = new Map();
    for (const f of files) read.set(f.path, new Uint8Array(await f.file.arrayBuffer()));
    const name = files[0]?.path.split('/')[0] || 'the files';
    return this.session.importRun(name, withoutCommonFolder(read));
  }
}

Comlink.expose(new TrainWorker());
