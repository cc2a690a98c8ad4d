/**
 * The ablation runner in Node: every row (variant × layout × merging mode)
 * and seed trains with the same data, split and settings into its own run
 * folder (`<out>/<key>/seed-<s>/`, the row's graph in `<out>/<key>/graph.json`),
 * is tested on the test split, and the table is rewritten after each run.
 * The run folders are the state: a finished run (metrics.json with a test
 * result) is skipped, one with a checkpoint resumes, so an interrupted
 * ablation continues where it stopped.
 *
 * How one run trains is an engine: `local` is the session's tfjs training
 * (src/session/folder-train.ts); `torch` is python/mam_torch
 * (./torch-engine.ts), which writes the same run-folder format.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { BackendInfo } from '../backend/types.ts';
import { CompiledModel } from '../compile/model.ts';
import { planGraph } from '../compile/plan.ts';
import type { KernelTable } from '../compile/kernels/types.ts';
import { saveGraph } from '../graph/save.ts';
import type { Catalogue } from '../graph/node-kind.ts';
import type { GraphDoc } from '../graph/types.ts';
import { FolderCheckpointStore } from '../train/checkpoint-fs.ts';
import type { MetricsSummary } from '../train/metrics.ts';
import { EXIT_CODES, SessionError } from '../session/errors.ts';
import { trainInFolder, type FolderTrainEvent, type RunData } from '../session/folder-train.ts';
import { RunFolder } from '../session/run-folder.ts';
import { resolveBase, type SettingsOverrides } from '../session/settings.ts';
import { writeOutput, makeOutputDir } from '../session/node-files.ts';
import {
  buildTable,
  rowInputOf,
  tableCsv,
  tableMarkdown,
  type AblationTable,
  type SeedResult,
} from './table.ts';
import type { DerivedVariant } from './variants.ts';

/** One training run of an ablation: a row's graph with one seed into one run folder. */
export interface VariantJob {
  row: DerivedVariant;
  graphFile: string;
  runDir: string;
  seed: number;
  data: RunData;
  overrides: SettingsOverrides;
  signal?: AbortSignal;
}

export interface EngineRunResult {
  reason: 'completed' | 'aborted' | 'early-stop' | 'diverged';
  step: number;
}

/** How one run trains: tfjs here (`local`) or PyTorch (`torch`, ./torch-engine.ts). Both write a run folder. */
export interface AblationEngine {
  readonly name: string;
  /** Whether the run folder holds a checkpoint this engine continues from (the run then resumes). */
  hasCheckpoint(runDir: string): Promise<boolean>;
  run(job: VariantJob, onEvent: (e: FolderTrainEvent) => void): Promise<EngineRunResult>;
}

async function hasLocalCheckpoint(runDir: string): Promise<boolean> {
  const r = await new FolderCheckpointStore(runDir).load();
  return r.ok && r.checkpoint !== null;
}

/** The session's tfjs training, on the backend already started. */
export function localEngine(
  backend: BackendInfo,
  catalogue: Catalogue,
  kernels: KernelTable,
  code: string,
): AblationEngine {
  return {
    name: 'local',
    hasCheckpoint: hasLocalCheckpoint,
    async run(job, onEvent) {
      const planned = planGraph(job.row.graph, catalogue, kernels);
      if (!planned.ok)
        throw new SessionError(
          `${job.graphFile}: ${planned.errors[0]?.message ?? 'does not compile'}`,
          EXIT_CODES.graphErrors,
        );
      const folder = new RunFolder(job.runDir);
      const ckpt = await folder.open(await hasLocalCheckpoint(job.runDir));
      const model = CompiledModel.create(planned.plan, { seed: job.seed });
      try {
        const r = await trainInFolder(
          {
            graphFile: job.graphFile,
            dataArg: job.data.source,
            graph: job.row.graph,
            plan: planned.plan,
            model,
            backend,
            data: job.data,
            folder,
            resume: ckpt,
            overrides: job.overrides,
            seed: job.seed,
            code,
            signal: job.signal,
          },
          onEvent,
        );
        return { reason: r.reason, step: r.step };
      } finally {
        model.dispose();
      }
    },
  };
}

/** A finished run's test result from its metrics.json; null while it is unfinished (or absent). */
export async function finishedRun(runDir: string, seed: number): Promise<SeedResult | null> {
  let text: string;
  try {
    text = await readFile(path.join(runDir, 'metrics.json'), 'utf8');
  } catch {
    return null;
  }
  let m: { reason?: string; step?: number; test?: { summary?: MetricsSummary } };
  try {
    m = JSON.parse(text) as typeof m;
  } catch {
    return null;
  }
  const s = m.test?.summary;
  if (m.reason === 'aborted' || !s) return null;
  return {
    seed,
    step: m.step ?? 0,
    reason: m.reason ?? 'completed',
    meanDice: s.meanDice,
    meanHd95: s.meanHd95,
    perClass: Object.fromEntries(
      Object.entries(s.perClass).map(([k, c]) => [k, { dice: c.dice, hd95: c.hd95 }]),
    ),
  };
}

export type AblationEvent =
  | FolderTrainEvent
  | { type: 'run-start'; key: string; seed: number; index: number; total: number; resumed: boolean }
  | { type: 'run-skip'; key: string; seed: number; index: number; total: number }
  | { type: 'run-done'; key: string; seed: number; result: SeedResult | null; reason: string }
  | { type: 'table'; table: AblationTable };

