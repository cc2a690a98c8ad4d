/** The tensor math layer: pure functions on tfjs tensors (no graph, no DOM). */
export * from './layers.ts';
export * from './windows.ts';
export * from './attention.ts';
export * from './blocks.ts';
export * from './resample.ts';
export * from './conv.ts';
export * from './norm.ts';
export * from './dual-attention.ts';
export * from './transunet.ts';
export * from './batched-product.ts';
