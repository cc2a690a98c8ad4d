/**
 * The bytes of tensor data a backend really holds, counted per buffer.
 * tf.memory().numBytes counts every tensor, so a reshape or a tensor the
 * gradient tape keeps by reference counts its buffer again; what runs out
 * (wasm's 4 GiB heap) is the buffers. For benchmarks and tests of memory.
 */
import * as tf from '#tfjs';

interface MeteredBackend {
  write(values: unknown, shape: number[], dtype: tf.DataType): object;
  move(dataId: object, values: unknown, shape: number[], dtype: tf.DataType, rc: number): void;
  disposeData(dataId: object, force?: boolean): boolean;
  refCount(dataId: object): number;
}

export interface BufferMeter {
  /** Bytes of the buffers alive now that were made since the meter started. */
  readonly live: number;
  /** The most `live` has been. */
  readonly peak: number;
  /** Sets the peak to what is alive now. */
  resetPeak(): void;
  stop(): void;
}

const bytesOf = (shape: number[], dtype: tf.DataType) =>
  dtype === 'string' ? 0 : tf.util.sizeFromShape(shape) * tf.util.bytesPerElement(dtype);

/** Counts the buffers the current backend allocates and frees until `stop()`. */
export function meterBuffers(): BufferMeter {
  const b = tf.backend() as unknown as MeteredBackend;
  const { write, move, disposeData } = b;
  const sizes = new Map<object, number>();
  let live = 0;
  let peak = 0;
  const add = (dataId: object, n: number) => {
    if (sizes.has(dataId)) return;
    sizes.set(dataId, n);
    live += n;
    peak = Math.max(peak, live);
  };
  b.write = function (values, shape, dtype) {
    const id = write.call(this, values, shape, dtype);
    add(id, bytesOf(shape, dtype));
    return id;
  };
  b.move = function (dataId, values, shape, dtype, rc) {
    move.call(this, dataId, values, shape, dtype, rc);
    add(dataId, bytesOf(shape, dtype));
  };
  b.disposeData = function (dataId, force) {
    const r = disposeData.call(this, dataId, force);
    const n = sizes.get(dataId);
    if (n !== undefined && this.refCount(dataId) === 0) {
      sizes.delete(dataId);
      live -= n;
    }
    return r;
  };
  return {
    get live() {
      return live;
    },
    get peak() {
      return peak;
    },
    resetPeak: () => void (peak = live),
    stop: () => {
      b.write = write;
      b.move = move;
      b.disposeData = disposeData;
    },
  };
}
