/**
 * The one weights policy, for `mam run`/`mam eval` and the editor's Import:
 * - our own checkpoints (safetensors with mam-studio metadata) must fit the
 *   graph exactly (a fingerprint of every weight name and shape is stored);
 *   a mismatch is refused, naming what differs;
 * - any other safetensors file is a PyTorch state dict, imported by module
 *   path after the key-prefix rule (`module.`, `swin_unet.`), with a report
 *   of what matched; nothing matching is refused, and a file that fills only
 *   part of the graph is refused unless partial imports are allowed (the rest
 *   keeps its current values).
 * A refused file changes nothing: every check runs before the first weight
 * is written. Failures are SessionErrors with exit code 3.
 */
import { readSafetensors, type SafetensorsFile } from '../compile/io/safetensors.ts';
import type { CompiledModel } from '../compile/model.ts';
import {
  WEIGHTS_FORMAT,
  applyStateDictImport,
  formatImportReport,
  loadWeights,
  planStateDictImport,
  type ImportReport,
} from '../compile/weights.ts';
import { EXIT_CODES, SessionError } from './errors.ts';

export interface WeightsPolicy {
  /** Accept a state dict that fills only some weights (the rest keep their values). */
  allowPartial?: boolean;
  /** Says what the rest of the graph keeps in the refusal's advice (e.g. "pass --allow-partial to …"). */
  partialAdvice?: string;
  /** Called with the import report of a state dict before it is accepted or refused. */
  onReport?: (text: string, report: ImportReport) => void;
}

export type WeightsOutcome =
  | { kind: 'checkpoint'; name: string; loaded: number; metadata: Record<string, string> }
  | {
      kind: 'state dict';
      name: string;
      loaded: number;
      report: ImportReport;
      /** How much of the graph the file filled, when not all of it (a sentence naming the file). */
      partial?: string;
      metadata: Record<string, string>;
    };

const refuse = (message: string) => new SessionError(message, EXIT_CODES.badWeights);

/** Reads a safetensors file or refuses it, naming it. */
export function readWeightsFile(bytes: Uint8Array, name: string): SafetensorsFile {
  try {
    return readSafetensors(bytes);
  } catch (e) {
    throw refuse(`${name} is not a readable safetensors file: ${(e as Error).message}`);
  }
}

/** Applies a weights file to the model by the policy above, or throws (and changes nothing). */
export function applyWeightsFile(
  model: CompiledModel,
  bytes: Uint8Array,
  name: string,
  policy: WeightsPolicy = {},
): WeightsOutcome {
  const file = readWeightsFile(bytes, name);
  if (file.metadata.format === WEIGHTS_FORMAT) {
    const r = loadWeights(model, bytes, name);
    if (!r.ok) throw refuse(r.message);
    return { kind: 'checkpoint', name, loaded: r.loaded, metadata: file.metadata };
  }
  const plan = planStateDictImport(model, file);
  const { report } = plan;
  policy.onReport?.(formatImportReport(report), report);
  const matched = report.matched.length + report.mirrored.length;
  if (matched === 0) throw refuse(`${name}: no tensor matched a weight of this graph`);
  const unfilled = report.missing.length + report.wrongShape.length;
  const partial =
    unfilled === 0
      ? undefined
      : `${name} fills ${matched} of ${model.weights.size} weights of the graph (${report.missing.length} missing, ${report.wrongShape.length} of another shape)`;
  if (partial && !policy.allowPartial)
    throw refuse(partial + (policy.partialAdvice ? `; ${policy.partialAdvice}` : ''));
  applyStateDictImport(model, plan);
  return { kind: 'state dict', name, loaded: matched, report, partial, metadata: file.metadata };
}

/** One sentence about what a weights file did. */
export function describeWeightsOutcome(o: WeightsOutcome): string {
  if (o.kind === 'checkpoint') return `Loaded ${o.loaded} weights from ${o.name}.`;
  return `Imported a PyTorch state dict from ${o.name}: ${formatImportReport(o.report)}`;
}
