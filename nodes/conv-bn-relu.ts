import type { NodeKind } from '../src/graph/node-kind.ts';
import { num, unknownResult } from '../src/graph/node-kind.ts';
import {
  batchNormWeights,
  bnParams,
  convMacs,
  convWeights,
  outChannelsParam,
  imagePorts,
  onImage,
} from './shared/cnn.ts';

export const convBnRelu: NodeKind = {
  type: 'conv-bn-relu',
  title: 'Conv + BatchNorm + ReLU',
  category: 'cnn',
  role: 'plain',
  description:
    "k×k convolution (padding ⌊k/2⌋, no bias) → BatchNorm2d → ReLU, as TransUNet's Conv2dReLU (`0` the conv, `1` the BatchNorm). BatchNorm uses batch statistics in training and its running statistics in evaluation.",
  params: [
    outChannelsParam(512),
    { name: 'kernel', label: 'Kernel', type: 'int', default: 3, min: 1, max: 15 },
    ...bnParams(1e-5, 0.1),
  ],
  ...imagePorts,
  infer: (ctx) =>
    onImage(ctx, (img) => {
      const [k, o] = [num(ctx.params, 'kernel'), num(ctx.params, 'outChannels')];
      if (k % 2 === 0)
        return unknownResult([{ message: `kernel ${k} must be odd (same-size padding)` }]);
      return {
        outputs: { out: { kind: 'image', spatial: img.spatial, channels: o } },
        problems: [],
        weights: [...convWeights('0.', o, img.channels, k, false), ...batchNormWeights('1.', o)],
        macs: { linearConv: convMacs(img.spatial, o, img.channels, k), attention: 0 },
      };
    }),
};
