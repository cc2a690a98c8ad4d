// Run in its own process by backend-wasm-gemm-threads.test.ts (the wasm thread
// count is fixed once the backend starts): starts wasm with 2 threads, waits
// until the helper threads of our matrix product have started, runs products
// across the work threshold (every transpose combination, with and without a
// bias; the caller waiting for the helper, or free to take its rows back)
// and prints one JSON line: per product whether it equals, bit for bit,
// float32 sums in k order from the bias, the jobs it gave helper threads and those they did;
// the tensors left; then ends on its own (the helper workers must not keep
// the process alive).
import * as tf from '#tfjs';
import { initBackend } from '../../src/backend/index.ts';
import {
  gemmThreadJobs,
  gemmThreadsSettled,
  takeBackGemmJobs,
} from '../../src/backend/wasm-gemm-threads.ts';
import { Rng } from '../reference/math.ts';
import { FLAGS, float32InOrder, makeProduct, onWasm } from './backend-wasm-gemm-reference.ts';

const info = await initBackend('wasm', { threads: 2 });
// a condition, not a time: each helper has instantiated its module (or failed to)
while (!gemmThreadsSettled()) await new Promise((resolve) => setTimeout(resolve, 1));

/** [M, N, K]: 2^20 multiply-adds and more split by rows, fewer (or M < 8) do not. */
const SHAPES = JSON.parse(process.argv[2]) as [number, number, number][];
const rng = new Rng(11);
const before = tf.memory().numTensors;
const products = [];
// each product twice: the caller waiting for the helper (which then does its
// rows), and as it runs, taking back rows no helper has claimed yet
for (const takeBack of [false, true])
  for (const shape of SHAPES)
    for (const [ta, tb] of FLAGS)
      for (const withBias of [false, true]) {
        takeBackGemmJobs(takeBack);
        const p = makeProduct(rng, shape, ta, tb, 1, withBias);
        const jobs = gemmThreadJobs();
        const got = onWasm(p);
        const after = gemmThreadJobs();
        const want = float32InOrder(p);
        let differ = 0;
        for (let n = 0; n < want.length; n++) if (got[n] !== want[n]) differ++;
        const posted = after.posted - jobs.posted;
        const byHelpers = after.byHelpers - jobs.byHelpers;
        products.push({ shape, ta, tb, withBias, takeBack, differ, posted, byHelpers });
      }
console.log(
  JSON.stringify({
    adapterInfo: info.adapterInfo,
    products,
    tensorsLeft: tf.memory().numTensors - before,
  }),
);
