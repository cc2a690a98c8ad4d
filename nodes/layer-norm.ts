import type { NodeKind } from '../src/graph/node-kind.ts';
import { isProblem, layerNormWeights, tokensIn, unknownResult } from '../src/graph/node-kind.ts';

export const layerNorm: NodeKind = {
  type: 'layer-norm',
  title: 'LayerNorm',
  category: 'norm',
  role: 'plain',
  description:
    'Normalises each token over its channels (eps 1e-5), with a learned scale and shift.',
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
      weights: layerNormWeights('', t.channels),
    };
  },
};
