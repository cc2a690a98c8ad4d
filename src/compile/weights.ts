/**
 * Weights in and out. Our checkpoints are safetensors files keyed by module
 * path in PyTorch layout (`layers.0.blocks.1.attn.qkv.weight`), so they are
 * also state dicts the reference PyTorch code can load; a fingerprint of the
 * graph's weight structure is stored beside them. PyTorch state dicts import
 * by the same names, with a report of what matched and what did not.
 */
import * as tf from '#tfjs';
import { hashString } from './init.ts';
import type { CompiledModel, NamedWeight } from './model.ts';
import {
  readSafetensors,
  toFloat32,
  writeSafetensors,
  type SafetensorsFile,
} from './io/safetensors.ts';

export const WEIGHTS_FORMAT = 'mam-studio/weights';

const moduleKey = (w: NamedWeight) => `${w.node}.${w.spec.name}`;
const shapeText = (s: readonly number[]) => s.join('×');

/**
 * A fingerprint of the weight structure: every module path and shape. SAM and
 * MAM versions of a graph share it (same weights), other graphs do not.
 */
export function weightFingerprint(model: CompiledModel): string {
  const lines = [...model.weights.values()]
    .map((w) => `${moduleKey(w)}:${shapeText(w.spec.shape)}`)
    .sort()
    .join('\n');
  return (
    hashString(lines).toString(16).padStart(8, '0') +
    hashString(lines, 0x9e3779b9).toString(16).padStart(8, '0')
  );
}

export interface SaveOptions {
  metadata?: Record<string, string>;
}

export function saveWeights(model: CompiledModel, opts: SaveOptions = {}): Uint8Array {
  const state = model.stateDict();
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [key, t] of state) {
    tensors[key] = { shape: t.shape, data: t.dataSync() as Float32Array };
    t.dispose();
  }
  return writeSafetensors(tensors, {
    ...opts.metadata,
    format: WEIGHTS_FORMAT,
    fingerprint: weightFingerprint(model),
    classNames: JSON.stringify(model.plan.classNames),
  });
}

export interface WeightDiff {
  missing: string[];
  unexpected: string[];
  wrongShape: { key: string; file: number[]; graph: number[] }[];
}

function diffAgainst(
  model: CompiledModel,
  file: Map<string, { shape: number[] }>,
): WeightDiff & { matched: string[] } {
  const matched: string[] = [];
  const missing: string[] = [];
  const wrongShape: WeightDiff['wrongShape'] = [];
  const seen = new Set<string>();
  for (const w of model.weights.values()) {
    const key = moduleKey(w);
    const t = file.get(key);
    seen.add(key);
    if (!t) missing.push(key);
    else if (shapeText(t.shape) !== shapeText(w.spec.shape))
      wrongShape.push({ key, file: t.shape, graph: w.spec.shape });
    else matched.push(key);
  }
  const unexpected = [...file.keys()].filter((k) => !seen.has(k));
  return { matched, missing, unexpected, wrongShape };
}

const list = (xs: string[], n = 3) =>
  xs.slice(0, n).join(', ') + (xs.length > n ? ` and ${xs.length - n} more` : '');

export function describeDiff(d: WeightDiff): string {
  const parts: string[] = [];
  if (d.missing.length)
    parts.push(`${d.missing.length} weights of the graph are not in the file (${list(d.missing)})`);
  if (d.unexpected.length)
    parts.push(
      `${d.unexpected.length} tensors of the file are not in the graph (${list(d.unexpected)})`,
    );
  if (d.wrongShape.length) {
    parts.push(
      `${d.wrongShape.length} have another shape (${list(
        d.wrongShape.map((w) => `${w.key}: file ${shapeText(w.file)}, graph ${shapeText(w.graph)}`),
        2,
      )})`,
    );
  }
  return parts.join('; ');
}

export type LoadWeightsResult =
  { ok: true; loaded: number } | { ok: false; message: string; diff?: WeightDiff };

function assign(model: CompiledModel, file: SafetensorsFile, keys: Iterable<[string, string]>) {
  for (const [modelKey, fileKey] of keys) {
    const t = file.tensors.get(fileKey)!;
    const value = tf.tensor(toFloat32(t), t.shape);
    model.assignTorch(modelKey, value);
    value.dispose();
  }
}

const modelKeyOf = (model: CompiledModel) =>
  new Map([...model.weights.values()].map((w) => [moduleKey(w), w.key]));

