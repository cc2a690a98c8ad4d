/**
 * tf.profile that lets a kernel's own error through. tfjs's profiler runs each
 * kernel inside the backend's timer, `backend.time(f)`, which on wasm, cpu and
 * webgl is an async function: a kernel that throws there (the wasm heap
 * running out, say) becomes a rejected timer promise nobody awaits, the
 * profiler goes on with no outputs and throws "Cannot read properties of
 * undefined (reading 'map')" instead, and the engine stays in profiling mode
 * for every kernel after. Here the kernel's error is thrown as it is (so the
 * forward pass names its node and `isWasmOutOfMemory` knows it), and
 * profiling ends however the query ends.
 */
import * as tf from '#tfjs';

interface Timer {
  time(f: () => void): Promise<unknown>;
}

/** `tf.profile(query)`, a failing kernel's error thrown as it is. */
export async function profile(
  query: () => Promise<tf.TensorContainer>,
): ReturnType<typeof tf.profile> {
  const backend = tf.backend() as unknown as Timer;
  const own = Object.prototype.hasOwnProperty.call(backend, 'time');
  const time = backend.time;
  backend.time = (f) => {
    let failed = false;
    let error: unknown;
    const timed = time.call(backend, () => {
      try {
        f();
      } catch (e) {
        failed = true;
        error = e;
        throw e;
      }
    });
    // The timers run f before their first await: its error is known here.
    if (!failed) return timed;
    timed.catch(() => {}); // the same error, thrown below
    throw error;
  };
  try {
    return await tf.profile(query);
  } finally {
    // tf.profile turns profiling off only when the query returns.
    (tf.engine() as unknown as { state: { profiling: boolean } }).state.profiling = false;
    if (own) backend.time = time;
    else delete (backend as Partial<Timer>).time;
  }
}
