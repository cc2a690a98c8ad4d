import type { NodeKind } from '../src/graph/node-kind.ts';
import { headsParam, tokenPorts } from './shared/transformer.ts';
import { inferTransUnetBlock, transUnetParams } from './shared/transunet.ts';

export const transUnetBlock: NodeKind = {
  type: 'transunet-block',
  title: 'ViT block, TransUNet (SAM)',
  category: 'attention',
  role: 'attention',
  description:
    "TransUNet's pre-LN ViT block (LayerNorm eps 1e-6, separate query/key/value/out Linears, MLP with exact GELU and dropout): global self-attention.",
  params: [{ ...headsParam, default: 12 }, ...transUnetParams],
  ...tokenPorts,
  swapWith: 'mam-transunet-block',
  infer: (ctx) => inferTransUnetBlock(ctx, false),
};
