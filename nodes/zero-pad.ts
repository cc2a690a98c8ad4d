import type { NodeKind } from '../src/graph/node-kind.ts';
import { num, unknownResult } from '../src/graph/node-kind.ts';
import { imagePorts, onImage } from './shared/cnn.ts';

export const zeroPad: NodeKind = {
  type: 'zero-pad',
  title: 'Zero padding',
  category: 'cnn',
  role: 'plain',
  description:
    "Pads the image with zeros at the bottom and right (TransUNet's 55 → 56 skip feature).",
  params: [
    { name: 'bottom', label: 'Bottom', type: 'int', default: 1, min: 0, max: 64 },
    { name: 'right', label: 'Right', type: 'int', default: 1, min: 0, max: 64 },
  ],
  ...imagePorts,
  infer: (ctx) =>
    onImage(ctx, (img) => {
      const [h, w] = img.spatial;
      const spatial = [h + num(ctx.params, 'bottom'), w + num(ctx.params, 'right')];
      return {
        ...unknownResult(),
        outputs: { out: { kind: 'image', spatial, channels: img.channels } },
      };
    }),
};
