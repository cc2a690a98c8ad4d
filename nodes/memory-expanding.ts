import type { NodeKind } from '../src/graph/node-kind.ts';
import { layerNormWeights, linearWeights, product, unknownResult } from '../src/graph/node-kind.ts';

export const memoryExpanding: NodeKind = {
  type: 'memory-expanding',
  title: 'Memory expanding',
  category: 'memory',
  role: 'memory-resampling',
  description:
    'Carries a memory chain into the next decoder stage (STS): Linear C→2C without bias, pixel shuffle 2×2 to C/2, LayerNorm.',
  params: [],
  inputs: [{ name: 'memIn', label: 'memory', socket: 'memory' }],
  outputs: [{ name: 'memOut', label: 'memory', socket: 'memory' }],
  infer({ inputs }) {
    const m = inputs.memIn;
    if (!m) return unknownResult();
    if (m.kind !== 'memory')
      return unknownResult([{ port: 'memIn', message: `expects memory, got ${m.kind}` }]);
    const c = m.channels;
    const outC = Math.floor(c / 2);
    const expanded = 2 ** m.grid.length * outC;
    const problems = c % 2 !== 0 ? [{ message: `${c} memory channels cannot be halved` }] : [];
    return {
      outputs: {
        memOut: {
          kind: 'memory',
          grid: m.grid.map((g) => g * 2),
          channels: outC,
          layout: m.layout,
          window: 0,
          shift: 0,
        },
      },
      problems,
      weights: [
        ...linearWeights('expand.', c, expanded, false),
        ...layerNormWeights('norm.', outC),
      ],
      macs: { linearConv: product(m.grid) * expanded * c, attention: 0 },
    };
  },
};
