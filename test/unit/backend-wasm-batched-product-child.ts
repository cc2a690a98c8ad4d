// Run in its own process by backend-wasm-batched-product.test.ts (the wasm
// thread count is fixed once the backend starts): starts wasm with 2 threads
// (the threaded build, its memory shared) and prints one JSON line: the
// adapter, the attention core's output and gradients (attention-core-run.ts)
// and the tensors left; then ends on its own.
import * as tf from '#tfjs';
import { initBackend } from '../../src/backend/index.ts';
import { attentionCoreRun } from './attention-core-run.ts';

const info = await initBackend('wasm', { threads: 2 });
const before = tf.memory().numTensors;
const values = attentionCoreRun();
console.log(
  JSON.stringify({
    adapterInfo: info.adapterInfo,
    values,
    tensorsLeft: tf.memory().numTensors - before,
  }),
);
