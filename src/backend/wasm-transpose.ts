// The wasm backend's Transpose runs a plain 2D transpose ([M, p] → [p, M],
// what a matMul gradient and a Sum over the first axis make) at ~6–8 ns an
// element here, and its rank-3 transposes at ~1: a 2D transpose split into
// three axes, [a, M/a, p] → [p, a, M/a], moves the same elements in the same
// order ~7× faster. The replacement kernel does that split and leaves every
// other transpose to the original.
import * as tf from '#tfjs';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** The smallest factor of n in [2, √n], or 0 when there is none (n prime or below 4). */
function smallFactor(n: number): number {
  for (let a = 2; a * a <= n; a++) if (n % a === 0) return a;
  return 0;
}

/**
 * The transpose `perm` of `shape` as a rank-3 one when, without its axes of
 * size 1, it is a 2D transpose with a side that splits: the shape to read the
 * input as and the permutation, or null.
 */
export function rank3Transpose(
  shape: readonly number[],
  perm: readonly number[],
): { shape: number[]; perm: number[] } | null {
  const kept = perm.filter((a) => shape[a] !== 1);
  if (kept.length !== 2 || kept[0] < kept[1]) return null;
  const [M, p] = [shape[kept[1]], shape[kept[0]]];
  const a = smallFactor(M);
  if (a) return { shape: [a, M / a, p], perm: [2, 0, 1] };
  const b = smallFactor(p);
  if (b) return { shape: [M, b, p / b], perm: [1, 2, 0] };
  return null;
}

let replaced = false;

/** Replaces the wasm backend's Transpose by one that runs 2D transposes as rank-3 ones (idempotent). */
export function splitWasmTranspose(): void {
  if (replaced) return;
  const original = tf.getKernel(tf.Transpose, 'wasm');
  if (!original) throw new Error('splitWasmTranspose: the wasm backend is not loaded');
  replaced = true;
  const kernelFunc = (args: KernelArgs): tf.TensorInfo => {
    const x = args.inputs.x as tf.TensorInfo;
    const perm = (args.attrs as { perm: number[] }).perm;
    const split = rank3Transpose(x.shape, perm);
    if (!split) return original.kernelFunc(args) as tf.TensorInfo;
    const out = original.kernelFunc({
      ...args,
      inputs: { x: { ...x, shape: split.shape } },
      attrs: { perm: split.perm },
    }) as tf.TensorInfo;
    return { ...out, shape: perm.map((a) => x.shape[a]) };
  };
  tf.unregisterKernel(tf.Transpose, 'wasm');
  tf.registerKernel({ ...original, kernelFunc });
}
