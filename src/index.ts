/**
 * `mam-studio`: the headless library. Graph documents (load, save, analyse,
 * edit, convert), the node catalogue, sharing (links, PNG), the compiler and
 * weights, and backend selection; the same code runs in a page, a worker and
 * Node. The Rete editor plugin is `mam-studio/rete`.
 */
export * from './graph/index.ts';
export * from '../nodes/index.ts';
export * from './share/index.ts';
export * from './compile/index.ts';
export * from './backend/index.ts';
