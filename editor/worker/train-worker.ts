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
import { catalogue } from '../../nodes/index.ts';
import type { BackendInfo, BackendPreference } from '../../src/backend/types.ts';
import { kernels } from '../../src/compile/kernels/index.ts';
import { DEMO_SPLITS, loadDemoFromUrl, type DemoDataSet } from '../../src/data/demo.ts';
import type { GraphDoc } from '../../src/graph/types.ts';
import { openBrowserRunStore } from '../../src/session/run-store-browser.ts';
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
  EvalResult,
  ImportReply,
  Preview,
  RestoreReply,
  TrainPanelSettings,
  WeightsSummary,
} from '../../src/session/types.ts';
import type { MetricConvention } from '../../src/train/metrics.ts';
import { caseSlices, dataFingerprint } from '../../src/train/samples.ts';

/** The demo set as the session takes it. */
function demoData(demo: DemoDataSet): SessionData {
  const splits = {} as DataInfo['splits'];
  for (const s of DEMO_SPLITS) {
    const info = demo.meta.splits[s];
    splits[s] = { slices: info.slices, classesPresent: info.classes_present };
  }
  const train = caseSlices(demo.splits.train, 'auto');
  return {
    info: {
      source: 'demo: ch2 T1 brain, 8 classes (data/demo)',
      classNames: demo.classNames,
      note: demo.note,
      trainSlices: train.length,
      splits,
    },
    train,
    cases: demo.splits,
    fingerprint: dataFingerprint(DEMO_SPLITS.map((s) => demo.splits[s])),
  };
}

/** What the page may call; every method answers a promise on the page's side (comlink.Remote). */
export class TrainWorker {
  private readonly session = new Session({
    catalogue,
    kernels,
    store: openBrowserRunStore(),
  });

  /** The page's listener for training events (a comlink proxy). */
  listen(fn: (e: SessionEvent) => void): void {
    this.session.listen(fn);
  }

  init(backend: BackendPreference): Promise<BackendInfo> {
    return this.session.switchBackend(backend);
  }

  compile(doc: GraphDoc): CompileReply {
    return this.session.compile(doc);
  }

  /** Loads the demo set from `baseUrl` (once). */
  async loadDemo(baseUrl: string): Promise<DataInfo> {
    if (this.session.dataInfo) return this.session.dataInfo;
    const r = await loadDemoFromUrl(new URL(baseUrl, self.location.origin).href);
    if (!r.ok) throw new Error(r.message);
    return this.session.setData(demoData(r.value));
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
}

Comlink.expose(new TrainWorker());
