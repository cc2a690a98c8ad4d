// Run in its own process by backend-wasm-gemm-threads.test.ts (the wasm thread
// count is fixed once the backend starts): starts wasm with argv[2] threads,
// waits until the pool's helper threads have started, runs our SIMD kernels
// (products across the work threshold, every transpose combination, with and
// without a bias; GELU both ways; LayerNorm both ways; AdamW) on jobs of one
// chunk and of many, in three ways: as they run, with the helpers held off
// (the caller claims every chunk), and with the caller claiming none (the
// helpers run every chunk); prints one JSON line: per run a digest of the
// outputs' bytes, the jobs and chunks it gave the pool and those helpers ran,
// and its error against an independent reference; the tensors left; the
// error a helper's failing chunk (out of the heap's bounds) raises; then
// ends on its own (the helper workers must not keep the process alive).
import { createHash } from 'node:crypto';
import * as tf from '#tfjs';
import { initBackend } from '../../src/backend/index.ts';
import { ADAMW, optimizerInputs } from '../../src/backend/wasm-adamw.ts';
import { adamwScalar, type AdamWScalars } from '../../src/backend/wasm-adamw-simd.ts';
import { GELU, GELU_GRAD } from '../../src/backend/wasm-gelu.ts';
import { LAYER_NORM, LAYER_NORM_GRAD } from '../../src/backend/wasm-layer-norm.ts';
import {
  elementwiseJob,
  memoryOf,
  poolJobs,
  poolSettled,
  runJob,
  steerPool,
} from '../../src/backend/wasm-threads.ts';
import type { WasmHeapBackend } from '../../src/backend/wasm-simd-asm.ts';
import { layerNormBackward } from '../reference/attention.ts';
import { geluErrors, layerNormRows, Rng, type F64 } from '../reference/math.ts';
import { FLAGS, float32InOrder, makeProduct, onWasm } from './backend-wasm-gemm-reference.ts';

const threads = Number(process.argv[2]);
const info = await initBackend('wasm', { threads });
// a condition, not a time: each helper has instantiated its modules (or failed to)
while (!poolSettled()) await new Promise((resolve) => setTimeout(resolve, 1));

/** [M, N, K] of the products. */
const SHAPES = JSON.parse(process.argv[3]) as [number, number, number][];
/** Float counts of the GELU runs, and [M, C] of the LayerNorm runs. */
const {
  gelu: GELU_SIZES,
  layerNorm: ROWS,
  adamw: ADAMW_SIZES,
} = JSON.parse(process.argv[4]) as {
  gelu: number[];
  layerNorm: [number, number][];
  adamw: number[];
};

const run = (...ts: tf.Tensor[]) => ts.map((t) => t.dataSync() as Float32Array);
const digest = (outs: Float32Array[]) => {
  const h = createHash('sha256');
  for (const o of outs) h.update(new Uint8Array(o.buffer, o.byteOffset, o.byteLength));
  return h.digest('hex');
};
/** Worst |got − want| / (|want| + floor). */
const worst = (got: Float32Array, want: ArrayLike<number>, floor: number) => {
  let e = 0;
  for (let i = 0; i < got.length; i++)
    e = Math.max(e, Math.abs(got[i] - want[i]) / (Math.abs(want[i]) + floor));
  return e;
};
const f32 = (a: F64) => Float32Array.from(a);

/** A kernel run: its outputs, and its error against a reference (0: bit-equal wanted). */
type Case = { name: string; outs: () => Float32Array[]; error: (outs: Float32Array[]) => number };
const cases: Case[] = [];
const rng = new Rng(11);

for (const shape of SHAPES)
  for (const [ta, tb] of FLAGS)
    for (const withBias of [false, true]) {
      const p = makeProduct(rng, shape, ta, tb, 1, withBias);
      cases.push({
        name: `gemm ${shape} ${ta} ${tb} ${withBias}`,
        outs: () => [onWasm(p)],
        // float32 sums in k order from the bias, bit for bit
        error: ([c]) => {
          const want = float32InOrder(p);
          return want.reduce((n, w, i) => n + (c[i] !== w ? 1 : 0), 0);
        },
      });
    }

for (const n of GELU_SIZES) {
  const x = f32(rng.array(n, 3));
  const dy = f32(rng.array(n).map((v) => 1 + Math.abs(v)));
  cases.push({
    name: `gelu ${n}`,
    outs: () =>
      tf.tidy(() => {
        const [xt, dyt] = [tf.tensor1d(x), tf.tensor1d(dy)];
        const e = tf.engine();
        return run(
          e.runKernel(GELU, { x: xt }) as tf.Tensor,
          e.runKernel(GELU_GRAD, { dy: dyt, x: xt }) as tf.Tensor,
        );
      }),
    // the float64 GELU, relative to max(1, |x|) (and to dy)
    error: ([y, dx]) => {
      const e = geluErrors(Array.from(x), y, dx, (i) => dy[i]);
      return Math.max(e.worstY, e.worstG);
    },
  });
}

