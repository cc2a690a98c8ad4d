// Run in its own process by test/unit/backend-wasm-threads.test.ts (the wasm
// thread count is fixed once the backend starts): starts wasm with the
// threads given as argv[2], prints one JSON line with what started and the
// matMul error against a float64 loop, and then ends on its own (its pthread
// workers must not keep the process alive).
import { initBackend } from '../../src/backend/index.ts';
import { maxMatMulError } from './matmul-reference.ts';

const info = await initBackend('wasm', { threads: Number(process.argv[2]) });
console.log(
  JSON.stringify({ name: info.name, adapterInfo: info.adapterInfo, error: await maxMatMulError() }),
);
