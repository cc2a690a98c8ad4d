/**
 * Optimizers with PyTorch semantics and a learning-rate schedule, over named
 * variables, with state that serialises to bytes (safetensors) for checkpoints.
 *
 * SGD (torch.optim.SGD, dampening 0, not Nesterov):
 *   d = g + wd·p;  buf = m·buf + d;  p -= lr·buf     (buf starts at 0, which
 *   equals PyTorch's "buf = d on the first step")
 * AdamW (torch.optim.AdamW): p *= 1 − lr·wd; m = β1·m + (1−β1)·g;
 *   v = β2·v + (1−β2)·g²; p -= (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε)
 */
import * as tf from '#tfjs';
import { ADAMW, optimizerInputs, SGD } from '../backend/wasm-adamw.ts';
import { readSafetensors, toFloat32, writeSafetensors } from '../compile/io/safetensors.ts';

import type { OptimizerSettings } from './rules.ts';

export {
  ADAMW_DEFAULTS,
  SGD_DEFAULTS,
  optimizerSettings,
  scaleLrForBatch,
  type AdamWSettings,
  type OptimizerSettings,
  type SgdSettings,
} from './rules.ts';

/** Swin-Unet's poly schedule, per step t (0-based) of T: lr·(1 − t/T)^power. */
export function polyLr(base: number, step: number, total: number, power = 0.9): number {
  if (total <= 0) return base;
  return base * Math.pow(Math.max(0, 1 - step / total), power);
}

/** Slot values by variable name, in the order the optimizer keeps them. */
export interface OptimizerSnapshot {
  settings: OptimizerSettings;
  /** Updates applied so far (AdamW's t). */
  step: number;
  slots: Record<string, { shape: number[]; values: Float32Array[] }>;
}

export const OPTIMIZER_FORMAT = 'mam-studio/optimizer';
const SLOT_NAMES = { sgd: ['momentum_buffer'], adamw: ['exp_avg', 'exp_avg_sq'] } as const;

/**
 * Elements per flat bucket (16 MiB of float32; a bigger single weight gets its
 * own). Each bucket's update frees its temporaries before the next starts, so
 * the update needs a few buckets' worth of memory beyond the gradients, not a
 * few model's worth (a 224² Swin-Unet step is near wasm's 4 GiB already), and
 * stays far inside WebGPU's default largest storage binding (128 MiB).
 */
const BUCKET_ELEMENTS = 1 << 22;

/** Weights updated together: their slots are flat 1-D variables, one per slot name. */
interface Bucket {
  names: string[];
  sizes: number[];
  offsets: number[];
  total: number;
  slots: tf.Variable[];
}

/** Weights (in `params` order) grouped by dtype, each group cut into buckets of at most `cap` elements. */
function bucketize(params: Map<string, tf.Variable>, cap: number): Omit<Bucket, 'slots'>[] {
  const open = new Map<string, Omit<Bucket, 'slots'>>();
  const out: Omit<Bucket, 'slots'>[] = [];
  for (const [name, p] of params) {
    let b = open.get(p.dtype);
    if (!b || (b.total > 0 && b.total + p.size > cap)) {
      b = { names: [], sizes: [], offsets: [], total: 0 };
      open.set(p.dtype, b);
      out.push(b);
    }
    b.names.push(name);
    b.sizes.push(p.size);
    b.offsets.push(b.total);
    b.total += p.size;
  }
  return out;
}

/**
 * A 1-D tensor cut into pieces of `sizes`. On wasm a slice reads the whole
 * input out of the heap (so `tf.split` into n pieces copies the bucket n times):
 * there one read and a tensor per piece, no kernel; elsewhere one SplitV.
 */
function splitFlat(x: tf.Tensor, sizes: number[]): tf.Tensor[] {
  if (tf.getBackend() !== 'wasm') return tf.split(x, sizes);
  const all = x.dataSync() as Float32Array;
  let at = 0;
  return sizes.map((n) => tf.tensor1d(all.subarray(at, (at += n)), x.dtype as 'float32'));
}

/**
 * The update runs once per bucket on the weights, gradients and slots
 * concatenated into 1-D tensors (a few kernels for all weights, not a dozen per
 * weight), and splits the new weights back. Elementwise, so each element sees
 * the same float32 operations as a per-weight update. On wasm a bucket's
 * update is one kernel instead (src/backend/wasm-adamw.ts: one pass, no
 * concatenation or split) doing those float32 operations in the same order.
 */
export class Optimizer {
  private readonly buckets: Bucket[];
  private updates = 0;

  constructor(
    readonly settings: OptimizerSettings,
    private readonly params: Map<string, tf.Variable>,
    bucketElements = BUCKET_ELEMENTS,
  ) {
    const n = SLOT_NAMES[settings.kind].length;
    this.buckets = bucketize(params, bucketElements).map((b) => ({
      ...b,
      slots: Array.from({ length: n }, () =>
        tf.tidy(() => tf.variable(tf.zeros([b.total], params.get(b.names[0])!.dtype), false)),
      ),
    }));
  }

