import type { NodeKind } from '../src/graph/node-kind.ts';
import { isProblem, layerNormWeights, tokensIn, unknownResult } from '../src/graph/node-kind.ts';

export const tokensToMap: NodeKind = {
  type: 'tokens-to-map',
  title: 'LayerNorm → feature map',
  category: 'embedding',
  role: 'plain',
  description:
    "LayerNorm (eps 1e-6) over each token, then the tokens as a feature map on their grid (TransUNet's encoder_norm and the decoder's reshape).",
  params: [],
  inputs: [{ name: 'in', label: 'tokens', socket: 'tokens' }],
  outputs: [{ name: 'out', label: 'image', socket: 'image' }],
  infer(ctx) {
    const t = tokensIn(ctx);
    if (!t) return unknownResult();
    if (isProblem(t)) return unknownResult([t]);
    if (t.grid.length !== 2)
      return unknownResult([{ message: `expects a 2D token grid, got ${t.grid.length}D` }]);
    return {
      ...unknownResult(),
      outputs: { out: { kind: 'image', spatial: t.grid, channels: t.channels } },
      weights: layerNormWeights('', t.channels),
    };
  },
};
