// The sizes the editor draws nodes at, measured in Chromium on the presets (see
// test/e2e/editor-trust.test.ts): boxes for layout tests that do not come from
// the layout's own size model.
import type { GraphDoc } from '../../src/graph/types.ts';

/** Rendered heights in px (width DRAWN_WIDTH for every kind). */
export const DRAWN_HEIGHT: Record<string, number> = {
  'image-input': 113,
  'patch-embed': 113,
  'position-embedding': 113,
  'swin-block': 113,
  'vit-block': 113,
  'mam-swin-block': 158,
  'mam-vit-block': 158,
  'patch-merging': 113,
  'patch-expanding': 113,
  'final-expanding': 113,
  'memory-merging': 134,
  'memory-expanding': 134,
  skip: 137,
  'layer-norm': 113,
  'seg-head': 113,
  output: 113,
  'transunet-block': 113,
  'mam-transunet-block': 158,
  'resnet-root': 113,
  'max-pool': 113,
  bottleneck: 113,
  'zero-pad': 113,
  conv2d: 113,
  'conv-bn-relu': 113,
  'position-embedding-map': 113,
  'tokens-to-map': 113,
  'da-head': 113,
  'cup-block': 137,
  // 3D kinds: measured on the 3D presets (test/e2e/editor-volume-canvas.test.ts).
  'patch-embed-3d': 113,
  'swin3d-block': 113,
  'mam-swin3d-block': 158,
  'patch-merging-3d': 113,
  'hidden-norm-3d': 113,
  conv3d: 113,
  'conv-transpose-3d': 113,
  'unetr-basic-block': 113,
  'unet-res-block': 113,
  'unetr-up-block': 137,
  'nnformer-stem': 113,
  'nnformer-merging': 113,
  'nnformer-expanding': 113,
  'nnformer-kv-block': 137,
  'nnformer-head': 113,
};

export const DRAWN_WIDTH = 220;

/** The pairs of nodes whose drawn boxes overlap, as `a × b`. */
export function overlapping(doc: GraphDoc): string[] {
  const boxes = doc.nodes.map((n) => {
    const h = DRAWN_HEIGHT[n.type];
    if (h === undefined) throw new Error(`no drawn height for ${n.type}`);
    return {
      id: n.id,
      x0: n.position[0],
      y0: n.position[1],
      x1: n.position[0] + DRAWN_WIDTH,
      y1: n.position[1] + h,
    };
  });
  const hits: string[] = [];
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, b] = [boxes[i], boxes[j]];
      if (a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1) hits.push(`${a.id} × ${b.id}`);
    }
  return hits;
}
