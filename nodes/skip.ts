import type { NodeKind } from '../src/graph/node-kind.ts';
import {
  formatGrid,
  isProblem,
  linearWeights,
  product,
  tokensIn,
  unknownResult,
} from '../src/graph/node-kind.ts';

export const skip: NodeKind = {
  type: 'skip',
  title: 'Skip connection',
  category: 'skip',
  role: 'plain',
  description:
    'Joins an encoder stage to the decoder: concatenates decoder and encoder tokens (decoder first), then Linear 2C→C.',
  params: [],
  inputs: [
    { name: 'decoder', label: 'decoder', socket: 'tokens' },
    { name: 'encoder', label: 'encoder', socket: 'tokens' },
  ],
  outputs: [{ name: 'out', label: 'tokens', socket: 'tokens' }],
  infer(ctx) {
    const d = tokensIn(ctx, 'decoder');
    const e = tokensIn(ctx, 'encoder');
    if (isProblem(d) || isProblem(e)) return unknownResult([d, e].filter(isProblem));
    if (!d || !e) return unknownResult();
    const c = d.channels;
    const problems =
      formatGrid(d.grid) !== formatGrid(e.grid) || d.channels !== e.channels
        ? [
            {
              port: 'encoder',
              message: `token grids do not match at the skip: decoder ${formatGrid(d.grid)}×${d.channels}, encoder ${formatGrid(e.grid)}×${e.channels}`,
            },
          ]
        : [];
    return {
      outputs: { out: { kind: 'tokens', grid: d.grid, channels: c } },
      problems,
      weights: linearWeights('', d.channels + e.channels, c, true),
      macs: { linearConv: product(d.grid) * c * (d.channels + e.channels), attention: 0 },
    };
  },
};
