/**
 * `#tfjs` in Node. tfjs-core registers its gradients and chained ops only
 * from its ES module files, which Node cannot load (extensionless imports);
 * the umbrella package's Node build carries them, so Node uses it. Its size
 * does not matter here; bundles take src/tfjs.ts.
 */
// eslint-disable-next-line no-restricted-imports
export * from '@tensorflow/tfjs';
