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
import { foreignEngine, type Checkpoint } from '../train/checkpoint.ts';
import type { EvalResult, HistoryPoint, TrainPanelSettings, ValidationPoint } from './types.ts';

/** Parameters with their names in order: a saved and reloaded graph writes them sorted. */
const sortedParams = (p: object | undefined) =>
  p && Object.fromEntries(Object.entries(p).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/**
 * What a compile should see: nodes' kinds and parameters and the links, not
 * positions, labels or the order parameters happen to be written in.
 */
export function compileKey(doc: GraphDoc): string {
  return JSON.stringify([
    doc.nodes.map((n) => [n.id, n.type, sortedParams(n.params)]),
    doc.links.map((l) => [l.from.node, l.from.port, l.to.node, l.to.port]),
    doc.metadata?.training?.seed ?? 0,
  ]);
}

export const RUN_RECORD_FORMAT = 'mam-studio/run';

/**
 * The run the session trains and keeps at its checkpoints. Earlier runs are
 * kept beside it under their own ids (archiveId), so the runs list holds
 * every run; opening one makes it the current run again.
 */
export const CURRENT_RUN = 'current';

/** The id a run is kept under once another becomes current: stable, so keeping it again replaces it. */
export const archiveId = (r: Pick<RunRecord, 'createdAt'>) => `run-${r.createdAt.toString(36)}`;

export interface RunRecord {
  format: typeof RUN_RECORD_FORMAT;
  version: 1;
  id: string;
  /** The name the user gave the run (absent: named by its graph and date). */
  name?: string;
  /** The graph the weights belong to, and its compile key (nodes, parameters, links). */
  graph: GraphDoc;
  graphKey: string;
  weightsFingerprint: string;
  parameters: number;
  /** What the last run trained on, in words ("NIfTI folder scans"), to say which folder resumes it. */
  dataSource?: string;
  /** The last run's run.json as `mam train` writes it (src/session/run-info.ts), or an imported folder's. */
  run?: Record<string, unknown>;
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

/** One line of the runs list: what a run is, without its weights. */
export interface RunSummary {
  id: string;
  name: string;
  /** The graph's title. */
  title: string;
  graphKey: string;
  parameters: number;
  /** Steps of the run itself (not of earlier runs of the same session). */
  steps: number;
  /** The schedule's length, when the run has a checkpoint. */
  totalSteps?: number;
  /** The best mean validation Dice, and the convention it was measured under. */
  bestDice?: number;
  convention?: string;
  createdAt: number;
  updatedAt: number;
  current: boolean;
  /** Set when the stored run cannot be read (it can still be deleted). */
  problem?: string;
  /** The engine that trained the run when it is not ours (foreignEngine): it cannot be resumed here. */
  trainedBy?: string;
  /** What the run trained on, in words (RunRecord.dataSource): the key its kept folder has in the editor. */
  dataSource?: string;
}

export interface RunStore {
  /** Replaces the record with this id, atomically: a reader sees the old or the new one. */
  put(record: RunRecord): Promise<void>;
  get(id: string): Promise<RunRecord | undefined>;
  /** Removes the record whole: a reader sees it whole or not at all. */
  delete(id: string): Promise<void>;
  /** Every record kept, as summaries (one that cannot be read says why). */
  list(): Promise<RunSummary[]>;
}

const dateWords = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

/** The name a run shows: the user's, else its graph's title and when it began. */
export function runName(r: Pick<RunRecord, 'name' | 'graph' | 'createdAt'>): string {
  return r.name ?? `${r.graph.metadata?.title || 'graph'} ${dateWords(r.createdAt)}`;
}

/** A record as a line of the runs list. */
export function summariseRun(r: RunRecord): RunSummary {
  const vals = r.validations.filter((v) => v.step > r.runBase && Number.isFinite(v.meanDice));
  const best = vals.reduce<(typeof vals)[number] | undefined>(
    (b, v) => (!b || v.meanDice > b.meanDice ? v : b),
    undefined,
  );
  const engine = r.checkpoint && foreignEngine(r.checkpoint.state);
  return {
    id: r.id,
    name: runName(r),
    title: r.graph.metadata?.title ?? '',
    graphKey: r.graphKey,
    parameters: r.parameters,
    steps: r.step - r.runBase,
    totalSteps: r.checkpoint?.state.settings.steps,
    bestDice: r.best && Number.isFinite(r.best.meanDice) ? r.best.meanDice : best?.meanDice,
    convention: best?.convention ?? r.checkpoint?.state.settings.convention,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    current: r.id === CURRENT_RUN,
    ...(engine ? { trainedBy: engine } : {}),
    ...(r.dataSource ? { dataSource: r.dataSource } : {}),
  };
}

/**
 * An imported run as a line of its own beside the runs kept, never over one:
 * a run is kept (and set aside when another becomes current) under the id
 * its start gives (archiveId), so an import of a run already kept starts a
 * millisecond later until that id is free (the list shows minutes), and a
 * name already shown gets " (2)", " (3)", ….
 */
export function besideKept(r: RunRecord, kept: readonly RunSummary[]): RunRecord {
  const ids = new Set(kept.flatMap((k) => [k.id, archiveId(k)]));
  let createdAt = r.createdAt;
  while (ids.has(archiveId({ createdAt }))) createdAt++;
  const names = new Set(kept.map((k) => k.name));
  const base = runName(r);
  let name = base;
  for (let n = 2; names.has(name); n++) name = `${base} (${n})`;
  return {
    ...r,
    id: archiveId({ createdAt }),
    name,
    createdAt,
    updatedAt: Math.max(r.updatedAt, createdAt),
  };
}

/** A line for a stored run that cannot be read. */
export function unreadableRun(id: string, problem: string): RunSummary {
  return {
    id,
    name: id,
    title: '',
    graphKey: '',
    parameters: 0,
    steps: 0,
    createdAt: 0,
    updatedAt: 0,
    current: id === CURRENT_RUN,
    problem,
  };
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

  async list(): Promise<RunSummary[]> {
    return [...this.records.values()].map(summariseRun);
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
  // The key again from the graph: one stored before keys were order-free still matches.
  if (compileKey(r.graph) === open.graphKey && r.weightsFingerprint === open.weightsFingerprint)
    return { ok: true };
  const when = new Date(r.updatedAt).toISOString().slice(0, 16).replace('T', ' ');
  return {
    ok: false,
    message: `The stored run (step ${r.step}, ${count(r.parameters)} parameters, saved ${when} UTC) was trained on a different graph than the one open (${count(open.parameters)} parameters): its weights were not loaded, and it stays stored until a run or an import on this graph replaces it.`,
  };
}
