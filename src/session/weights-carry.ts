/**
 * Keeping trained weights across a recompile: every weight of the new model
 * whose key (`<nodeId>/<weight name>`) and shape exist in the old one takes
 * the old values. A SAM block and the MAM unit that replaces it declare the
 * same weights under the same node id, so a swap keeps everything.
 */
import type { CompiledModel } from '../compile/model.ts';

export interface CarryReport {
  kept: number;
  reinitialised: number;
  dropped: number;
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

export function carryWeights(from: CompiledModel, to: CompiledModel): CarryReport {
  let kept = 0;
  let reinitialised = 0;
  for (const [key, w] of to.weights) {
    const old = from.weights.get(key);
    if (
      old &&
      sameShape(old.spec.shape, w.spec.shape) &&
      sameShape(old.variable.shape, w.variable.shape)
    ) {
      w.variable.assign(old.variable);
      kept++;
    } else reinitialised++;
  }
  const dropped = [...from.weights.keys()].filter((k) => !to.weights.has(k)).length;
  return { kept, reinitialised, dropped };
}

/** FNV-1a over every weight's float32 bytes, in key order: equal digests, equal weights. */
export function weightsDigest(model: CompiledModel): string {
  let h = 0x811c9dc5;
  for (const key of [...model.weights.keys()].sort()) {
    const v = model.weights.get(key)!.variable.dataSync() as Float32Array;
    const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
