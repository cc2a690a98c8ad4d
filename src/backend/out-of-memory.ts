/**
 * Running out of WebAssembly memory, told in words. tfjs-backend-wasm's heap
 * ends at 4 GiB; past it an allocation in JavaScript fails with a RangeError
 * (growing the heap, or a view over it longer than the heap: "Invalid typed
 * array length", e.g. tf.fill([2 ** 30], 1)), one inside a kernel traps
 * ("memory access out of bounds") and the module aborts ("Aborted()"),
 * after which it computes nothing more. None of these
 * says what ran out or what to do, so the forward pass names the node it was
 * in and the training loop the batch and crop.
 */
import * as tf from '#tfjs';

const SIGNS =
  /memory access out of bounds|^Aborted\(|offset is out of bounds|Cannot enlarge memory|Out of memory/i;

/**
 * A typed array over the heap longer than the heap. Only as a RangeError on
 * wasm: elsewhere the same words are a bad length, not memory running out.
 */
const HEAP_VIEW = /^Invalid typed array length/;

/** Whether `e` is the wasm backend running out of its heap. */
export function isWasmOutOfMemory(e: unknown): boolean {
  if (e instanceof OutOfMemoryError) return true;
  if (!(e instanceof Error) || tf.getBackend() !== 'wasm') return false;
  return SIGNS.test(e.message) || (e instanceof RangeError && HEAP_VIEW.test(e.message));
}

/**
 * The wasm heap ran out; `node` is the node whose forward pass was running,
 * if known. `told`: the message is already the user's one line.
 */
export class OutOfMemoryError extends Error {
  constructor(
    message: string,
    readonly node?: string,
    readonly told = false,
  ) {
    super(message);
    this.name = 'OutOfMemoryError';
  }
}

/** The one line for any wasm out-of-memory error (`isWasmOutOfMemory`). */
export function outOfMemoryLine(e: unknown): string {
  if (e instanceof OutOfMemoryError && e.told) return e.message;
  const node = e instanceof OutOfMemoryError ? e.node : undefined;
  return `out of WebAssembly memory (4 GiB)${node ? ` in ${node}` : ''}: try a smaller batch or input`;
}

/** Spatial size in words: `64³` for a cube, else `96×96×64` (`[B, ...spatial, C]` in). */
function cropWords(inShape: readonly number[]): string {
  const spatial = inShape.slice(1, -1);
  if (spatial.length === 3 && spatial.every((d) => d === spatial[0])) return `${spatial[0]}³`;
  if (spatial.length === 2 && spatial[0] === spatial[1]) return `${spatial[0]}²`;
  return spatial.join('×');
}

/** The one line a user gets when a training step runs out of wasm memory. */
export function outOfMemoryMessage(
  where: string | undefined,
  batch: number,
  inShape: readonly number[],
): string {
  const remedy = batch > 1 ? 'try --batch 1 or a smaller crop' : 'try a smaller crop';
  return (
    `out of WebAssembly memory (4 GiB) ${where ? `in ${where}` : 'in the backward pass'}` +
    ` at batch ${batch}, ${cropWords(inShape)}: ${remedy}`
  );
}

/**
 * `e` as the training step's one line (outOfMemoryMessage) when it is the
 * wasm heap running out, else `e` itself: what a step at `batch`, input shape
 * `inShape`, throws.
 */
export function stepOutOfMemory(e: unknown, batch: number, inShape: readonly number[]): unknown {
  if (!isWasmOutOfMemory(e)) return e;
  // the module may be dead now: what is saved stays, nothing more can be read from it
  const node = e instanceof OutOfMemoryError ? e.node : undefined;
  return new OutOfMemoryError(outOfMemoryMessage(node, batch, inShape), node, true);
}
