import type { NodeKind, WeightSpec } from '../src/graph/node-kind.ts';
import { num } from '../src/graph/node-kind.ts';
import {
  affineWeights,
  convMacs,
  convOut,
  convWeights,
  groupsParam,
  outChannelsParam,
  imagePorts,
  onImage,
} from './shared/cnn.ts';

/** Whether a unit needs the projection on its residual (stride ≠ 1 or channels change). */
export const needsProjection = (cin: number, cout: number, stride: number): boolean =>
  stride !== 1 || cin !== cout;

export const bottleneck: NodeKind = {
  type: 'bottleneck',
  title: 'ResNetV2 bottleneck unit',
  category: 'cnn',
  role: 'plain',
  description:
    'ReLU(r + GN3(StdConv1×1(ReLU(GN2(StdConv3×3/s(ReLU(GN1(StdConv1×1 x)))))))), GroupNorms eps 1e-6; the residual r is x, or GN_proj(StdConv1×1/s x) (one group per channel, eps 1e-5) when the stride or the channels change. The stride sits on the 3×3 conv and the projection.',
  params: [
    outChannelsParam(256),
    { name: 'midChannels', label: 'Mid channels', type: 'int', default: 64, min: 1, max: 4096 },
    { name: 'stride', label: 'Stride', type: 'int', default: 1, min: 1, max: 4 },
    groupsParam,
  ],
  ...imagePorts,
  infer: (ctx) =>
    onImage(ctx, (img) => {
      const [cout, mid, s, g] = ['outChannels', 'midChannels', 'stride', 'groups'].map((n) =>
        num(ctx.params, n),
      );
      const cin = img.channels;
      const out = img.spatial.map((n) => convOut(n, 3, s, 1));
      const problems = [mid, cout]
        .filter((c) => c % g)
        .map((c) => ({ message: `${c} channels are not divisible by ${g} groups` }));
      const proj = needsProjection(cin, cout, s);
      const weights: WeightSpec[] = [
        ...affineWeights('gn1.', mid),
        ...convWeights('conv1.', mid, cin, 1, false),
        ...affineWeights('gn2.', mid),
        ...convWeights('conv2.', mid, mid, 3, false),
        ...affineWeights('gn3.', cout),
        ...convWeights('conv3.', cout, mid, 1, false),
        ...(proj
          ? [...convWeights('downsample.', cout, cin, 1, false), ...affineWeights('gn_proj.', cout)]
          : []),
      ];
      const macs =
        convMacs(img.spatial, mid, cin, 1) +
        convMacs(out, mid, mid, 3) +
        convMacs(out, cout, mid, 1) +
        (proj ? convMacs(out, cout, cin, 1) : 0);
      return {
        outputs: { out: { kind: 'image', spatial: out, channels: cout } },
        problems,
        weights,
        macs: { linearConv: macs, attention: 0 },
      };
    }),
};
