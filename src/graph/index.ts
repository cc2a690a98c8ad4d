export * from './types.ts';
export * from './node-kind.ts';
export { loadGraph, type LoadResult } from './load.ts';
export { saveGraph } from './save.ts';
export {
  analyzeGraph,
  type Analysis,
  type MemoryChain,
  type NodeInfo,
  type PortShape,
} from './infer.ts';
export { validateDoc, validateParams } from './validate.ts';
export { GraphBuilder } from './builder.ts';
export { presets, swinUnet, vitUnetMamSts } from './presets.ts';
export { applyCommand, DocumentStore, type Command } from './commands.ts';
export { swapNodeKind } from './swap.ts';
export { convertToMam, convertToSam, findStages, type ConvertScope } from './convert.ts';
export { autoArrange, nodeSize, placeInFreeSpace } from './layout.ts';
export { canConnect, canSwapTo, dropDecision, type DropDecision, type Verdict } from './rules.ts';
export { centrePosition, dropPosition, freshId, newNode, pointPosition } from './new-node.ts';
