// tfjs saves every tensor a gradient needs through an Identity kernel (the
// engine's clone, for each kernel on the tape and each tf.customGrad save).
// The wasm backend's Identity copies the whole buffer, so a training step
// copied every saved activation once more (~1,000 copies per demo step, and
// as many bytes again at the peak). tfjs tensors are immutable, so the copy
// can share its input's memory instead, as the cpu and webgpu backends do
// (and as wasm's own Reshape does): one more reference to the same buffer.
import * as tf from '#tfjs';

interface RefCountingBackend {
  incRef(dataId: tf.DataId): void;
}

function sharedIdentity(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  (args.backend as RefCountingBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

let shared = false;

/** Replaces the wasm backend's copying Identity kernel by one that shares (idempotent). */
export function shareWasmIdentity(): void {
  if (shared) return;
  shared = true;
  tf.unregisterKernel(tf.Identity, 'wasm');
  tf.registerKernel({ kernelName: tf.Identity, backendName: 'wasm', kernelFunc: sharedIdentity });
}
