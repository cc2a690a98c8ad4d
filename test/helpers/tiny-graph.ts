/** A tiny MAM segmentation graph for training tests: 16×16×1 in, patch 2, embed 8, one stage of two MAM units (window 4), 3 classes. */
import { catalogue } from '../../nodes/index.ts';
import { GraphBuilder } from '../../src/graph/builder.ts';
import { swinUnet } from '../../src/graph/presets.ts';
import type { GraphDoc } from '../../src/graph/types.ts';

export function tinyGraph(
  opts: { size?: number; classes?: string[]; channels?: number; dropPath?: number } = {},
): GraphDoc {
  const size = opts.size ?? 16;
  const classNames = opts.classes ?? ['background', 'organ1', 'organ2'];
  const b = new GraphBuilder(catalogue, {
    title: 'tiny',
    training: { batchSize: 4, epochs: 2, learningRate: 0.05, optimizer: 'sgd', seed: 7 },
  });
  b.add('input', 'image-input', { channels: opts.channels ?? 1, height: size, width: size });
  b.add('patch_embed', 'patch-embed', { patchSize: 2, embedDim: 8 });
  b.link('input', 'patch_embed');
  b.add('layers.0.blocks.0', 'mam-swin-block', { heads: 2, window: 4, shift: 0, dropPath: 0 });
  b.add('layers.0.blocks.1', 'mam-swin-block', {
    heads: 2,
    window: 4,
    shift: 2,
    dropPath: opts.dropPath ?? 0.1,
  });
  b.link('patch_embed', 'layers.0.blocks.0');
  b.link('layers.0.blocks.0', 'layers.0.blocks.1');
  b.memory('layers.0.blocks.0', 'layers.0.blocks.1');
  b.add('norm_up', 'layer-norm', {});
  b.link('layers.0.blocks.1', 'norm_up');
  b.add('up', 'final-expanding', { scale: 2 });
  b.link('norm_up', 'up');
  b.add('output', 'seg-head', { classes: classNames.length });
  b.link('up', 'output');
  b.add('segmentation', 'output', { classes: classNames.length, classNames });
  b.link('output', 'segmentation', 'out', 'logits');
  return b.doc;
}

/** A tiny Swin U-net (SAM, 16×16×1 in, embed 8, depths 2-2, window 4, 3 classes): the base of the ablation tests. */
export function tinyUnet(): GraphDoc {
  return swinUnet(
    {
      title: 'tiny U',
      description: '',
      imageSize: 16,
      inChannels: 1,
      classNames: ['background', 'organ1', 'organ2'],
      embedDim: 8,
      depths: [2, 2],
      heads: [1, 2],
      window: 4,
      patchSize: 2,
      dropPath: 0,
      encoder: 'none',
      decoder: 'none',
      memoryLayout: 'window',
      mergeMode: 'conv',
      metadata: { training: { batchSize: 2, learningRate: 0.05, optimizer: 'sgd', seed: 0 } },
    },
    catalogue,
  );
}