/** Load our own checkpoint. Weights of another graph are refused, naming what differs; nothing is changed then. */
export function loadWeights(
  model: CompiledModel,
  bytes: Uint8Array,
  fileName = 'the weights file',
): LoadWeightsResult {
  let file: SafetensorsFile;
  try {
    file = readSafetensors(bytes);
  } catch (e) {
    return {
      ok: false,
      message: `${fileName} is not a readable safetensors file: ${(e as Error).message}`,
    };
  }
  const d = diffAgainst(model, file.tensors);
  if (d.missing.length || d.unexpected.length || d.wrongShape.length) {
    const theirs = file.metadata.fingerprint;
    const ours = weightFingerprint(model);
    // The same fingerprint means the file was written for this graph and has lost or changed tensors since.
    const what =
      theirs === ours
        ? `was written for this graph (fingerprint ${ours}) but its tensors do not match it`
        : theirs
          ? `holds weights for another graph (fingerprint ${theirs}, this graph ${ours})`
          : `holds weights for another graph`;
    return { ok: false, message: `${fileName} ${what}: ${describeDiff(d)}`, diff: d };
  }
  const keys = modelKeyOf(model);
  assign(
    model,
    file,
    d.matched.map((k) => [keys.get(k)!, k] as [string, string]),
  );
  return { ok: true, loaded: d.matched.length };
}

export interface ImportReport {
  matched: string[];
  missing: string[];
  unexpected: string[];
  wrongShape: WeightDiff['wrongShape'];
  /** Buffers and unused modules of the reference code, skipped on purpose. */
  skipped: string[];
  /**
   * Weights of modules the reference builds but never executes, or whose
   * output it discards (DA-TransUNet's unused decoder DA heads and conv6/conv7
   * side branches), which the graph leaves out: skipped, not errors.
   */
  notExecuted: string[];
  /** Decoder weights filled from the encoder (Swin-T mirror). */
  mirrored: string[];
}

const PREFIXES = ['module.', 'swin_unet.'];
const isBuffer = (k: string) =>
  k.endsWith('relative_position_index') ||
  k.endsWith('attn_mask') ||
  k.startsWith('decoder0.') ||
  k.endsWith('.num_batches_tracked');

/**
 * A weight of a module the reference runs for nothing, given the graph's node
 * ids: a DA head's discarded side branch (conv6/conv7) of a head the graph
 * has, or a decoder DA head the graph does not have (DA-TRANSUNET-MAM-SPEC.md §h1–h4).
 */
function isNotExecuted(k: string, nodes: ReadonlySet<string>, declared: ReadonlySet<string>) {
  if (declared.has(k)) return false;
  const side = /^(.*)\.conv[67]\.\d+\.(weight|bias)$/.exec(k);
  if (side && nodes.has(side[1])) return true;
  const head = /^(decoder\.blocks\.\d+\.da[23]?)\./.exec(k);
  return !!head && !nodes.has(head[1]);
}

export interface ImportOptions {
  /** Copy encoder stage i into decoder stage layers_up.(n−1−i) where shapes agree (Swin-Unet's load_from). */
  mirrorEncoder?: boolean;
  /** Number of encoder stages for the mirror map (default 4). */
  stages?: number;
}

/** The key-prefix rule: wrappers PyTorch code adds in front of the module paths (DataParallel, Swin-Unet's wrapper). */
export function stripModulePrefix(key: string): string {
  let k = key;
  for (const p of PREFIXES) if (k.startsWith(p)) k = k.slice(p.length);
  return k;
}

/** What importing a state dict would do: the report, and which file tensor fills which weight. Changes nothing. */
export interface StateDictImport {
  report: ImportReport;
  file: SafetensorsFile;
  /** [model weight key, file tensor key] pairs to assign. */
  assignments: [string, string][];
}

