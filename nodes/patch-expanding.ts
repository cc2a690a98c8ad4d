import type { NodeKind } from '../src/graph/node-kind.ts';
import { expandTokens } from './shared/expand.ts';

export const patchExpanding: NodeKind = {
  type: 'patch-expanding',
  title: 'Patch expanding',
  category: 'resampling',
  role: 'upsample',
  description:
    'Doubles the token grid: Linear C→2C without bias, pixel shuffle 2×2 to C/2 channels, LayerNorm. Marks the decoder.',
  params: [],
  inputs: [{ name: 'in', label: 'tokens', socket: 'tokens' }],
  outputs: [{ name: 'out', label: 'tokens', socket: 'tokens' }],
  infer: (ctx) => expandTokens(ctx, 2, true),
};
