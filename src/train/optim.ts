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

export class Optimizer {
  private readonly slots = new Map<string, tf.Variable[]>();
  private updates = 0;

  constructor(
    readonly settings: OptimizerSettings,
    private readonly params: Map<string, tf.Variable>,
  ) {
    const n = SLOT_NAMES[settings.kind].length;
    for (const [name, p] of params) {
      this.slots.set(
        name,
        Array.from({ length: n }, () => tf.tidy(() => tf.variable(tf.zerosLike(p), false))),
      );
    }
  }

  get step(): number {
    return this.updates;
  }

  /** One update with learning rate `lr`. `grads` by variable name; names without a gradient are left alone. */
  apply(grads: Record<string, tf.Tensor>, lr: number): void {
    const s = this.settings;
    this.updates++;
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        const g = grads[name];
        if (!g) continue;
        const slot = this.slots.get(name)!;
        if (s.kind === 'sgd') {
          const d = s.weightDecay ? tf.add(g, tf.mul(p, s.weightDecay)) : g;
          const buf = s.momentum ? tf.add(tf.mul(slot[0], s.momentum), d) : d;
          if (s.momentum) slot[0].assign(buf);
          p.assign(tf.sub(p, tf.mul(buf, lr)));
        } else {
          const t = this.updates;
          const decayed = s.weightDecay ? tf.mul(p, 1 - lr * s.weightDecay) : p;
          const m = tf.add(tf.mul(slot[0], s.beta1), tf.mul(g, 1 - s.beta1));
          const v = tf.add(tf.mul(slot[1], s.beta2), tf.mul(tf.square(g), 1 - s.beta2));
          slot[0].assign(m);
          slot[1].assign(v);
          const bc1 = 1 - Math.pow(s.beta1, t);
          const bc2 = 1 - Math.pow(s.beta2, t);
          const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(bc2)), s.eps);
          p.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), lr / bc1)));
        }
      }
    });
  }

  async snapshot(): Promise<OptimizerSnapshot> {
    const slots: OptimizerSnapshot['slots'] = {};
    for (const [name, vars] of this.slots) {
      const values: Float32Array[] = [];
      for (const v of vars) values.push((await v.data()) as Float32Array);
      slots[name] = { shape: vars[0].shape.slice(), values };
    }
    return { settings: { ...this.settings }, step: this.updates, slots };
  }

  /** Restore a snapshot; refuses one for other settings or other variables (nothing changes then). */
  restore(snap: OptimizerSnapshot): void {
    const problem = optimizerStateMismatch(snap, this.settings.kind, this.params);
    if (problem) throw new Error(problem);
    const names = [...this.params.keys()];
    for (const n of names) {
      const vars = this.slots.get(n)!;
      snap.slots[n].values.forEach((vals, i) =>
        tf.tidy(() => vars[i].assign(tf.tensor(vals, vars[i].shape))),
      );
    }
    this.updates = snap.step;
  }

  dispose(): void {
    for (const vars of this.slots.values()) vars.forEach((v) => v.dispose());
    this.slots.clear();
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
  for (const n of names) {
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