  get step(): number {
    return this.updates;
  }

  /** One update with learning rate `lr`. `grads` by variable name; names without a gradient are left alone. */
  apply(grads: Record<string, tf.Tensor>, lr: number): void {
    this.updates++;
    for (const b of this.buckets)
      tf.tidy(() => {
        const has = b.names.map((n) => grads[n] !== undefined);
        if (!has.some(Boolean)) return;
        if (!this.fused(b, grads, has, lr)) this.composite(b, grads, has, lr);
      });
  }

  /**
   * The bucket's update as one kernel (wasm: src/backend/wasm-adamw.ts) on
   * the weights and gradients where they lie, when there is one for float32
   * weights and gradients; false (nothing done) otherwise.
   */
  private fused(b: Bucket, grads: Record<string, tf.Tensor>, has: boolean[], lr: number): boolean {
    const s = this.settings;
    const kernel = s.kind === 'sgd' ? SGD : ADAMW;
    if (tf.getBackend() !== 'wasm' || !tf.getKernel(kernel, 'wasm')) return false;
    const names = b.names.filter((_, i) => has[i]);
    const ws = names.map((n) => this.params.get(n)!);
    const gs = names.map((n) => grads[n]);
    if (![...ws, ...gs, ...b.slots].every((t) => t.dtype === 'float32')) return false;
    const t = this.updates;
    const scalars =
      s.kind === 'sgd'
        ? [s.weightDecay, s.momentum, lr]
        : [
            1 - lr * s.weightDecay,
            s.beta1,
            1 - s.beta1,
            s.beta2,
            1 - s.beta2,
            Math.sqrt(1 - Math.pow(s.beta2, t)),
            s.eps,
            lr / (1 - Math.pow(s.beta1, t)),
          ];
    const slots: Record<string, tf.Tensor> =
      s.kind === 'sgd' ? { buf: b.slots[0] } : { m: b.slots[0], v: b.slots[1] };
    const offsets = b.names.flatMap((_, i) => (has[i] ? [b.offsets[i]] : []));
    const out = tf
      .engine()
      .runKernel(kernel, optimizerInputs(ws, gs, slots), { offsets, scalars }) as tf.Tensor[];
    ws.forEach((w, i) => w.assign(out[i]));
    // SGD without momentum keeps no buffer (as the composite update)
    if (s.kind === 'adamw' || s.momentum) b.slots.forEach((v, k) => v.assign(out[ws.length + k]));
    return true;
  }

  /**
   * The bucket's update from tfjs ops on the weights, gradients and slots
   * concatenated into 1-D tensors, the new weights split back.
   */
  private composite(b: Bucket, grads: Record<string, tf.Tensor>, has: boolean[], lr: number) {
    const flat = (xs: tf.Tensor[]) => tf.concat(xs.map((x) => tf.reshape(x, [-1])));
    const p = flat(b.names.map((n) => this.params.get(n)!));
    const g = flat(b.names.map((n, i) => grads[n] ?? tf.zeros([b.sizes[i]], p.dtype)));
    const next = this.update(p, g, b.slots, lr);
    // weights without a gradient keep their value and slots: one mask over the bucket
    let keep = (x: tf.Tensor, _old: tf.Tensor) => x;
    if (!has.every(Boolean)) {
      const on = new Uint8Array(b.total);
      has.forEach((h, i) => h && on.fill(1, b.offsets[i], b.offsets[i] + b.sizes[i]));
      const mask = tf.tensor1d(on, 'bool');
      keep = (x, old) => tf.where(mask, x, old);
    }
    next.slots.forEach((s, i) => b.slots[i].assign(keep(s, b.slots[i])));
    const parts = splitFlat(keep(next.p, p), b.sizes);
    b.names.forEach((n, i) => {
      if (!has[i]) return;
      const v = this.params.get(n)!;
      v.assign(tf.reshape(parts[i], v.shape));
    });
  }

