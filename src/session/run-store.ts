/**
 * The run store: what a training run leaves behind, so that it outlives the
 * page. One record per run holds the graph it was trained on (and its
 * compile key), the panel's settings, the loss and validation history, the
 * weights now and at the last checkpoint (with optimizer state, to resume),
 * the best weights, the last evaluation table and timestamps. The interface
 * is small on purpose: a folder (Node), OPFS or IndexedDB can each back it.
 * This file holds the interface, an in-memory store and the rules that do
 * not depend on where bytes go; run-store-opfs.ts and run-store-idb.ts are
 * the browser's stores (openBrowserRunStore picks one), run-folder.ts the
 * `mam train` run folder in Node.
 */
import type { GraphDoc } from '../graph/types.ts';
import type { Checkpoint } from '../train/checkpoint.ts';
import type { EvalResult, HistoryPoint, TrainPanelSettings, ValidationPoint } from './types.ts';

/** What a compile should see: nodes' kinds and parameters and the links, not positions or labels. */
export function compileKey(doc: GraphDoc): string {
  return JSON.stringify([
    doc.nodes.map((n) => [n.id, n.type, n.params]),
    doc.links.map((l) => [l.from.node, l.from.port, l.to.node, l.to.port]),
    doc.metadata?.training?.seed ?? 0,
  ]);
}

export const RUN_RECORD_FORMAT = 'mam-studio/run';

/** The editor keeps one current run; the run browser will add more ids. */
export const CURRENT_RUN = 'current';

export interface RunRecord {
  format: typeof RUN_RECORD_FORMAT;
  version: 1;
  id: string;
  /** The graph the weights belong to, and its compile key (nodes, parameters, links). */
  graph: GraphDoc;
  graphKey: string;
  weightsFingerprint: string;
  parameters: number;
  /** The panel's settings of the last run started. */
  settings?: TrainPanelSettings;
  /** Steps trained over the session, and the session step at which the last run began. */
  step: number;
  runBase: number;
  history: HistoryPoint[];
  validations: ValidationPoint[];
  evaluation?: EvalResult;
  /** Where the weights come from, in words (trained 40 steps, imported file.safetensors). */
  origin: string;
  /** The weights now (our safetensors bytes); the checkpoint's own when they are the same. */
  weights: Uint8Array;
  /** The last checkpoint of the run, to resume from. */
  checkpoint?: Checkpoint;
  best?: { step: number; meanDice: number; weights: Uint8Array };
  /** Milliseconds since the epoch. */
  createdAt: number;
  updatedAt: number;
}

export interface RunStore {
  /** Replaces the record with this id, atomically: a reader sees the old or the new one. */
  put(record: RunRecord): Promise<void>;
  get(id: string): Promise<RunRecord | undefined>;
  delete(id: string): Promise<void>;
}

/** A store in memory (tests, and the fallback where no browser storage is available). */
export class MemoryRunStore implements RunStore {
  private readonly records = new Map<string, RunRecord>();

  async put(record: RunRecord): Promise<void> {
    // A snapshot, as a real store takes: later changes to the caller's arrays do not leak in.
    this.records.set(record.id, structuredClone(record));
  }

  async get(id: string): Promise<RunRecord | undefined> {
    const r = this.records.get(id);
    return r && structuredClone(r);
  }

  async delete(id: string): Promise<void> {
    this.records.delete(id);
  }
}

/** A stored value as a run record, or why it is not one (an older or foreign format). */
export function asRunRecord(value: unknown): RunRecord | string {
  const r = value as Partial<RunRecord> | undefined;
  if (!r || typeof r !== 'object') return 'the stored run is empty';
  if (r.format !== RUN_RECORD_FORMAT || r.version !== 1)
    return `the stored run is not a ${RUN_RECORD_FORMAT} record of version 1`;
  if (
    !r.graph ||
    typeof r.graphKey !== 'string' ||
    typeof r.step !== 'number' ||
    !Array.isArray(r.history) ||
    !Array.isArray(r.validations) ||
    !(r.weights instanceof Uint8Array)
  )
    return 'the stored run is incomplete (graph, step, history or weights missing)';
  return r as RunRecord;
}

/** The graph open in the editor, as far as a stored run cares. */
export interface OpenGraph {
  graphKey: string;
  weightsFingerprint: string;
  parameters: number;
}

const count = (n: number) => n.toLocaleString('en-US');

/**
 * Whether a stored run belongs to the open graph. Only the graph it was
 * trained on gets its weights back; any other says so, with both counts, and
 * leaves the stored run as it is.
 */
export function matchStoredRun(
  r: RunRecord,
  open: OpenGraph,
): { ok: true } | { ok: false; message: string } {
  if (r.graphKey === open.graphKey && r.weightsFingerprint === open.weightsFingerprint)
    return { ok: true };
  const when = new Date(r.updatedAt).toISOString().slice(0, 16).replace('T', ' ');
  return {
    ok: false,
    message: `The stored run (step ${r.step}, ${count(r.parameters)} parameters, saved ${when} UTC) was trained on a different graph than the one open (${count(open.parameters)} parameters): its weights were not loaded, and it stays stored until a run or an import on this graph replaces it.`,
  };
}
