import type { NodeKind } from '../src/graph/node-kind.ts';
import { unknownResult } from '../src/graph/node-kind.ts';
import { dropoutParam } from './shared/transunet.ts';
import { imageIn, isProblem } from './shared/cnn.ts';

export const positionEmbeddingMap: NodeKind = {
  type: 'position-embedding-map',
  title: 'Map → tokens + position embedding',
  category: 'embedding',
  role: 'plain',
  description:
    "Flattens a feature map to tokens (row-major over the grid) and adds a learned position table, then dropout in training (TransUNet's Embeddings; weight `position_embeddings`).",
  params: [{ ...dropoutParam, default: 0.1 }],
  inputs: [{ name: 'in', label: 'image', socket: 'image' }],
  outputs: [{ name: 'out', label: 'tokens', socket: 'tokens' }],
  infer(ctx) {
    const img = imageIn(ctx);
    if (!img) return unknownResult();
    if (isProblem(img)) return unknownResult([img]);
    const L = img.spatial[0] * img.spatial[1];
    return {
      ...unknownResult(),
      outputs: { out: { kind: 'tokens', grid: img.spatial, channels: img.channels } },
      weights: [{ name: 'position_embeddings', shape: [1, L, img.channels], init: 'zeros' }],
    };
  },
};
