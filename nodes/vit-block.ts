import type { NodeKind } from '../src/graph/node-kind.ts';
import { blockParams, headsParam, inferBlock, tokenPorts } from './shared/transformer.ts';

export const vitBlock: NodeKind = {
  type: 'vit-block',
  title: 'ViT block (SAM)',
  category: 'attention',
  role: 'attention',
  description: 'Global self-attention block: every token attends to every token; no bias table.',
  params: [{ ...headsParam, default: 6 }, ...blockParams],
  ...tokenPorts,
  swapWith: 'mam-vit-block',
  infer: (ctx) => inferBlock(ctx, 'global', false),
};
