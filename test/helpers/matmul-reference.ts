// A matMul check shared by the Node and the in-browser backend tests: tfjs's
// float32 product against a float64 product computed with plain loops.
import * as tf from '#tfjs';

/** Deterministic values in [-1, 1) from a linear congruential sequence. */
export function matrix(rows: number, cols: number, seed: number): number[][] {
  let s = seed;
  return Array.from({ length: rows }, () =>
    Array.from({ length: cols }, () => {
      s = (s * 1103515245 + 12345) % 2147483648;
      return (s / 2147483648) * 2 - 1;
    }),
  );
}

/** The reference product, in float64, row-major. */
export function matMulF64(a: number[][], b: number[][]): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < b[0].length; j++) {
      let sum = 0;
      for (let k = 0; k < b.length; k++) sum += a[i][k] * b[k][j];
      out.push(sum);
    }
  }
  return out;
}

/** The largest absolute difference between tfjs's matMul on the active backend and the reference. */
export async function maxMatMulError([m, k, n] = [17, 23, 9]): Promise<number> {
  // Odd sizes so that no backend's tiling divides them evenly.
  const a = matrix(m, k, 1);
  const b = matrix(k, n, 2);
  const expected = matMulF64(a, b);
  const product = tf.tidy(() => tf.matMul(tf.tensor2d(a), tf.tensor2d(b)));
  const values = await product.data();
  product.dispose();
  if (values.length !== expected.length) throw new Error(`got ${values.length} values`);
  return Math.max(...expected.map((e, i) => Math.abs(e - values[i])));
}
