import type { NodeKind } from '../src/graph/node-kind.ts';
import { isProblem, product, tokensIn, unknownResult } from '../src/graph/node-kind.ts';

export const positionEmbedding: NodeKind = {
  type: 'position-embedding',
  title: 'Position embedding',
  category: 'embedding',
  role: 'plain',
  description:
    'Adds a learned table of one vector per token position (for ViT-style sequential networks).',
  params: [],
  inputs: [{ name: 'in', label: 'tokens', socket: 'tokens' }],
  outputs: [{ name: 'out', label: 'tokens', socket: 'tokens' }],
  infer(ctx) {
    const t = tokensIn(ctx);
    if (!t) return unknownResult();
    if (isProblem(t)) return unknownResult([t]);
    return {
      ...unknownResult(),
      outputs: { out: { kind: 'tokens', grid: t.grid, channels: t.channels } },
      weights: [
        { name: 'pos_embed', shape: [1, product(t.grid), t.channels], init: 'trunc-normal' },
      ],
    };
  },
};
