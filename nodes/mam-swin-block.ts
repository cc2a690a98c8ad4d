import type { NodeKind } from '../src/graph/node-kind.ts';
import {
  blockParams,
  headsParam,
  inferBlock,
  memoryLayoutParam,
  memoryPorts,
  windowParams,
} from './shared/transformer.ts';

export const mamSwinBlock: NodeKind = {
  type: 'mam-swin-block',
  title: 'Memory-attention unit (window)',
  category: 'attention',
  role: 'memory-unit',
  description:
    'Swin block with memory-attention: adds the memory (accumulated queries of earlier units) to its query and passes q̂ on. Same weights as the Swin block.',
  params: [headsParam, ...windowParams, ...blockParams, memoryLayoutParam],
  ...memoryPorts,
  swapWith: 'swin-block',
  infer: (ctx) => inferBlock(ctx, 'window', true),
};
