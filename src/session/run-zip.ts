/**
 * A kept run as the files of `mam train`'s run folder, and back: run.json,
 * history.csv, metrics.json, checkpoint/ (weights, optimizer state,
 * state.json) and best.safetensors, plus graph.json (the graph itself, which
 * a CLI folder names only by path) and weights.safetensors (the weights now,
 * which an import or an edit may have moved past the checkpoint). Zipped,
 * it unzips to a folder `mam eval` and `mam train --resume` open; a folder
 * `mam train` (or mam_torch) wrote reads back as a run.
 */
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { analyzeGraph } from '../graph/infer.ts';
import { loadGraph } from '../graph/load.ts';
import type { Catalogue } from '../graph/node-kind.ts';
import { saveGraph } from '../graph/save.ts';
import type { GraphDoc } from '../graph/types.ts';
import { historyToCsv, parseTrainState, type Checkpoint } from '../train/checkpoint.ts';
import { EXIT_CODES, SessionError, type ExitCode } from './errors.ts';
import { archiveId, compileKey, runName, RUN_RECORD_FORMAT, type RunRecord } from './run-store.ts';
import { EMPTY_RULES, type EmptyRule } from '../train/metrics.ts';
import type { EvalResult, TrainPanelSettings } from './types.ts';

/** Files by their path inside the run folder. */
export type RunFiles = Map<string, Uint8Array>;

/** The output node's class table (the node whose parameters carry `classNames`). */
export function graphClassNames(doc: GraphDoc): string[] {
  for (const n of doc.nodes) {
    const c = n.params?.classNames;
    if (Array.isArray(c)) return c.map(String);
  }
  return [];
}

/** What the editor adds to run.json (the CLI ignores it). */
interface EditorPart {
  name?: string;
  origin?: string;
  settings?: TrainPanelSettings;
  evaluation?: EvalResult;
}

const json = (v: unknown) => strToU8(JSON.stringify(v, null, 2) + '\n');

/** The run folder's files of a kept run. */
export function runFolderFiles(r: RunRecord): RunFiles {
  const files: RunFiles = new Map();
  const classNames = graphClassNames(r.graph);
  const state = r.checkpoint?.state;
  files.set('graph.json', strToU8(saveGraph(r.graph)));
  // The run's own run.json (what `mam train` writes for the same run), else what the record knows.
  const run = r.run ?? {
    format: 'mam-studio/run',
    version: 1,
    data: { fingerprint: state?.dataFingerprint ?? '', classNames },
    metricConvention: state?.settings.convention ?? r.evaluation?.convention ?? 'synapse',
    ...(state ? { settings: state.settings } : {}),
  };
  files.set(
    'run.json',
    json({
      ...run,
      created: new Date(r.createdAt).toISOString(),
      updated: new Date(r.updatedAt).toISOString(),
      graph: {
        ...(run.graph as object | undefined),
        file: 'graph.json',
        title: r.graph.metadata?.title ?? '',
        weightsFingerprint: r.weightsFingerprint,
      },
      editor: {
        name: runName(r),
        origin: r.origin,
        settings: r.settings,
        evaluation: r.evaluation,
      } satisfies EditorPart,
    }),
  );
  files.set('weights.safetensors', r.weights);
  if (r.checkpoint) {
    files.set('checkpoint/weights.safetensors', r.checkpoint.weights);
    files.set('checkpoint/optimizer.safetensors', r.checkpoint.optimizer);
    files.set('checkpoint/state.json', strToU8(JSON.stringify(r.checkpoint.state)));
    files.set('history.csv', strToU8(historyToCsv(r.checkpoint.state.history, classNames)));
  }
  if (r.best) files.set('best.safetensors', r.best.weights);
  const ev = r.evaluation;
  files.set(
    'metrics.json',
    json({
      convention: state?.settings.convention ?? ev?.convention ?? 'synapse',
      ...(ev?.note ? { note: ev.note } : {}),
      step: state?.step ?? 0,
      reason: 'kept in the editor',
      best: state?.best ?? null,
      lastValidation: state?.lastValidation ?? null,
      // The editor's last evaluation, of weights.safetensors (the weights now).
      ...(ev
        ? {
            [ev.split]: {
              weights: 'weights.safetensors',
              convention: ev.convention,
              summary: {
                meanDice: ev.meanDice,
                meanHd95: ev.meanHd95,
                perClass: Object.fromEntries(
                  ev.perClass.map((c) => [c.name, { dice: c.dice, hd95: c.hd95 }]),
                ),
              },
            },
          }
        : {}),
    }),
  );
  return files;
}

