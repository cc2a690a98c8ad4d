import type { NodeKind, Shape } from '../src/graph/node-kind.ts';
import {
  formatGrid,
  layerNormWeights,
  product,
  str,
  unknownResult,
} from '../src/graph/node-kind.ts';

export const memoryMerging: NodeKind = {
  type: 'memory-merging',
  title: 'Memory merging',
  category: 'memory',
  role: 'memory-resampling',
  description:
    'Carries a memory chain into the next encoder stage (STS): LayerNorm, then a 2×2 stride-2 conv C→2C (or 2×2 avg/max pooling and a 1×1 conv), no bias.',
  params: [
    {
      name: 'mode',
      label: 'Mode',
      type: 'enum',
      default: 'conv',
      options: ['conv', 'avg', 'max'],
      help: "'conv' is the reference code's default.",
    },
  ],
  inputs: [{ name: 'memIn', label: 'memory', socket: 'memory' }],
  outputs: [{ name: 'memOut', label: 'memory', socket: 'memory' }],
  infer({ params, inputs }) {
    const m = inputs.memIn;
    if (!m) return unknownResult();
    if (m.kind !== 'memory')
      return unknownResult([{ port: 'memIn', message: `expects memory, got ${m.kind}` }]);
    const c = m.channels;
    const conv = str(params, 'mode') === 'conv';
    const kernel = m.grid.map(() => (conv ? 2 : 1));
    const fanIn = c * product(kernel);
    const grid = m.grid.map((g) => Math.floor(g / 2));
    const problems = m.grid.some((g) => g % 2 !== 0)
      ? [{ message: `memory grid ${formatGrid(m.grid)} cannot be halved: every side must be even` }]
      : [];
    const out: Shape = {
      kind: 'memory',
      grid,
      channels: 2 * c,
      layout: m.layout,
      window: 0,
      shift: 0,
    };
    return {
      outputs: { memOut: out },
      problems,
      weights: [
        ...layerNormWeights('norm.', c),
        { name: 'reduction.weight', shape: [2 * c, c, ...kernel], init: 'conv-uniform', fanIn },
      ],
      macs: { linearConv: product(grid) * 2 * c * fanIn, attention: 0 },
    };
  },
};
