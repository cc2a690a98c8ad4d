import type { NodeKind } from '../src/graph/node-kind.ts';
import { headsParam, memoryLayoutParam, memoryPorts } from './shared/transformer.ts';
import { inferTransUnetBlock, transUnetParams } from './shared/transunet.ts';

export const mamTransUnetBlock: NodeKind = {
  type: 'mam-transunet-block',
  title: 'Memory-attention unit, TransUNet',
  category: 'attention',
  role: 'memory-unit',
  description:
    "TransUNet's ViT block with memory-attention (RecA-S): q̂ = q + m_in on the full-width query before the head split and the 1/√d scaling, m_out = q̂. With global attention both memory layouts are token order.",
  params: [{ ...headsParam, default: 12 }, ...transUnetParams, memoryLayoutParam],
  ...memoryPorts,
  swapWith: 'transunet-block',
  infer: (ctx) => inferTransUnetBlock(ctx, true),
};