for (const [M, C] of ROWS) {
  const [x, gamma, beta, dy] = [
    rng.array(M * C, 2, 0.5),
    rng.array(C, 1, 1),
    rng.array(C),
    rng.array(M * C),
  ];
  cases.push({
    name: `layerNorm ${M}×${C}`,
    outs: () =>
      tf.tidy(() => {
        const [xt, g, b, d] = [
          tf.tensor2d(f32(x), [M, C]),
          tf.tensor1d(f32(gamma)),
          tf.tensor1d(f32(beta)),
          tf.tensor2d(f32(dy), [M, C]),
        ];
        const e = tf.engine();
        const y = e.runKernel(LAYER_NORM, { x: xt, gamma: g, beta: b }, { eps: 1e-5 }) as tf.Tensor;
        const grads = e.runKernel(
          LAYER_NORM_GRAD,
          { dy: d, x: xt, gamma: g },
          { eps: 1e-5 },
        ) as tf.Tensor[];
        return run(y, ...grads);
      }),
    // float64 loops; dγ and dβ are sums over M rows: relative to the sums of |terms|
    error: ([y, dx, dg, db]) => {
      const xs = Float64Array.from(f32(x));
      const [gs, bs, ds] = [gamma, beta, dy].map((a) => Float64Array.from(f32(a)));
      const want = layerNormBackward(xs, M, C, gs, ds);
      const scale = new Float64Array(C);
      for (let i = 0; i < M * C; i++) scale[i % C] += Math.abs(ds[i]) * 4;
      let e = Math.max(worst(y, layerNormRows(xs, M, C, gs, bs), 1), worst(dx, want.dx, 1));
      for (let c = 0; c < C; c++)
        e = Math.max(
          e,
          Math.abs(dg[c] - want.dg[c]) / scale[c],
          Math.abs(db[c] - want.db[c]) / scale[c],
        );
      return e;
    },
  });
}

for (const n of ADAMW_SIZES) {
  // two weights: n floats, and 7 (a tail of 3 beyond SIMD's multiple of 4)
  const sizes = [n, 7];
  const [w, g] = [0, 1].map(() => sizes.map((k) => f32(rng.array(k))));
  const [m, v] = [f32(rng.array(n + 7, 0.1)), f32(rng.array(n + 7, 0.01).map(Math.abs))];
  const scalars: AdamWScalars = [0.9999, 0.9, 0.1, 0.999, 0.001, 0.05, 1e-8, 0.01];
  cases.push({
    name: `adamw ${n}`,
    outs: () =>
      tf.tidy(() => {
        const inputs = optimizerInputs(
          w.map((a) => tf.tensor1d(a)),
          g.map((a) => tf.tensor1d(a)),
          { m: tf.tensor1d(m), v: tf.tensor1d(v) },
        );
        return run(
          ...(tf.engine().runKernel(ADAMW, inputs, { offsets: [0, n], scalars }) as tf.Tensor[]),
        );
      }),
    // the JavaScript float32 loop, bit for bit
    error: (outs) => {
      const [mo, vo] = [new Float32Array(n + 7), new Float32Array(n + 7)];
      let differ = 0;
      sizes.forEach((k, i) => {
        const wo = new Float32Array(k);
        adamwScalar({ w: w[i], g: g[i], wo, m, v, mo, vo }, i ? n : 0, 0, k, scalars);
        differ += wo.reduce((s, x, j) => s + (x !== outs[i][j] ? 1 : 0), 0);
      });
      return differ + worst(outs[2], mo, 0) + worst(outs[3], vo, 0);
    },
  });
}

const before = tf.memory().numTensors;
const runs = [];
const WAYS = {
  'as it runs': {},
  'helpers held off': { hold: true },
  'caller claims none': { callerClaims: false },
};
for (const [way, steer] of Object.entries(WAYS))
  for (const c of cases) {
    steerPool({ hold: false, callerClaims: true, ...steer });
    const jobs = poolJobs();
    const outs = c.outs();
    const after = poolJobs();
    runs.push({
      name: c.name,
      way,
      digest: digest(outs),
      // the reference once per case: the other ways must give the same bytes
      error: way === 'as it runs' ? c.error(outs) : null,
      posted: after.posted - jobs.posted,
      chunks: after.chunks - jobs.chunks,
      byHelpers: after.byHelpers - jobs.byHelpers,
    });
  }
// a helper's chunk out of the heap's bounds: the caller gets a clear error
let helperFailure = '';
steerPool({ hold: false, callerClaims: false });
const backend = tf.backend() as unknown as WasmHeapBackend;
const end = memoryOf(backend).buffer.byteLength;
try {
  runJob(backend, elementwiseJob('gelu.forward', [end, end], 1 << 17), () => {
    throw new Error('the caller claimed a chunk');
  });
} catch (e) {
  helperFailure = (e as Error).message;
}
steerPool({ hold: false, callerClaims: true });
console.log(
  JSON.stringify({
    adapterInfo: info.adapterInfo,
    runs,
    tensorsLeft: tf.memory().numTensors - before,
    helperFailure,
  }),
);
