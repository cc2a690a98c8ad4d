// Run in its own process by backend-wasm-transpose-threads.test.ts (the wasm
// thread count is fixed once the backend starts): starts wasm with 2 threads
// (its heap a shared memory) and prints one JSON line: whether the heap is
// shared, and per shape and perm whether our kernel took it and the bits
// equal the definition's; the tensors left.
import * as tf from '#tfjs';
import { initBackend } from '../../src/backend/index.ts';
import { simdTranspose } from '../../src/backend/wasm-transpose.ts';
import { transposeLoop } from './backend-wasm-transpose-reference.ts';

const info = await initBackend('wasm', { threads: 2 });
const backend = tf.backend() as unknown as {
  wasm: { asm?: { memory?: WebAssembly.Memory }; wasmMemory?: WebAssembly.Memory };
};
const memory = backend.wasm.asm?.memory ?? backend.wasm.wasmMemory;
const CASES = JSON.parse(process.argv[2]) as [number[], number[]][];
const before = tf.memory().numTensors;
const results = CASES.map(([shape, perm]) => {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Int32Array.from({ length: n }, (_, i) => Math.imul(i, 2654435761));
  const x = tf.tensor(data, shape, 'int32');
  const out = simdTranspose({
    inputs: { x },
    attrs: { perm },
    backend: tf.backend(),
  } as unknown as Parameters<tf.KernelFunc>[0]);
  let differ = -1;
  if (out) {
    const y = tf.engine().makeTensorFromTensorInfo(out);
    const got = y.dataSync();
    const want = transposeLoop(data, shape, perm);
    differ = want.filter((v, i) => v !== got[i]).length;
    y.dispose();
  }
  x.dispose();
  return { shape, perm, ours: out !== null, differ };
});
console.log(
  JSON.stringify({
    adapterInfo: info.adapterInfo,
    shared: typeof SharedArrayBuffer !== 'undefined' && memory?.buffer instanceof SharedArrayBuffer,
    results,
    tensorsLeft: tf.memory().numTensors - before,
  }),
);
