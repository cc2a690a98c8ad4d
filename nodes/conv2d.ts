import type { NodeKind } from '../src/graph/node-kind.ts';
import { bool, num, unknownResult } from '../src/graph/node-kind.ts';
import {
  convMacs,
  convOut,
  convWeights,
  outChannelsParam,
  imagePorts,
  onImage,
  windowParams,
} from './shared/cnn.ts';

export const conv2d: NodeKind = {
  type: 'conv2d',
  title: 'Convolution',
  category: 'cnn',
  role: 'plain',
  description:
    'k×k convolution with stride and symmetric zero padding, optional bias, and optional weight standardisation (StdConv2d: each filter minus its mean over √(variance + 1e-5), every forward pass).',
  params: [
    outChannelsParam(64),
    ...windowParams(3, 1, 1),
    { name: 'bias', label: 'Bias', type: 'bool', default: true },
    { name: 'standardize', label: 'Weight standardisation', type: 'bool', default: false },
  ],
  ...imagePorts,
  infer: (ctx) =>
    onImage(ctx, (img) => {
      const p = ctx.params;
      const [k, s, pad, o] = [
        num(p, 'kernel'),
        num(p, 'stride'),
        num(p, 'padding'),
        num(p, 'outChannels'),
      ];
      const out = img.spatial.map((n) => convOut(n, k, s, pad));
      if (out.some((n) => n < 1))
        return unknownResult([
          { message: `a ${k}×${k} kernel does not fit the ${img.spatial.join('×')} image` },
        ]);
      return {
        outputs: { out: { kind: 'image', spatial: out, channels: o } },
        problems: [],
        weights: convWeights('', o, img.channels, k, bool(p, 'bias')),
        macs: { linearConv: convMacs(out, o, img.channels, k), attention: 0 },
      };
    }),
};
