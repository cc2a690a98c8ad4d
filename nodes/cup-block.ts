import type { KindProblem, NodeKind } from '../src/graph/node-kind.ts';
import { formatGrid, num, unknownResult } from '../src/graph/node-kind.ts';
import {
  batchNormWeights,
  bnParams,
  convMacs,
  convWeights,
  imageIn,
  isProblem,
  outChannelsParam,
} from './shared/cnn.ts';

export const cupBlock: NodeKind = {
  type: 'cup-block',
  title: 'CUP decoder block',
  category: 'cnn',
  role: 'upsample',
  description:
    "TransUNet's decoder block: bilinear ×2 up-sampling (align_corners), concatenation with the skip feature map when connected (up-sampled first), then two Conv 3×3 → BatchNorm (eps 1e-5) → ReLU (`conv1`, `conv2`).",
  params: [outChannelsParam(256), ...bnParams(1e-5, 0.1)],
  inputs: [
    { name: 'in', label: 'image', socket: 'image' },
    { name: 'skip', label: 'skip', socket: 'image', optional: true },
  ],
  outputs: [{ name: 'out', label: 'image', socket: 'image' }],
  infer(ctx) {
    const img = imageIn(ctx);
    const skip = imageIn(ctx, 'skip');
    const bad = [img, skip].filter(isProblem);
    if (bad.length) return unknownResult(bad as KindProblem[]);
    if (!img || isProblem(img) || isProblem(skip)) return unknownResult();
    const o = num(ctx.params, 'outChannels');
    const up = img.spatial.map((n) => 2 * n);
    const problems: KindProblem[] = [];
    if (skip && formatGrid(skip.spatial) !== formatGrid(up)) {
      problems.push({
        port: 'skip',
        message: `the skip is ${formatGrid(skip.spatial)} but the up-sampled map is ${formatGrid(up)}`,
      });
    }
    const cin = img.channels + (skip?.channels ?? 0);
    return {
      outputs: { out: { kind: 'image', spatial: up, channels: o } },
      problems,
      weights: [
        ...convWeights('conv1.0.', o, cin, 3, false),
        ...batchNormWeights('conv1.1.', o),
        ...convWeights('conv2.0.', o, o, 3, false),
        ...batchNormWeights('conv2.1.', o),
      ],
      macs: { linearConv: convMacs(up, o, cin, 3) + convMacs(up, o, o, 3), attention: 0 },
    };
  },
};
