/**
 * Running out of WebAssembly memory, told in words. tfjs-backend-wasm's heap
 * ends at 4 GiB; past it an allocation in JavaScript fails with a RangeError
 * (growing the heap, or a view over it longer than the heap: "Invalid typed
 * array length", e.g. tf.fill([2 ** 30], 1)), one inside a kernel traps
 * ("memory access out of bounds") and the module aborts ("Aborted()"),
 * after which it computes nothing more. A failed malloc can also return 0
 * without a word: the tensor's bytes then land over the heap's start, and a
 * later call traps ("memory access out of bounds", e.g. in BackendWasm.move).
 * None of these says what ran out or what to do, so the forward pass names
 * the node it was in and the training loop the phase, batch and crop; after a
 * trap or an abort the host says to start afresh (`damaged`).
 */
import * as tf from '#tfjs';

const SIGNS =
  /memory access out of bounds|^Aborted\(|offset is out of bounds|Cannot enlarge memory|Out of memory/i;

/**
 * A typed array over the heap longer than the heap. Only as a RangeError on
 * wasm: elsewhere the same words are a bad length, not memory running out.
 */
const HEAP_VIEW = /^Invalid typed array length/;

/** A trap or abort inside the module: its heap may be damaged, so nothing after it is to be trusted. */
const DAMAGE = /memory access out of bounds|^Aborted\(/i;

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
    /** The module trapped or aborted: its heap may be damaged, the host must start afresh. */
    readonly damaged = false,
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

/** Whether `e` (a wasm out-of-memory error) left the module's heap possibly damaged. */
export function wasmDamaged(e: unknown): boolean {
  if (e instanceof OutOfMemoryError) return e.damaged;
  return e instanceof Error && DAMAGE.test(e.message);
}

/**
 * What the user does after a damaging out-of-memory error, in a host's words
 * (`restart`: e.g. 'mam stops here; run it again'), appended to its line; the
 * line as it is otherwise.
 */
export function withRestart(e: unknown, line: string, restart: string): string {
  return wasmDamaged(e) ? `${line} (WebAssembly's heap may be damaged: ${restart})` : line;
}

/**
 * The one line for a process that exits after it (`who`: 'mam', 'the
 * benchmark'): a damaged heap goes with the process, so the user runs it again.
 */
export function exitLine(e: unknown, who: string): string {
  return withRestart(e, outOfMemoryLine(e), `${who} stops here; run it again`);
}

/** Spatial size in words: `64³` for a cube, else `96×96×64` (`[B, ...spatial, C]` in). */
function cropWords(inShape: readonly number[]): string {
  const spatial = inShape.slice(1, -1);
  if (spatial.length === 3 && spatial.every((d) => d === spatial[0])) return `${spatial[0]}³`;
  if (spatial.length === 2 && spatial[0] === spatial[1]) return `${spatial[0]}²`;
  return spatial.join('×');
}

/**
 * Where in a training step memory ran out when no node's forward pass was
 * running: the loss and gradients, the optimizer's update, or validation
 * (its sliding windows; a node named there is said as `in <node> during validation`).
 */
export type StepPhase = 'backward' | 'optimizer' | 'validation';

const PHASE_WORDS: Record<StepPhase, string> = {
  backward: 'in the backward pass',
  optimizer: 'in the optimizer step',
  validation: 'during validation',
};

/**
 * The one line a user gets when a training step runs out of wasm memory:
 * in `node` if known, in `phase` otherwise (validation is said either way).
 */
export function outOfMemoryMessage(
  node: string | undefined,
  batch: number,
  inShape: readonly number[],
  phase: StepPhase = 'backward',
): string {
  const where =
    phase === 'validation'
      ? `${node ? `in ${node} ` : ''}${PHASE_WORDS.validation}`
      : node
        ? `in ${node}`
        : PHASE_WORDS[phase];
  // validation's window batch is the graph's (training.slidingWindow.validation), not the run's batch;
  // 'batch 1' in words both hosts use: mam's --batch, the editor's Batch field
  const remedy =
    batch > 1 && phase !== 'validation' ? 'try batch 1 or a smaller crop' : 'try a smaller crop';
  const at = phase === 'validation' ? 'window batch' : 'batch';
  return `out of WebAssembly memory (4 GiB) ${where} at ${at} ${batch}, ${cropWords(inShape)}: ${remedy}`;
}

/**
 * `e` as the training step's one line (outOfMemoryMessage) when it is the
 * wasm heap running out, else `e` itself: what a step at `batch`, input shape
 * `inShape`, throws in `phase` (when no node's forward pass names itself).
 */
export function stepOutOfMemory(
  e: unknown,
  batch: number,
  inShape: readonly number[],
  phase: StepPhase = 'backward',
): unknown {
  if (!isWasmOutOfMemory(e)) return e;
  if (e instanceof OutOfMemoryError && e.told) return e;
  // the module may be dead now: what is saved stays, nothing more can be read from it
  const node = e instanceof OutOfMemoryError ? e.node : undefined;
  const message = outOfMemoryMessage(node, batch, inShape, phase);
  return new OutOfMemoryError(message, node, true, wasmDamaged(e));
}
