import type { NodeKind } from '../src/graph/node-kind.ts';

import { num, unknownResult } from '../src/graph/node-kind.ts';

export const imageInput: NodeKind = {
  type: 'image-input',
  title: 'Image input',
  category: 'input',
  role: 'input',
  description: 'The network input: one image (or a stack of modalities as channels) per sample.',
  params: [
    { name: 'channels', label: 'Channels', type: 'int', default: 1, min: 1, max: 64 },
    { name: 'height', label: 'Height', type: 'int', default: 224, min: 1, max: 4096 },
    { name: 'width', label: 'Width', type: 'int', default: 224, min: 1, max: 4096 },
    {
      name: 'depth',
      label: 'Depth',
      type: 'int',
      default: 0,
      min: 0,
      max: 1024,
      help: '0 for 2D images; the slice count for 3D volumes.',
    },
  ],
  inputs: [],
  outputs: [{ name: 'out', label: 'image', socket: 'image' }],
  infer({ params }) {
    const depth = num(params, 'depth');
    const hw = [num(params, 'height'), num(params, 'width')];
    const spatial = depth > 0 ? [depth, ...hw] : hw;
    return {
      ...unknownResult(),
      outputs: { out: { kind: 'image', spatial, channels: num(params, 'channels') } },
    };
  },
};
