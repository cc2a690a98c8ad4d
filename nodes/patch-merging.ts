import type { NodeKind } from '../src/graph/node-kind.ts';
import {
  formatGrid,
  isProblem,
  layerNormWeights,
  linearWeights,
  product,
  tokensIn,
  unknownResult,
} from '../src/graph/node-kind.ts';

export const patchMerging: NodeKind = {
  type: 'patch-merging',
  title: 'Patch merging',
  category: 'resampling',
  role: 'downsample',
  description:
    'Halves the token grid: concatenates each 2×2 neighbourhood (4C), LayerNorm, Linear 4C→2C without bias. Starts a new encoder stage.',
  params: [],
  inputs: [{ name: 'in', label: 'tokens', socket: 'tokens' }],
  outputs: [{ name: 'out', label: 'tokens', socket: 'tokens' }],
  infer(ctx) {
    const t = tokensIn(ctx);
    if (!t) return unknownResult();
    if (isProblem(t)) return unknownResult([t]);
    const c = t.channels;
    const n = 2 ** t.grid.length;
    const problems = t.grid.some((g) => g % 2 !== 0)
      ? [{ message: `token grid ${formatGrid(t.grid)} cannot be halved: every side must be even` }]
      : [];
    const grid = t.grid.map((g) => Math.floor(g / 2));
    return {
      outputs: { out: { kind: 'tokens', grid, channels: 2 * c } },
      problems,
      weights: [
        ...layerNormWeights('norm.', n * c),
        ...linearWeights('reduction.', n * c, 2 * c, false),
      ],
      macs: { linearConv: product(grid) * 2 * c * n * c, attention: 0 },
    };
  },
};
