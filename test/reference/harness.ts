/**
 * Test glue between the float64 reference and tfjs (not part of the
 * reference itself): random parameters in both forms, conversions, and a
 * checker for forward values and gradients (tf.grads against either an
 * analytic reference gradient or float64 central differences).
 */
import * as tf from '#tfjs';
import type { BlockWeights } from '../../src/ops/index.ts';
import type { RefBlock } from './attention.ts';
import { relErr, Rng, type F64 } from './math.ts';

export const tensor = (data: F64, shape: number[]): tf.Tensor =>
  tf.tensor(Float32Array.from(data), shape, 'float32');
export const values = (t: tf.Tensor): F64 => Float64Array.from(t.dataSync());

/** Measured errors, printed at the end of a test file for the report. */
export const measured: Record<string, number> = {};
export function record(name: string, err: number): number {
  measured[name] = Math.max(measured[name] ?? 0, err);
  return err;
}
export function printMeasured(title: string): void {
  const lines = Object.entries(measured).map(([k, v]) => `  ${k}: ${v.toExponential(2)}`);
  console.log(`${title} (max error relative to max|ref|)\n${lines.join('\n')}`);
}

export interface BlockParams {
  ref: RefBlock;
  /** tensors in the order of {@link blockFromList} */
  list: tf.Tensor[];
}

/** Random Swin/ViT block parameters; table rows (2w−1)² (omit with w = 0). */
export function randomBlock(
  rng: Rng,
  C: number,
  heads: number,
  w: number,
  hidden = 4 * C,
): BlockParams {
  const T = w > 0 ? (2 * w - 1) ** 2 : 0;
  const ref: RefBlock = {
    C,
    hidden,
    n1w: rng.array(C, 0.2, 1),
    n1b: rng.array(C, 0.2),
    attn: {
      C,
      heads,
      qkvW: rng.array(C * 3 * C, 0.5),
      qkvB: rng.array(3 * C, 0.2),
      projW: rng.array(C * C, 0.4),
      projB: rng.array(C, 0.2),
      table: T ? rng.array(T * heads, 0.5) : null,
    },
    n2w: rng.array(C, 0.2, 1),
    n2b: rng.array(C, 0.2),
    fc1W: rng.array(C * hidden, 0.4),
    fc1B: rng.array(hidden, 0.2),
    fc2W: rng.array(hidden * C, 0.3),
    fc2B: rng.array(C, 0.2),
  };
  const a = ref.attn;
  const list = [
    tensor(ref.n1w, [C]),
    tensor(ref.n1b, [C]),
    tensor(a.qkvW, [C, 3 * C]),
    tensor(a.qkvB, [3 * C]),
    tensor(a.projW, [C, C]),
    tensor(a.projB, [C]),
    a.table ? tensor(a.table, [T, heads]) : tf.zeros([1, heads]),
    tensor(ref.n2w, [C]),
    tensor(ref.n2b, [C]),
    tensor(ref.fc1W, [C, hidden]),
    tensor(ref.fc1B, [hidden]),
    tensor(ref.fc2W, [hidden, C]),
    tensor(ref.fc2B, [C]),
  ];
  return { ref, list };
}

/** BlockWeights from the 13 tensors of {@link randomBlock} (table used when `withTable`). */
export function blockFromList(l: tf.Tensor[], withTable: boolean): BlockWeights {
  return {
    norm1: { weight: l[0] as tf.Tensor1D, bias: l[1] as tf.Tensor1D },
    attn: {
      qkv: { weight: l[2] as tf.Tensor2D, bias: l[3] as tf.Tensor1D },
      proj: { weight: l[4] as tf.Tensor2D, bias: l[5] as tf.Tensor1D },
      relTable: withTable ? (l[6] as tf.Tensor2D) : undefined,
    },
    norm2: { weight: l[7] as tf.Tensor1D, bias: l[8] as tf.Tensor1D },
    mlp: {
      fc1: { weight: l[9] as tf.Tensor2D, bias: l[10] as tf.Tensor1D },
      fc2: { weight: l[11] as tf.Tensor2D, bias: l[12] as tf.Tensor1D },
    },
  };
}

export interface OpInput {
  data: F64;
  shape: number[];
}

/**
 * Compares a tfjs op with a float64 reference: forward (relative to max|ref|)
 * and tf.grads of Σ out·g against float64 central differences of Σ ref·g,
 * for every entry of every input. Returns the worst errors.
 */
export function checkOp(
  inputs: OpInput[],
  tfFn: (...ts: tf.Tensor[]) => tf.Tensor,
  refFn: (...xs: F64[]) => F64,
  seed = 7,
): { forward: number; grad: number } {
  const rng = new Rng(seed);
  const ts = inputs.map((i) => tensor(i.data, i.shape));
  const ref = refFn(...inputs.map((i) => i.data));
  const out = tfFn(...ts);
  const forward = relErr(values(out), ref);
  const g = rng.array(ref.length);
  const gT = tensor(g, out.shape);
  out.dispose();
  const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(tfFn(...xs), gT)))(ts);
  const loss = (xs: F64[]): number => {
    const y = refFn(...xs);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * g[i];
    return s;
  };
  let grad = 0;
  inputs.forEach((inp, k) => {
    const xs = inputs.map((i) => Float64Array.from(i.data));
    const fd = new Float64Array(inp.data.length);
    const eps = 1e-6;
    for (let e = 0; e < fd.length; e++) {
      const x0 = xs[k][e];
      xs[k][e] = x0 + eps;
      const lp = loss(xs);
      xs[k][e] = x0 - eps;
      const lm = loss(xs);
      xs[k][e] = x0;
      fd[e] = (lp - lm) / (2 * eps);
    }
    grad = Math.max(grad, relErr(values(grads[k]), fd));
  });
  tf.dispose([...ts, gT, ...grads]);
  return { forward, grad };
}