export interface AblationRequest {
  rows: DerivedVariant[];
  seeds: number[];
  /** The data, split with the first seed (every run records it as its splitSeed). */
  data: RunData;
  overrides: SettingsOverrides;
  out: string;
  engine: AblationEngine;
  classNames: string[];
  signal?: AbortSignal;
}

export const runDirOf = (out: string, key: string, seed: number) =>
  path.join(out, key, `seed-${seed}`);

/** Runs (or resumes) every row × seed in order; writes ablation.{md,csv,json} after each. */
export async function runAblation(
  req: AblationRequest,
  onEvent: (e: AblationEvent) => void,
): Promise<{ table: AblationTable; reason: 'completed' | 'aborted' | 'diverged' }> {
  const base = resolveBase(req.rows[0]?.graph.metadata?.training, req.overrides);
  // What every run of this ablation shares; a rerun in the same folder must share it too.
  const settings: Record<string, unknown> = {
    engine: req.engine.name,
    data: req.data.source,
    split: req.data.splitRule,
    ...(req.overrides.steps !== undefined
      ? { steps: req.overrides.steps }
      : { epochs: base.epochs.value }),
    batchSize: base.batchSize.value,
    optimizer: base.optimizer.value,
    learningRate: base.learningRate.value,
    augment: base.augment.value,
    convention: base.convention.value,
  };
  await checkSameSettings(req.out, settings);
  await makeOutputDir(req.out, 'ablation folder');
  const results = new Map<string, SeedResult[]>(req.rows.map((r) => [r.key, []]));
  const writeTable = async () => {
    const inputs = req.rows.map((r) => rowInputOf(r, results.get(r.key) ?? []));
    const table = buildTable(inputs, {
      convention: base.convention.value,
      seeds: req.seeds,
      classNames: req.classNames,
      ...(req.data.note ? { note: req.data.note } : {}),
      settings,
    });
    await writeOutput(
      path.join(req.out, 'ablation.json'),
      JSON.stringify(table, null, 2) + '\n',
      'ablation table',
    );
    await writeOutput(path.join(req.out, 'ablation.md'), tableMarkdown(table), 'ablation table');
    await writeOutput(path.join(req.out, 'ablation.csv'), tableCsv(table), 'ablation table');
    onEvent({ type: 'table', table });
    return table;
  };

  const total = req.rows.length * req.seeds.length;
  let index = 0;
  for (const row of req.rows) {
    const graphFile = path.join(req.out, row.key, 'graph.json');
    await makeOutputDir(path.dirname(graphFile), 'variant folder');
    await writeOutput(graphFile, saveGraph(row.graph), 'variant graph');
    for (const seed of req.seeds) {
      index++;
      const runDir = runDirOf(req.out, row.key, seed);
      const done = await finishedRun(runDir, seed);
      if (done) {
        results.get(row.key)?.push(done);
        onEvent({ type: 'run-skip', key: row.key, seed, index, total });
        continue;
      }
      // Stopped as the previous run finished: the next does not start.
      if (req.signal?.aborted) return { table: await writeTable(), reason: 'aborted' };
      const resumed = await req.engine.hasCheckpoint(runDir);
      onEvent({ type: 'run-start', key: row.key, seed, index, total, resumed });
      const r = await req.engine.run(
        {
          row,
          graphFile,
          runDir,
          seed,
          data: req.data,
          // one split for every run: the first seed's (the data come split with it)
          overrides: { ...req.overrides, splitSeed: req.seeds[0] },
          signal: req.signal,
        },
        onEvent,
      );
      const result = await finishedRun(runDir, seed);
      if (result) results.get(row.key)?.push(result);
      onEvent({ type: 'run-done', key: row.key, seed, result, reason: r.reason });
      if (r.reason === 'aborted') return { table: await writeTable(), reason: 'aborted' };
      if (r.reason === 'diverged') return { table: await writeTable(), reason: 'diverged' };
      await writeTable();
    }
  }
  return { table: await writeTable(), reason: 'completed' };
}

/**
 * An ablation folder continues only with the settings it was started with
 * (else finished runs would be skipped and mixed with others in one table):
 * a difference is refused, naming it, before anything changes.
 */
async function checkSameSettings(out: string, settings: Record<string, unknown>): Promise<void> {
  let text: string;
  try {
    text = await readFile(path.join(out, 'ablation.json'), 'utf8');
  } catch {
    return;
  }
  let before: Record<string, unknown> | undefined;
  try {
    before = (JSON.parse(text) as { settings?: Record<string, unknown> }).settings;
  } catch {
    before = undefined;
  }
  if (!before)
    throw new SessionError(
      `${path.join(out, 'ablation.json')} cannot be read; choose another --out`,
      EXIT_CODES.runFolder,
    );
  const keys = [...new Set([...Object.keys(before), ...Object.keys(settings)])];
  const differ = keys.find((k) => JSON.stringify(before[k]) !== JSON.stringify(settings[k]));
  if (differ !== undefined)
    throw new SessionError(
      `${out} holds an ablation run with ${differ} ${JSON.stringify(before[differ]) ?? '(unset)'}, now ${JSON.stringify(settings[differ]) ?? '(unset)'}: continue it with the same settings or choose another --out`,
      EXIT_CODES.runFolder,
    );
}

/** What a graph file holds after a round trip, for tests and the editor's "open as graph". */
export const variantGraphText = (g: GraphDoc) => saveGraph(g);
