import type { NodeKind } from '../src/graph/node-kind.ts';
import { num } from '../src/graph/node-kind.ts';
import { expandTokens } from './shared/expand.ts';

export const finalExpanding: NodeKind = {
  type: 'final-expanding',
  title: 'Final expanding ×4',
  category: 'resampling',
  role: 'upsample',
  description:
    'Back to pixel resolution: Linear C→16C without bias, pixel shuffle 4×4 keeping C channels, LayerNorm.',
  params: [{ name: 'scale', label: 'Scale', type: 'int', default: 4, min: 2, max: 16 }],
  inputs: [{ name: 'in', label: 'tokens', socket: 'tokens' }],
  outputs: [{ name: 'out', label: 'tokens', socket: 'tokens' }],
  infer: (ctx) => expandTokens(ctx, num(ctx.params, 'scale'), false),
};
