/** Whether tfjs's gradient tape is recording (tf.grad, variableGrads, a custom gradient's backward). */
import * as tf from '#tfjs';

export function tapeActive(): boolean {
  return (tf.engine().state as unknown as { gradientDepth: number }).gradientDepth > 0;
}

/**
 * `next` of `prev`; without a tape `prev` is freed at once (nothing will read
 * it again), under one it stays for the backward pass.
 */
export function thenFree<T extends tf.Tensor>(prev: tf.Tensor, next: (t: tf.Tensor) => T): T {
  const out = next(prev);
  if (!tapeActive() && out !== prev) prev.dispose();
  return out;
}
