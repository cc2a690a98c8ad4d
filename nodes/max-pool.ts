import type { NodeKind } from '../src/graph/node-kind.ts';
import { num, unknownResult } from '../src/graph/node-kind.ts';
import { convOut, imagePorts, onImage, windowParams } from './shared/cnn.ts';

export const maxPool: NodeKind = {
  type: 'max-pool',
  title: 'Max pooling',
  category: 'cnn',
  role: 'plain',
  description:
    "k×k max pooling with stride and padding (TransUNet's encoder: 3×3, stride 2, no padding, so 112 → 55).",
  params: [...windowParams(3, 2, 0)],
  ...imagePorts,
  infer: (ctx) =>
    onImage(ctx, (img) => {
      const [k, s, p] = ['kernel', 'stride', 'padding'].map((n) => num(ctx.params, n));
      if (2 * p > k)
        return unknownResult([{ message: `padding ${p} must be at most half the kernel ${k}` }]);
      const out = img.spatial.map((n) => convOut(n, k, s, p));
      if (out.some((n) => n < 1))
        return unknownResult([
          { message: `a ${k}×${k} window does not fit the ${img.spatial.join('×')} image` },
        ]);
      return {
        ...unknownResult(),
        outputs: { out: { kind: 'image', spatial: out, channels: img.channels } },
      };
    }),
};
