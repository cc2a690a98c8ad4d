/**
 * The one way into TensorFlow.js for bundles (page and worker): tfjs-core
 * with every gradient and the chained ops (`x.reshape(…)`) registered, and
 * the plain JavaScript backend as the fallback that is always there. The
 * umbrella `@tensorflow/tfjs` would also pull in layers, converter and data,
 * which we do not use; the webgpu, webgl and wasm backends load when
 * src/backend starts them. Code imports this as `#tfjs` (package.json
 * `imports`); Node takes src/tfjs-node.ts instead.
 */
// tfjs-core first: it registers the environment flags (DEBUG, …) that
// registering a gradient reads; in another order the gradients throw.
import '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import '@tensorflow/tfjs-backend-cpu';

export * from '@tensorflow/tfjs-core';
