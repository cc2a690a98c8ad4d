/** Shared by the CLI verbs that compute: read a graph, compile it, load weights, each failure a message and an exit code. */
import { readFile } from 'node:fs/promises';
import { initBackend, type BackendInfo, type BackendPreference } from '../backend/index.ts';
import { CompiledModel } from '../compile/model.ts';
import { planGraph } from '../compile/plan.ts';
import { applyWeightsFile as applyWeights } from '../session/weights.ts';
import { loadGraph } from '../graph/load.ts';
import { SessionError, EXIT_CODES } from './errors.ts';
import { catalogue } from '../../nodes/index.ts';
import { kernels } from '../compile/kernels/index.ts';
import type { KernelTable } from '../compile/kernels/types.ts';

/**
 * Start the backend the user asked for (a named one that cannot start falls
 * back, and the message says so); none at all is exit 5. Logs what runs.
 */
export async function startBackend(
  pref: BackendPreference,
  log: (s: string) => void,
  threads?: number,
): Promise<BackendInfo> {
  let info: BackendInfo;
  try {
    info = await initBackend(pref, { threads });
  } catch (e) {
    throw new SessionError((e as Error).message, EXIT_CODES.backend);
  }
  log(info.message);
  return info;
}

export async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SessionError(
      `cannot read ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
      EXIT_CODES.unreadable,
    );
  }
}

export async function compileGraphFile(path: string, seed = 0, table: KernelTable = kernels) {
  const text = new TextDecoder().decode(await readBytes(path, 'graph file'));
  const loaded = loadGraph(text, catalogue);
  if (!loaded.ok)
    throw new SessionError(
      `${path} cannot be opened:\n${loaded.issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`,
      EXIT_CODES.unreadable,
    );
  const plan = planGraph(loaded.graph, catalogue, table);
  if (!plan.ok) {
    throw new SessionError(
      `${path} has errors, so it cannot be compiled:\n${plan.errors.map((i) => `  ${i.path}: ${i.message}`).join('\n')}\n(run 'mam inspect ${path}' for the whole picture)`,
      EXIT_CODES.graphErrors,
    );
  }
  return { graph: loaded.graph, plan: plan.plan, model: CompiledModel.create(plan.plan, { seed }) };
}

/**
 * Weights from a file, by the session's weights policy (src/session/weights.ts):
 * the import report of a state dict is logged either way, and one that fills
 * part of the graph needs `allowPartial` (then the rest keeps the seeded
 * initialisation). Returns the file's metadata (e.g. the resize rule the
 * weights were trained with).
 */
export async function applyWeightsFile(
  model: CompiledModel,
  path: string,
  log: (s: string) => void,
  opts: { allowPartial?: boolean } = {},
): Promise<Record<string, string>> {
  const bytes = await readBytes(path, 'weights file');
  const outcome = applyWeights(model, bytes, path, {
    allowPartial: opts.allowPartial,
    partialAdvice: 'pass --allow-partial to run with the rest from the seeded initialisation',
    onReport: (text) => log(`imported a PyTorch state dict from ${path}: ${text}`),
  });
  if (outcome.kind === 'state dict' && outcome.partial)
    log(
      `warning: ${outcome.partial}; --allow-partial: the rest keeps the seeded initialisation (seed 0)`,
    );
  return outcome.metadata;
}
