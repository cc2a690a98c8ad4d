import type { NodeKind } from '../src/graph/node-kind.ts';
import { num } from '../src/graph/node-kind.ts';
import {
  affineWeights,
  convMacs,
  convOut,
  convWeights,
  groupsParam,
  imagePorts,
  onImage,
} from './shared/cnn.ts';

export const resnetRoot: NodeKind = {
  type: 'resnet-root',
  title: 'ResNet root',
  category: 'cnn',
  role: 'plain',
  description:
    'The ResNetV2 stem of the hybrid encoder: StdConv 7×7 stride 2 padding 3 (no bias) → GroupNorm (eps 1e-6) → ReLU; halves the image.',
  params: [
    { name: 'width', label: 'Width', type: 'int', default: 64, min: 1, max: 4096 },
    groupsParam,
  ],
  ...imagePorts,
  infer: (ctx) =>
    onImage(ctx, (img) => {
      const w = num(ctx.params, 'width');
      const g = num(ctx.params, 'groups');
      const out = img.spatial.map((n) => convOut(n, 7, 2, 3));
      const problems = w % g ? [{ message: `width ${w} is not divisible by ${g} groups` }] : [];
      return {
        outputs: { out: { kind: 'image', spatial: out, channels: w } },
        problems,
        weights: [...convWeights('conv.', w, img.channels, 7, false), ...affineWeights('gn.', w)],
        macs: { linearConv: convMacs(out, w, img.channels, 7), attention: 0 },
      };
    }),
};
