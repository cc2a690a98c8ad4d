/** Test glue: running a test file on the wasm backend as training does. */
import * as tf from '#tfjs';
import { afterAll, beforeAll } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { installFastMatMulGradient } from '../../src/train/matmul-grad.ts';

/**
 * Runs the file's tests on wasm with the product gradient the training loop
 * installs, and puts the cpu backend back after them.
 */
export function onWasmAsTraining(): void {
  beforeAll(async () => {
    const info = await initBackend('wasm');
    if (info.name !== 'wasm') throw new Error(info.message);
    installFastMatMulGradient();
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });
}
