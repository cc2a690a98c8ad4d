import type { NodeKind } from '../src/graph/node-kind.ts';
import {
  blockParams,
  headsParam,
  inferBlock,
  tokenPorts,
  windowParams,
} from './shared/transformer.ts';

export const swinBlock: NodeKind = {
  type: 'swin-block',
  title: 'Swin block (SAM)',
  category: 'attention',
  role: 'attention',
  description:
    'Shifted-window self-attention block: W-MSA when shift is 0, SW-MSA otherwise; LN → attention → LN → MLP with residuals.',
  params: [headsParam, ...windowParams, ...blockParams],
  ...tokenPorts,
  swapWith: 'mam-swin-block',
  infer: (ctx) => inferBlock(ctx, 'window', false),
};
