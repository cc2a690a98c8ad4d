import type { NodeKind } from '../src/graph/node-kind.ts';
import {
  bool,
  formatGrid,
  layerNormWeights,
  num,
  product,
  unknownResult,
} from '../src/graph/node-kind.ts';

export const patchEmbed: NodeKind = {
  type: 'patch-embed',
  title: 'Patch embed',
  category: 'embedding',
  role: 'plain',
  description:
    'Cuts the image into p×p patches and projects each to C channels (a p×p stride-p convolution, computed as patchify + Linear), then LayerNorm.',
  params: [
    { name: 'patchSize', label: 'Patch size', type: 'int', default: 4, min: 1, max: 64 },
    { name: 'embedDim', label: 'Embed dim', type: 'int', default: 96, min: 1, max: 8192 },
    { name: 'norm', label: 'LayerNorm', type: 'bool', default: true },
  ],
  inputs: [{ name: 'in', label: 'image', socket: 'image' }],
  outputs: [{ name: 'out', label: 'tokens', socket: 'tokens' }],
  infer({ params, inputs }) {
    const img = inputs.in;
    if (!img) return unknownResult();
    if (img.kind !== 'image')
      return unknownResult([{ port: 'in', message: `expects an image, got ${img.kind}` }]);
    const p = num(params, 'patchSize');
    const c = num(params, 'embedDim');
    const problems = img.spatial.some((s) => s % p !== 0)
      ? [{ message: `image ${formatGrid(img.spatial)} is not divisible by patch size ${p}` }]
      : [];
    const grid = img.spatial.map((s) => Math.floor(s / p));
    const kernel = img.spatial.map(() => p);
    const fanIn = img.channels * product(kernel);
    return {
      outputs: { out: { kind: 'tokens', grid, channels: c } },
      problems,
      weights: [
        { name: 'proj.weight', shape: [c, img.channels, ...kernel], init: 'conv-uniform', fanIn },
        { name: 'proj.bias', shape: [c], init: 'conv-uniform', fanIn },
        ...(bool(params, 'norm') ? layerNormWeights('norm.', c) : []),
      ],
      macs: { linearConv: product(grid) * c * fanIn, attention: 0 },
    };
  },
};