/** A zip of the run folder, under one folder named for the run. */
export function runZip(r: RunRecord): { name: string; bytes: Uint8Array } {
  const folder =
    runName(r)
      .replace(/[^\w.-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'run';
  const entries: Record<string, Uint8Array> = {};
  for (const [p, bytes] of runFolderFiles(r)) entries[`${folder}/${p}`] = bytes;
  return { name: `${folder}.zip`, bytes: zipSync(entries, { level: 6 }) };
}

/** A zip's files, without the one folder they may all sit in. */
export function unzipRun(name: string, bytes: Uint8Array): RunFiles {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (e) {
    throw new SessionError(
      `${name} is not a zip file (${(e as Error).message})`,
      EXIT_CODES.unreadable,
    );
  }
  return withoutCommonFolder(new Map(Object.entries(entries).filter(([p]) => !p.endsWith('/'))));
}

/** Paths relative to the run folder: a leading folder all files share is dropped. */
export function withoutCommonFolder(files: RunFiles): RunFiles {
  const paths = [...files.keys()];
  const first = paths[0]?.split('/')[0];
  const shared =
    paths.length > 0 && paths.every((p) => p.includes('/') && p.split('/')[0] === first);
  if (!shared || files.has('run.json')) return files;
  const out: RunFiles = new Map();
  for (const [p, b] of files) out.set(p.slice(first!.length + 1), b);
  return withoutCommonFolder(out);
}

export interface ImportOptions {
  /** The name the user sees for the folder or zip, in messages. */
  source: string;
  catalogue: Catalogue;
  /** The graph open in the editor: a folder without graph.json is its run when the weights fit. */
  open?: { doc: GraphDoc; weightsFingerprint: string };
  now?: number;
}

/** A run folder's files as a kept run (resumable when its checkpoint is whole); refusals name the file. */
export function runFromFolder(files: RunFiles, o: ImportOptions): RunRecord {
  const at = (p: string) => `${o.source}/${p}`;
  const fail = (message: string, code: ExitCode = EXIT_CODES.unreadable): never => {
    throw new SessionError(message, code);
  };
  const text = (p: string) => {
    const b = files.get(p);
    return b && strFromU8(b);
  };
  const runText = text('run.json');
  if (runText === undefined)
    fail(`${o.source} holds no run.json: it is not a run folder of mam train or of the editor`);
  let run: {
    created?: string;
    updated?: string;
    graph?: { file?: string; weightsFingerprint?: string };
    editor?: EditorPart;
  } & Record<string, unknown>;
  try {
    run = JSON.parse(runText!) as typeof run;
  } catch (e) {
    return fail(`${at('run.json')} is not valid JSON (${(e as Error).message})`);
  }

  let checkpoint: Checkpoint | undefined;
  const stateText = text('checkpoint/state.json');
  if (stateText !== undefined) {
    const parsed = parseTrainState(stateText);
    if (!parsed.ok) fail(`${at('checkpoint/state.json')}: ${parsed.message}`, EXIT_CODES.runFolder);
    const weights = files.get('checkpoint/weights.safetensors');
    const optimizer = files.get('checkpoint/optimizer.safetensors');
    if (!weights || !optimizer)
      fail(
        `${at('checkpoint/')} is incomplete: ${weights ? 'optimizer' : 'weights'}.safetensors is missing`,
        EXIT_CODES.runFolder,
      );
    if (parsed.ok) checkpoint = { weights: weights!, optimizer: optimizer!, state: parsed.state };
  }
  const fingerprint = checkpoint?.state.weightsFingerprint ?? run.graph?.weightsFingerprint ?? '';

  let graph: GraphDoc;
  const graphText = text('graph.json');
  if (graphText !== undefined) {
    const g = loadGraph(graphText, o.catalogue);
    if (!g.ok)
      return fail(
        `${at('graph.json')}: ${g.issues[0]?.message ?? 'not a graph'}`,
        EXIT_CODES.unreadable,
      );
    graph = g.graph;
  } else if (o.open && o.open.weightsFingerprint === fingerprint) {
    graph = o.open.doc;
  } else {
    return fail(
      `${o.source} holds no graph.json, and its weights (fingerprint ${fingerprint || 'unknown'}) do not fit the graph open${o.open ? ` (${o.open.weightsFingerprint})` : ''}: open ${run.graph?.file ?? 'the graph it was trained on'} first`,
      EXIT_CODES.badWeights,
    );
  }

  const weights =
    files.get('weights.safetensors') ?? checkpoint?.weights ?? files.get('best.safetensors');
  if (!weights)
    fail(`${o.source} holds no weights (weights.safetensors, checkpoint/ or best.safetensors)`);
  const rows = checkpoint?.state.history ?? [];
  const bestWeights = files.get('best.safetensors');
  const bestState = checkpoint?.state.best;
  const time = (s: string | undefined) =>
    s && Number.isFinite(Date.parse(s)) ? Date.parse(s) : undefined;
  const now = o.now ?? Date.now();
  const createdAt = time(run.created) ?? time(run.updated) ?? now;
  const e = run.editor ?? {};
  const step = checkpoint?.state.step ?? 0;
  const evaluation = e.evaluation ?? testEvaluation(text('metrics.json'), step);
  return {
    format: RUN_RECORD_FORMAT,
    version: 1,
    id: archiveId({ createdAt }),
    name: e.name ?? o.source.replace(/\.zip$/i, ''),
    graph,
    graphKey: compileKey(graph),
    weightsFingerprint: fingerprint,
    parameters: analyzeGraph(graph, o.catalogue).params,
    settings: e.settings,
    step,
    runBase: 0,
    history: rows.map((h) => ({ step: h.step, loss: h.loss, lr: h.lr })),
    validations: rows.flatMap((h) =>
      h.val ? [{ step: h.step, meanDice: h.val.meanDice, convention: h.val.convention }] : [],
    ),
    evaluation,
    origin: e.origin ?? `imported ${o.source} (${step} steps)`,
    weights: weights!,
    checkpoint,
    best:
      bestWeights && bestState
        ? { step: bestState.step, meanDice: bestState.meanDice, weights: bestWeights }
        : undefined,
    // run.json as the folder has it (without the editor's part), so an export carries it on
    run: withoutEditorPart(run),
    createdAt,
    updatedAt: time(run.updated) ?? now,
  };
}

function withoutEditorPart(run: Record<string, unknown>): Record<string, unknown> {
  const { editor: _, ...rest } = run;
  return rest;
}

/** JSON's null where the CLI wrote NaN. */
const num = (x: number | null | undefined) => (typeof x === 'number' ? x : NaN);

/**
 * The test table `mam train` (or mam_torch) wrote in metrics.json (of the
 * best weights), as the editor's evaluation; undefined when it has none.
 */
function testEvaluation(text: string | undefined, step: number): EvalResult | undefined {
  let m: {
    note?: string;
    best?: { step?: number } | null;
    test?: {
      summary?: {
        convention: 'synapse' | 'monai';
        hd95Unit: 'voxel' | 'mm';
        meanDice: number | null;
        meanHd95: number | null;
        perClass: Record<
          string,
          { dice: number | null; hd95: number | null; rules?: Record<EmptyRule, number> }
        >;
      };
    };
  };
  try {
    m = JSON.parse(text ?? 'null') as typeof m;
  } catch {
    return undefined;
  }
  const t = m?.test?.summary;
  if (!t?.perClass) return undefined;
  // The rule most volumes of a class fell under, for the table's marker.
  const rule = (r: Record<EmptyRule, number> | undefined): EmptyRule =>
    r ? EMPTY_RULES.reduce((a, b) => ((r[b] ?? 0) > (r[a] ?? 0) ? b : a)) : 'both';
  return {
    split: 'test',
    convention: t.convention,
    hd95Unit: t.hd95Unit,
    perClass: Object.entries(t.perClass).map(([name, c]) => ({
      name,
      dice: num(c.dice),
      hd95: num(c.hd95),
      rule: rule(c.rules),
    })),
    meanDice: num(t.meanDice),
    meanHd95: num(t.meanHd95),
    classesPresent: [],
    ...(m.note ? { note: m.note } : {}),
    step: m.best?.step ?? step,
    seconds: 0,
  };
}