  /** New flat weights and slots (only the slots that change) from flat weights `p`, gradients `g` and slots. */
  private update(
    p: tf.Tensor,
    g: tf.Tensor,
    slot: tf.Variable[],
    lr: number,
  ): { p: tf.Tensor; slots: tf.Tensor[] } {
    const s = this.settings;
    if (s.kind === 'sgd') {
      const d = s.weightDecay ? tf.add(g, tf.mul(p, s.weightDecay)) : g;
      const buf = s.momentum ? tf.add(tf.mul(slot[0], s.momentum), d) : d;
      return { p: tf.sub(p, tf.mul(buf, lr)), slots: s.momentum ? [buf] : [] };
    }
    const t = this.updates;
    const decayed = s.weightDecay ? tf.mul(p, 1 - lr * s.weightDecay) : p;
    const m = tf.add(tf.mul(slot[0], s.beta1), tf.mul(g, 1 - s.beta1));
    const v = tf.add(tf.mul(slot[1], s.beta2), tf.mul(tf.square(g), 1 - s.beta2));
    const bc1 = 1 - Math.pow(s.beta1, t);
    const bc2 = 1 - Math.pow(s.beta2, t);
    const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(bc2)), s.eps);
    return { p: tf.sub(decayed, tf.mul(tf.div(m, denom), lr / bc1)), slots: [m, v] };
  }

  /** Slots per weight (copied out of the flat buckets), in `params` order. */
  async snapshot(): Promise<OptimizerSnapshot> {
    const slots: OptimizerSnapshot['slots'] = {};
    const at = new Map<string, { b: Bucket; i: number; data: Float32Array[] }>();
    for (const b of this.buckets) {
      const data: Float32Array[] = [];
      for (const v of b.slots) data.push((await v.data()) as Float32Array);
      b.names.forEach((n, i) => at.set(n, { b, i, data }));
    }
    for (const [name, p] of this.params) {
      const { b, i, data } = at.get(name)!;
      const from = b.offsets[i];
      const values = data.map((d) => d.slice(from, from + b.sizes[i]));
      slots[name] = { shape: p.shape.slice(), values };
    }
    return { settings: { ...this.settings }, step: this.updates, slots };
  }

  /** Restore a snapshot; refuses one for other settings or other variables (nothing changes then). */
  restore(snap: OptimizerSnapshot): void {
    const problem = optimizerStateMismatch(snap, this.settings.kind, this.params);
    if (problem) throw new Error(problem);
    for (const b of this.buckets) {
      b.slots.forEach((v, k) => {
        const flat = new Float32Array(b.total);
        b.names.forEach((n, i) => flat.set(snap.slots[n].values[k], b.offsets[i]));
        tf.tidy(() => v.assign(tf.tensor1d(flat, v.dtype as 'float32')));
      });
    }
    this.updates = snap.step;
  }

  dispose(): void {
    for (const b of this.buckets) b.slots.forEach((v) => v.dispose());
    this.buckets.length = 0;
  }
}

/** Why a snapshot does not fit these variables and optimizer kind, or null when it does. */
export function optimizerStateMismatch(
  snap: OptimizerSnapshot,
  kind: OptimizerSettings['kind'],
  params: ReadonlyMap<string, { shape: readonly number[] }>,
): string | null {
  if (snap.settings.kind !== kind)
    return `optimizer state is for ${snap.settings.kind}, this run uses ${kind}`;
  const names = [...params.keys()];
  const missing = names.filter((n) => !snap.slots[n]);
  if (missing.length)
    return `optimizer state lacks ${missing.length} variables (${missing.slice(0, 3).join(', ')})`;
  const slotNames = SLOT_NAMES[kind];
  for (const n of names) {
    const lacks = slotNames.filter((_, i) => !snap.slots[n].values[i]);
    if (lacks.length) return `optimizer state for ${n} lacks ${lacks.join(', ')}`;
    const want = params.get(n)!.shape.join('×');
    if (snap.slots[n].shape.join('×') !== want)
      return `optimizer state for ${n} is ${snap.slots[n].shape.join('×')}, the variable is ${want}`;
  }
  return null;
}

/** Snapshot → safetensors bytes (`<variable>#<slot>` tensors; settings and step in the metadata). */
export function encodeOptimizerState(snap: OptimizerSnapshot): Uint8Array {
  const names = SLOT_NAMES[snap.settings.kind];
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [v, s] of Object.entries(snap.slots))
    s.values.forEach((data, i) => (tensors[`${v}#${names[i]}`] = { shape: s.shape, data }));
  return writeSafetensors(tensors, {
    format: OPTIMIZER_FORMAT,
    settings: JSON.stringify(snap.settings),
    step: String(snap.step),
  });
}

export function decodeOptimizerState(bytes: Uint8Array): OptimizerSnapshot {
  const file = readSafetensors(bytes);
  if (file.metadata.format !== OPTIMIZER_FORMAT)
    throw new Error('not a mam-studio optimizer state file');
  const settings = JSON.parse(file.metadata.settings) as OptimizerSettings;
  const names: readonly string[] = SLOT_NAMES[settings.kind];
  const slots: OptimizerSnapshot['slots'] = {};
  for (const [key, t] of file.tensors) {
    const at = key.lastIndexOf('#');
    const v = key.slice(0, at);
    const i = names.indexOf(key.slice(at + 1));
    if (i < 0) throw new Error(`optimizer state: unknown slot ${key}`);
    const s = (slots[v] ??= { shape: t.shape, values: [] });
    s.values[i] = toFloat32(t);
  }
  return { settings, step: Number(file.metadata.step), slots };
}
