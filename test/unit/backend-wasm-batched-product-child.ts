// Run in its own process by backend-wasm-batched-product.test.ts (the wasm
// thread count is fixed once the backend starts): starts wasm with 2 threads
// (the threaded build, its memory shared) and prints one JSON line: the
// adapter, the attention core's output and gradients (attention-core-run.ts:
// the small run, then the large one with every chunk left to the helper
// thread, and the pool's chunks and the helpers' share of them), and the
// tensors left; then ends on its own.
import * as tf from '#tfjs';
import { initBackend } from '../../src/backend/index.ts';
import { poolJobs, poolSettled, steerPool } from '../../src/backend/wasm-threads.ts';
import { attentionCoreRun } from './attention-core-run.ts';

const info = await initBackend('wasm', { threads: 2 });
// the helper joins once started (or failed to)
while (!poolSettled()) await new Promise((resolve) => setTimeout(resolve, 1));
const before = tf.memory().numTensors;
const values = attentionCoreRun();
steerPool({ callerClaims: false });
const jobs = poolJobs();
const large = attentionCoreRun('large');
const after = poolJobs();
steerPool({ callerClaims: true });
console.log(
  JSON.stringify({
    adapterInfo: info.adapterInfo,
    values,
    large,
    chunks: after.chunks - jobs.chunks,
    byHelpers: after.byHelpers - jobs.byHelpers,
    tensorsLeft: tf.memory().numTensors - before,
  }),
);
