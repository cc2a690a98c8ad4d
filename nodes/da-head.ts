import type { NodeKind, WeightSpec } from '../src/graph/node-kind.ts';
import { num, unknownResult } from '../src/graph/node-kind.ts';
import { batchNormWeights, bnParams, convWeights, imagePorts, onImage } from './shared/cnn.ts';

/** Inner width c = C / reduction, PAM query/key width c / 8 (DANet's integer division). */
export function daWidths(C: number, reduction: number): { c: number; d: number } {
  const c = Math.floor(C / reduction);
  return { c, d: Math.floor(c / 8) };
}

export const daHead: NodeKind = {
  type: 'da-head',
  title: 'Dual attention head',
  category: 'dual-attention',
  role: 'plain',
  description:
    "DANet's head as DA-TransUNet uses it: ReLU(conv8(P + Q)) with P = CBR(PAM(CBR x)) (position attention, no 1/√d) and Q = CBR(CAM(CBR x)) (channel attention, softmax of max − E); CBR = conv 3×3 → BatchNorm (eps 1e-3, momentum 0.95) → ReLU. No residual around the head. The reference's side outputs conv6/conv7 are discarded there and not built here.",
  params: [
    {
      name: 'reduction',
      label: 'Reduction',
      type: 'int',
      default: 16,
      min: 1,
      max: 256,
      help: 'Inner channels c = C / reduction; PAM queries and keys have c / 8.',
    },
    ...bnParams(1e-3, 0.95),
    {
      name: 'dropout',
      label: 'Dropout2d',
      type: 'float',
      default: 0.05,
      min: 0,
      max: 0.95,
      help: 'Channel dropout before conv8, in training only.',
    },
  ],
  ...imagePorts,
  infer: (ctx) =>
    onImage(ctx, (img) => {
      const C = img.channels;
      const { c, d } = daWidths(C, num(ctx.params, 'reduction'));
      if (d < 1)
        return unknownResult([
          { message: `${C} channels / reduction leave ${c} inner channels: PAM needs at least 8` },
        ]);
      const N = img.spatial[0] * img.spatial[1];
      const cbr = (p: string, cin: number) => [
        ...convWeights(`${p}.0.`, c, cin, 3, false),
        ...batchNormWeights(`${p}.1.`, c),
      ];
      const gamma = (p: string): WeightSpec => ({ name: `${p}.gamma`, shape: [1], init: 'zeros' });
      const weights: WeightSpec[] = [
        ...cbr('conv5a', C),
        ...cbr('conv5c', C),
        ...convWeights('sa.query_conv.', d, c, 1, true),
        ...convWeights('sa.key_conv.', d, c, 1, true),
        ...convWeights('sa.value_conv.', c, c, 1, true),
        gamma('sa'),
        gamma('sc'),
        ...cbr('conv51', c),
        ...cbr('conv52', c),
        ...convWeights('conv8.1.', C, c, 1, true),
      ];
      const linearConv = N * (2 * 9 * C * c + 2 * d * c + c * c + 2 * 9 * c * c + c * C);
      const attention = N * N * (d + c) + 2 * c * c * N;
      return {
        outputs: { out: { kind: 'image', spatial: img.spatial, channels: C } },
        problems: [],
        weights,
        macs: { linearConv, attention },
      };
    }),
};
