/** Shared by the CLI verbs that compute: read a graph, compile it, load weights, each failure a message and an exit code. */
import { readFile } from 'node:fs/promises';
import { CompiledModel } from '../compile/model.ts';
import { planGraph } from '../compile/plan.ts';
import { loadWeights, importStateDict, formatImportReport } from '../compile/weights.ts';
import { readSafetensors } from '../compile/io/safetensors.ts';
import { loadGraph } from '../graph/load.ts';

export class CliError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

/** Exit codes shared by all verbs. */
export const EXIT_CODES = {
  graphErrors: 1,
  unreadable: 2,
  badWeights: 3,
  badData: 4,
  backend: 5,
  /** No cases: an empty folder or list. */
  emptyData: 6,
  /** An image and its label (or channels) on different grids. */
  sizeMismatch: 7,
  /** Labels outside the class table, or a class table that does not fit the graph. */
  labelRange: 8,
  /** A run folder that cannot be used: a checkpoint without --resume, a broken checkpoint, other data. */
  runFolder: 9,
  /** Training stopped because the loss became NaN or infinite. */
  diverged: 10,
  interrupted: 130,
} as const;

export async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(
      `cannot read ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
      EXIT_CODES.unreadable,
    );
  }
}

export async function compileGraphFile(path: string, seed = 0) {
  const text = new TextDecoder().decode(await readBytes(path, 'graph file'));
  const loaded = loadGraph(text);
  if (!loaded.ok)
    throw new CliError(
      `${path} cannot be opened:\n${loaded.issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`,
      EXIT_CODES.unreadable,
    );
  const plan = planGraph(loaded.graph);
  if (!plan.ok) {
    throw new CliError(
      `${path} has errors, so it cannot be compiled:\n${plan.errors.map((i) => `  ${i.path}: ${i.message}`).join('\n')}\n(run 'mam inspect ${path}' for the whole picture)`,
      EXIT_CODES.graphErrors,
    );
  }
  return { graph: loaded.graph, plan: plan.plan, model: CompiledModel.create(plan.plan, { seed }) };
}

/**
 * Weights from a file: our own checkpoints must match the graph exactly; a
 * foreign state dict (no mam-studio metadata) is imported by name with a report.
 */
export async function applyWeightsFile(
  model: CompiledModel,
  path: string,
  log: (s: string) => void,
): Promise<void> {
  const bytes = await readBytes(path, 'weights file');
  let meta: Record<string, string>;
  try {
    meta = readSafetensors(bytes).metadata;
  } catch (e) {
    throw new CliError(
      `${path} is not a readable safetensors file: ${(e as Error).message}`,
      EXIT_CODES.badWeights,
    );
  }
  if (meta.format === 'mam-studio/weights') {
    const r = loadWeights(model, bytes, path);
    if (!r.ok) throw new CliError(r.message, EXIT_CODES.badWeights);
    return;
  }
  const report = importStateDict(model, bytes);
  log(`imported a PyTorch state dict from ${path}: ${formatImportReport(report)}`);
  if (report.matched.length === 0)
    throw new CliError(`${path}: no tensor matched a weight of this graph`, EXIT_CODES.badWeights);
}
