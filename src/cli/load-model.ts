/** Shared by the CLI verbs that compute: read a graph, compile it, load weights, each failure a message and an exit code. */
import { readFile } from 'node:fs/promises';
import { initBackend, type BackendInfo, type BackendPreference } from '../backend/index.ts';
import { CompiledModel } from '../compile/model.ts';
import { planGraph } from '../compile/plan.ts';
import { loadWeights, importStateDict, formatImportReport } from '../compile/weights.ts';
import { readSafetensors } from '../compile/io/safetensors.ts';
import { loadGraph } from '../graph/load.ts';
import { CliError, EXIT_CODES } from './errors.ts';
import { catalogue } from '../../nodes/index.ts';
import { kernels } from '../compile/kernels/index.ts';

/**
 * Start the backend the user asked for (a named one that cannot start falls
 * back, and the message says so); none at all is exit 5. Logs what runs.
 */
export async function startBackend(
  pref: BackendPreference,
  log: (s: string) => void,
): Promise<BackendInfo> {
  let info: BackendInfo;
  try {
    info = await initBackend(pref);
  } catch (e) {
    throw new CliError((e as Error).message, EXIT_CODES.backend);
  }
  log(info.message);
  return info;
}

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
  const loaded = loadGraph(text, catalogue);
  if (!loaded.ok)
    throw new CliError(
      `${path} cannot be opened:\n${loaded.issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`,
      EXIT_CODES.unreadable,
    );
  const plan = planGraph(loaded.graph, catalogue, kernels);
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
 * foreign state dict (no mam-studio metadata) is imported by name with a
 * report, and must fill every weight of the graph unless `allowPartial`
 * (then the rest keeps the seeded initialisation). The report is logged either way.
 * Returns the file's metadata (e.g. the resize rule the weights were trained with).
 */
export async function applyWeightsFile(
  model: CompiledModel,
  path: string,
  log: (s: string) => void,
  opts: { allowPartial?: boolean } = {},
): Promise<Record<string, string>> {
  const bytes = await readBytes(path, 'weights file');
  let file;
  try {
    file = readSafetensors(bytes);
  } catch (e) {
    throw new CliError(
      `${path} is not a readable safetensors file: ${(e as Error).message}`,
      EXIT_CODES.badWeights,
    );
  }
  if (file.metadata.format === 'mam-studio/weights') {
    const r = loadWeights(model, bytes, path);
    if (!r.ok) throw new CliError(r.message, EXIT_CODES.badWeights);
    return file.metadata;
  }
  const report = importStateDict(model, file);
  log(`imported a PyTorch state dict from ${path}: ${formatImportReport(report)}`);
  if (report.matched.length === 0)
    throw new CliError(`${path}: no tensor matched a weight of this graph`, EXIT_CODES.badWeights);
  const unfilled = report.missing.length + report.wrongShape.length;
  if (unfilled === 0) return file.metadata;
  const what = `${path} fills ${report.matched.length} of ${model.weights.size} weights of the graph (${report.missing.length} missing, ${report.wrongShape.length} of another shape)`;
  if (!opts.allowPartial)
    throw new CliError(
      `${what}; pass --allow-partial to run with the rest from the seeded initialisation`,
      EXIT_CODES.badWeights,
    );
  log(`warning: ${what}; --allow-partial: the rest keeps the seeded initialisation (seed 0)`);
  return file.metadata;
}
