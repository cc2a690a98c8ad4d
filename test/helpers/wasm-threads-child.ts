// Run in its own process by test/unit/backend-wasm-threads.test.ts (the wasm
// thread count is fixed once the backend starts): starts wasm with the
// threads given as argv[2], prints one JSON line with what started and the
// matMul error against a float64 loop (a small product, and one large enough
// to run on every thread), the fused GELU's kernels and error against float64,
// the threads the backend's pool has between kernels
// and inside onAllThreads, and then ends on its own (its pthread workers must
// not keep the process alive).
import { initBackend } from '../../src/backend/index.ts';
import * as tf from '#tfjs';
import { onAllThreads, POOL_MIN_WORK } from '../../src/backend/wasm-pool.ts';
import { maxMatMulError } from './matmul-reference.ts';
import { gelu } from '../../src/ops/index.ts';
import { gelu as gelu64 } from '../reference/math.ts';

const info = await initBackend('wasm', { threads: Number(process.argv[2]) });
const wasm = (tf.backend() as unknown as { wasm: { tfjs: { getThreadsCount(): number } } }).wasm;
const big: [number, number, number] = [211, 149, 157];

/** The fused GELU (its SIMD module on this build's memory, shared when threaded): kernels and error. */
async function geluCheck() {
  const xs = Array.from({ length: 1024 }, (_, i) => -8 + i / 64);
  const x = tf.tensor1d(xs);
  const prof = await tf.profile(() => gelu(x));
  const y = (prof.result as tf.Tensor).dataSync();
  tf.dispose([prof.result as tf.Tensor, x]);
  const error = Math.max(
    ...xs.map((v, i) => Math.abs(y[i] - gelu64(v)) / Math.max(1, Math.abs(v))),
  );
  return { kernels: prof.kernels.map((k) => k.name).filter((n) => n.startsWith('Mam')), error };
}
if (big[0] * big[1] * big[2] < POOL_MIN_WORK) throw new Error('the large product is too small');
console.log(
  JSON.stringify({
    name: info.name,
    adapterInfo: info.adapterInfo,
    error: await maxMatMulError(),
    bigError: await maxMatMulError(big),
    idleThreads: wasm.tfjs.getThreadsCount(),
    poolThreads: onAllThreads(() => wasm.tfjs.getThreadsCount()),
    gelu: await geluCheck(),
  }),
);
