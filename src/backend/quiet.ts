// tfjs in Node prints a banner advising @tensorflow/tfjs-node the first time the
// cpu backend holds data. mam-studio uses wasm as its CPU backend on purpose, so
// the advice is noise in the `mam` command's output and in test logs.
import * as tf from '#tfjs';
import { isNode } from './environment.ts';

/** In Node, puts tfjs in production mode, which only silences its console advice. */
export function quietTfjsInNode(): void {
  if (isNode()) tf.enableProdMode();
}
