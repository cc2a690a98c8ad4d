import type { NodeKind } from '../src/graph/node-kind.ts';
import {
  blockParams,
  headsParam,
  inferBlock,
  memoryLayoutParam,
  memoryPorts,
} from './shared/transformer.ts';

export const mamVitBlock: NodeKind = {
  type: 'mam-vit-block',
  title: 'Memory-attention unit (global)',
  category: 'attention',
  role: 'memory-unit',
  description:
    'ViT block with memory-attention over all tokens. With global attention both memory layouts are token order.',
  params: [{ ...headsParam, default: 6 }, ...blockParams, memoryLayoutParam],
  ...memoryPorts,
  swapWith: 'vit-block',
  infer: (ctx) => inferBlock(ctx, 'global', true),
};
