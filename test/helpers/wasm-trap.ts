/**
 * A real trap in tfjs-backend-wasm's BackendWasm.move, as a full-size
 * SwinUNETR step met it: 1 GiB tensors made one after another past the 4 GiB
 * heap. Seen here: three fit, the fourth's copy lands past the heap
 * (RangeError "offset is out of bounds": malloc failed), the fifth "fits"
 * over the bad block and the sixth traps ("RuntimeError: memory access out of
 * bounds"). The heap may be damaged after it: a test that calls this is the
 * last of its file (each file is a process of its own).
 */
import * as tf from '#tfjs';

/** Throws the first WebAssembly.RuntimeError that making 1 GiB tensors raises (the tensors made go with the tidy). */
export function trapInMove(): never {
  const gib = new Float32Array(2 ** 28);
  let trap: unknown;
  tf.tidy(() => {
    for (let i = 0; i < 12 && trap === undefined; i++) {
      try {
        tf.tensor(gib, [2 ** 28]);
      } catch (e) {
        if (e instanceof WebAssembly.RuntimeError) trap = e;
      }
    }
  });
  throw trap ?? new Error('twelve 1 GiB tensors and no trap: the heap is not 4 GiB?');
}
