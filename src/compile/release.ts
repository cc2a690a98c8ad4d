/**
 * Releasing a forward pass's intermediate tensors as soon as they are read
 * for the last time. Without a gradient tape nothing needs them afterwards,
 * so inference holds only the outputs still to be consumed (a 96³ SwinUNETR
 * forward held all of them, and wasm's 4 GiB heap ran out). Under a tape
 * (training, or gradients of an eval-mode forward) the tape keeps what the
 * backward pass needs, and nothing is released here.
 */
import * as tf from '#tfjs';
import type { PortRef } from '../graph/types.ts';
import type { Plan } from './plan.ts';

export const portKey = (r: PortRef): string => `${r.node}:${r.port}`;

/**
 * For each step (by index), the port keys of the outputs nobody reads after
 * it: its inputs whose last consumer it is, and its own outputs that no step
 * reads at all. Depends on the plan only, so it is computed once per plan.
 */
export function releaseSchedule(plan: Plan): string[][] {
  const last = new Map<string, number>();
  plan.steps.forEach((step, i) => {
    for (const port of Object.keys(step.outShapes)) last.set(`${step.id}:${port}`, i);
    for (const ref of Object.values(step.inputs)) last.set(portKey(ref), i);
  });
  const schedule: string[][] = plan.steps.map(() => []);
  for (const [key, i] of last) schedule[i].push(key);
  return schedule;
}

export { tapeActive } from '../ops/tape.ts';

/**
 * The live outputs of a forward pass by port key, which can drop the ones a
 * schedule says are done. A tensor is disposed only when no live key holds it
 * any more (a kernel may hand its input on, or one tensor on two ports), and
 * never when it is the caller's (the input), kept (constants) or a variable.
 */
export class LiveValues {
  private readonly values = new Map<string, tf.Tensor>();
  private readonly holders = new Map<number, number>();

  constructor(
    private readonly spared: ReadonlySet<string>,
    private readonly foreign: ReadonlySet<number>,
  ) {}

  get(key: string): tf.Tensor | undefined {
    return this.values.get(key);
  }

  set(key: string, t: tf.Tensor): void {
    this.values.set(key, t);
    this.holders.set(t.id, (this.holders.get(t.id) ?? 0) + 1);
  }

  release(keys: readonly string[]): void {
    for (const key of keys) {
      const t = this.values.get(key);
      if (!t || this.spared.has(key)) continue;
      this.values.delete(key);
      const n = (this.holders.get(t.id) ?? 1) - 1;
      if (n > 0) {
        this.holders.set(t.id, n);
        continue;
      }
      this.holders.delete(t.id);
      if (!this.foreign.has(t.id) && !t.kept && !(t instanceof tf.Variable)) t.dispose();
    }
  }
}