/** Plans the import of a PyTorch state dict (safetensors) by name, with the layout conversions. */
export function planStateDictImport(
  model: CompiledModel,
  bytes: Uint8Array | SafetensorsFile,
  opts: ImportOptions = {},
): StateDictImport {
  const file = bytes instanceof Uint8Array ? readSafetensors(bytes) : bytes;
  const renamed = new Map<string, string>(); // our module key → file key
  const skipped: string[] = [];
  const notExecuted: string[] = [];
  const nodes = new Set([...model.weights.values()].map((w) => w.node));
  const declared = new Set([...model.weights.values()].map(moduleKey));
  const shapes = new Map<string, { shape: number[] }>();
  for (const [key, t] of file.tensors) {
    const k = stripModulePrefix(key);
    if (isBuffer(k)) {
      skipped.push(key);
      continue;
    }
    if (isNotExecuted(k, nodes, declared)) {
      notExecuted.push(key);
      continue;
    }
    renamed.set(k, key);
    shapes.set(k, t);
  }
  const d = diffAgainst(model, shapes);
  const keys = modelKeyOf(model);
  const mirrored: string[] = [];
  if (opts.mirrorEncoder) {
    const n = opts.stages ?? 4;
    const missingSet = new Set(d.missing);
    for (const [k, t] of shapes) {
      const m = /^layers\.(\d+)\.(.*)$/.exec(k);
      if (!m) continue;
      const target = `layers_up.${n - 1 - Number(m[1])}.${m[2]}`;
      const w = model.weights.get(keys.get(target) ?? '');
      if (!w || !missingSet.has(target) || shapeText(w.spec.shape) !== shapeText(t.shape)) continue;
      renamed.set(target, renamed.get(k)!);
      missingSet.delete(target);
      mirrored.push(target);
      d.matched.push(target);
    }
    d.missing = d.missing.filter((k) => missingSet.has(k));
  }
  return {
    file,
    assignments: d.matched.map((k) => [keys.get(k)!, renamed.get(k)!]),
    report: {
      matched: d.matched.filter((k) => !mirrored.includes(k)),
      missing: d.missing,
      unexpected: d.unexpected.map((k) => renamed.get(k) ?? k),
      wrongShape: d.wrongShape,
      skipped,
      notExecuted,
      mirrored,
    },
  };
}

/** Assigns a planned import to the model's weights. */
export function applyStateDictImport(model: CompiledModel, plan: StateDictImport): void {
  assign(model, plan.file, plan.assignments);
}

/** Imports a PyTorch state dict (safetensors) by name, with the layout conversions. */
export function importStateDict(
  model: CompiledModel,
  bytes: Uint8Array | SafetensorsFile,
  opts: ImportOptions = {},
): ImportReport {
  const plan = planStateDictImport(model, bytes, opts);
  applyStateDictImport(model, plan);
  return plan.report;
}

export function formatImportReport(r: ImportReport): string {
  const lines = [
    `matched ${r.matched.length}${r.mirrored.length ? `, mirrored into the decoder ${r.mirrored.length}` : ''}, missing ${r.missing.length}, unexpected ${r.unexpected.length}, wrong shape ${r.wrongShape.length}, skipped buffers ${r.skipped.length}${r.notExecuted.length ? `, skipped as never executed in the reference ${r.notExecuted.length}` : ''}`,
  ];
  for (const k of r.notExecuted) lines.push(`  skipped     ${k} (never executed in the reference)`);
  for (const k of r.missing) lines.push(`  missing     ${k}`);
  for (const k of r.unexpected) lines.push(`  unexpected  ${k}`);
  for (const w of r.wrongShape)
    lines.push(`  wrong shape ${w.key}: file ${shapeText(w.file)}, graph ${shapeText(w.graph)}`);
  return lines.join('\n');
}

/** tfjs's own weight format: a manifest (weightSpecs) and one binary blob, PyTorch layout, same names. */
export async function encodeTfjsWeights(
  model: CompiledModel,
): Promise<{ manifest: object; data: ArrayBuffer }> {
  const state = model.stateDict();
  const named = [...state].map(([name, tensor]) => ({ name, tensor }));
  const { data, specs } = await tf.io.encodeWeights(named);
  for (const t of state.values()) t.dispose();
  return {
    manifest: {
      format: WEIGHTS_FORMAT,
      fingerprint: weightFingerprint(model),
      weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
    },
    data,
  };
}

export function decodeTfjsWeights(
  model: CompiledModel,
  manifest: { weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] },
  data: ArrayBuffer,
): LoadWeightsResult {
  const specs = manifest.weightsManifest.flatMap((g) => g.weights);
  const tensors = tf.io.decodeWeights(data, specs);
  const file = new Map(Object.entries(tensors).map(([k, t]) => [k, { shape: t.shape }]));
  const d = diffAgainst(model, file);
  if (d.missing.length || d.unexpected.length || d.wrongShape.length) {
    Object.values(tensors).forEach((t) => t.dispose());
    return {
      ok: false,
      message: `these tfjs weights are for another graph: ${describeDiff(d)}`,
      diff: d,
    };
  }
  const keys = modelKeyOf(model);
  for (const k of d.matched) model.assignTorch(keys.get(k)!, tensors[k]);
  Object.values(tensors).forEach((t) => t.dispose());
  return { ok: true, loaded: d.matched.length };
}
