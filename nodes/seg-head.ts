import type { NodeKind } from '../src/graph/node-kind.ts';
import { classesParam } from './shared/classes.ts';
import { isProblem, num, product, tokensIn, unknownResult } from '../src/graph/node-kind.ts';

export const segHead: NodeKind = {
  type: 'seg-head',
  title: 'Segmentation head',
  category: 'head',
  role: 'plain',
  description: 'A 1×1 convolution without bias from C channels to one logit per class.',
  params: [classesParam],
  inputs: [{ name: 'in', label: 'tokens', socket: 'tokens' }],
  outputs: [{ name: 'out', label: 'logits', socket: 'image' }],
  infer(ctx) {
    const t = tokensIn(ctx);
    if (!t) return unknownResult();
    if (isProblem(t)) return unknownResult([t]);
    const k = num(ctx.params, 'classes');
    const ones = t.grid.map(() => 1);
    return {
      outputs: { out: { kind: 'image', spatial: t.grid, channels: k } },
      problems: [],
      weights: [
        {
          name: 'weight',
          shape: [k, t.channels, ...ones],
          init: 'conv-uniform',
          fanIn: t.channels,
        },
      ],
      macs: { linearConv: product(t.grid) * k * t.channels, attention: 0 },
    };
  },
};
