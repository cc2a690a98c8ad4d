/**
 * The preset networks, written as graphs with node ids equal to the reference
 * PyTorch module paths (MAM-SPEC.md section 4), so state dicts import by name.
 * presets/*.json are generated from here by scripts/make-presets.ts.
 */
import { presetBuilder } from './builder.ts';
import { DEMO_CLASSES, SYNAPSE_CLASSES } from './classes.ts';
import { applyCommand } from './commands.ts';
import { autoArrange } from './layout.ts';
import {
  daTransUnet,
  DA_TRANSUNET_DEMO,
  DA_TRANSUNET_SYNAPSE,
  DEMO_METADATA,
} from './presets-da.ts';
import { nnformerDemo, nnformerFlare, swinUnetrDemo, swinUnetrFlare } from './presets-3d.ts';
import type { Catalogue } from './node-kind.ts';
import type { GraphDoc, GraphMetadata } from './types.ts';

export type MemoryWiring = 'none' | 'ists' | 'sts';

export interface SwinUnetOptions {
  title: string;
  description: string;
  imageSize: number;
  inChannels: number;
  classNames: string[];
  embedDim: number;
  depths: number[];
  heads: number[];
  window: number;
  patchSize: number;
  dropPath: number;
  /** Memory in the encoder and decoder. STS in the decoder continues the encoder's chain when that is STS too. */
  encoder: MemoryWiring;
  decoder: MemoryWiring;
  memoryLayout: 'window' | 'spatial';
  mergeMode: 'conv' | 'avg' | 'max';
  metadata?: Partial<GraphMetadata>;
}

export { DEMO_CLASSES, SYNAPSE_CLASSES };

/** Positions from the editor's auto-arrange, so a preset opens as Auto-arrange would show it. */
const arranged = (doc: GraphDoc, catalogue: Catalogue): GraphDoc =>
  applyCommand(doc, autoArrange(doc, catalogue));

/** numpy.linspace(0, max, n) as Swin computes drop-path rates. */
export function dropPathRates(max: number, n: number): number[] {
  if (n === 1) return [0];
  return Array.from({ length: n }, (_, i) => Number(((max * i) / (n - 1)).toFixed(6)));
}

export function swinUnet(o: SwinUnetOptions, catalogue: Catalogue): GraphDoc {
  const b = presetBuilder(catalogue, o, {
    channels: o.inChannels,
    height: o.imageSize,
    width: o.imageSize,
  });
  const n = o.depths.length;
  const rates = dropPathRates(
    o.dropPath,
    o.depths.reduce((a, d) => a + d, 0),
  );
  const stageRates = o.depths.map((_, i) =>
    rates.slice(o.depths.slice(0, i).reduce((a, d) => a + d, 0)).slice(0, o.depths[i]),
  );
  b.add('patch_embed', 'patch-embed', { patchSize: o.patchSize, embedDim: o.embedDim });
  b.link('input', 'patch_embed');

  let prev = 'patch_embed';
  let lastUnit: string | undefined; // last MAM unit of the current memory chain
  const stageInputs: string[] = [];
  const mam = (where: MemoryWiring) => where !== 'none';

  const addBlocks = (prefix: string, stage: number, wiring: MemoryWiring, chainIn?: string) => {
    let chain = chainIn;
    for (let j = 0; j < o.depths[stage]; j++) {
      const id = `${prefix}.blocks.${j}`;
      const common = {
        heads: o.heads[stage],
        window: o.window,
        shift: j % 2 === 0 ? 0 : Math.floor(o.window / 2),
        dropPath: stageRates[stage][j],
      };
      if (mam(wiring)) {
        b.add(id, 'mam-swin-block', { ...common, memoryLayout: o.memoryLayout });
        if (chain) b.memory(chain, id);
        chain = id;
      } else b.add(id, 'swin-block', common);
      b.link(prev, id);
      prev = id;
    }
    return chain;
  };

  // Encoder.
  for (let i = 0; i < n; i++) {
    stageInputs.push(prev);
    let chainIn: string | undefined;
    if (o.encoder === 'sts' && lastUnit && i > 0) {
      const m = b.add(`memory_merging.${i - 1}`, 'memory-merging', { mode: o.mergeMode });
      b.link(lastUnit, m, 'memOut', 'memIn');
      chainIn = m;
    }
    lastUnit = addBlocks(`layers.${i}`, i, o.encoder, chainIn);
    if (i < n - 1) {
      b.add(`layers.${i}.downsample`, 'patch-merging', {});
      b.link(prev, `layers.${i}.downsample`);
      prev = `layers.${i}.downsample`;
    }
  }
  b.add('norm', 'layer-norm', {});
  b.link(prev, 'norm');
  b.add('layers_up.0', 'patch-expanding', {});
  b.link('norm', 'layers_up.0');
  prev = 'layers_up.0';

  // Decoder: stage k mirrors encoder stage n-1-k.
  const continueChain = o.encoder === 'sts' && o.decoder === 'sts';
  let decoderChain = continueChain ? lastUnit : undefined;
  for (let k = 1; k < n; k++) {
    const s = n - 1 - k;
    const skip = `concat_back_dim.${k}`;
    b.add(skip, 'skip', {});
    b.link(prev, skip, 'out', 'decoder');
    b.link(stageInputs[s], skip, 'out', 'encoder');
    prev = skip;
    let chainIn: string | undefined;
    if (o.decoder === 'sts' && decoderChain) {
      const m = b.add(`memory_expanding.${k}`, 'memory-expanding', {});
      b.link(decoderChain, m, 'memOut', 'memIn');
      chainIn = m;
    }
    const end = addBlocks(`layers_up.${k}`, s, o.decoder, chainIn);
    decoderChain = o.decoder === 'sts' ? end : undefined;
    if (k < n - 1) {
      b.add(`layers_up.${k}.upsample`, 'patch-expanding', {});
      b.link(prev, `layers_up.${k}.upsample`);
      prev = `layers_up.${k}.upsample`;
    }
  }
  b.add('norm_up', 'layer-norm', {});
  b.link(prev, 'norm_up');
  b.add('up', 'final-expanding', { scale: o.patchSize });
  b.link('norm_up', 'up');
  b.add('output', 'seg-head', { classes: o.classNames.length });
  b.link('up', 'output');
  b.add('segmentation', 'output', { classes: o.classNames.length, classNames: o.classNames });
  b.link('output', 'segmentation', 'out', 'logits');
  return arranged(b.doc, catalogue);
}

const synapse = {
  imageSize: 224,
  inChannels: 3,
  classNames: SYNAPSE_CLASSES,
  embedDim: 96,
  heads: [3, 6, 12, 24],
  window: 7,
  patchSize: 4,
  dropPath: 0.2,
  memoryLayout: 'window' as const,
  mergeMode: 'conv' as const,
  metadata: {
    dataset: 'synapse',
    training: {
      epochs: 150,
      batchSize: 24,
      learningRate: 0.05,
      optimizer: 'sgd' as const,
      seed: 1234,
      metricConvention: 'synapse' as const,
    },
  },
};

const PAPER =
  'Enhancing your attention to memorize more information for multimodal medical image segmentation';

export function vitUnetMamSts(catalogue: Catalogue): GraphDoc {
  const b = presetBuilder(
    catalogue,
    {
      title: 'ViT-MAM U-Net (STS)',
      description: `Sequential ViT encoder (patch 16, 8 blocks, 6 heads) with one memory chain through all blocks (STS), then a Swin-Unet style expanding decoder. After MAM-SPEC.md section 4; paper: "${PAPER}".`,
      metadata: synapse.metadata,
    },
    { channels: 3, height: 224, width: 224 },
  );
  b.add('patch_embed', 'patch-embed', { patchSize: 16, embedDim: 384, norm: false });
  b.link('input', 'patch_embed');
  b.add('embeddings', 'position-embedding', {});
  b.link('patch_embed', 'embeddings');
  let prev = 'embeddings';
  const rates = dropPathRates(0.1, 8);
  for (let j = 0; j < 8; j++) {
    const id = `blocks.${j}`;
    b.add(id, 'mam-vit-block', { heads: 6, dropPath: rates[j], memoryLayout: 'window' });
    b.link(prev, id);
    if (j > 0) b.memory(`blocks.${j - 1}`, id);
    prev = id;
  }
  b.add('layers_up.0', 'patch-expanding', {});
  b.link(prev, 'layers_up.0');
  b.add('layers_up.1', 'patch-expanding', {});
  b.link('layers_up.0', 'layers_up.1');
  b.add('up', 'final-expanding', { scale: 4 });
  b.link('layers_up.1', 'up');
  b.add('output', 'seg-head', { classes: 9 });
  b.link('up', 'output');
  b.add('segmentation', 'output', { classes: 9, classNames: SYNAPSE_CLASSES });
  b.link('output', 'segmentation', 'out', 'logits');
  return arranged(b.doc, catalogue);
}

/** Every preset by file name, built from the kinds of `catalogue` (the built-in kinds). */
export function presets(catalogue: Catalogue): Record<string, GraphDoc> {
  const swin = (
    file: string,
    title: string,
    what: string,
    encoder: MemoryWiring,
    decoder: MemoryWiring,
    depths = [2, 2, 6, 2],
  ) =>
    [
      file,
      swinUnet(
        {
          ...synapse,
          title,
          description: `${what} Swin-Unet ${depths.join('-')}, 224×224×3, 9 Synapse classes, embed 96, heads 3-6-12-24, window 7. Paper: "${PAPER}".`,
          depths,
          encoder,
          decoder,
        },
        catalogue,
      ),
    ] as const;
  return Object.fromEntries([
    swin(
      'swin-unet',
      'Swin-Unet (SAM, Baseline 5)',
      "Self-attention baseline (the paper's Baseline 5).",
      'none',
      'none',
    ),
    swin(
      'swin-unet-lite',
      'Swin-Unet lite (SAM)',
      "Self-attention, the public training config's depths.",
      'none',
      'none',
      [2, 2, 2, 2],
    ),
    swin(
      'swin-unet-mam-sts',
      'Swin-Unet MAM, STS encoder (Model 5-1)',
      'One memory chain through all four encoder stages with conv Memory Merging at the crossings; SAM decoder (Model 5-1).',
      'sts',
      'none',
    ),
    swin(
      'swin-unet-mam-sts-encdec',
      'Swin-Unet MAM, STS encoder + decoder (Model 5-2)',
      'The Model 5-1 chain continues from the bottleneck through the decoder with Memory Expanding at the three decoder crossings (Model 5-2).',
      'sts',
      'sts',
    ),
    swin(
      'swin-unet-mam-ists',
      'Swin-Unet MAM, ISTS encoder (Model 5-3)',
      'A memory chain per encoder stage; SAM decoder (Model 5-3).',
      'ists',
      'none',
    ),
    swin(
      'swin-unet-mam-ists-encdec',
      'Swin-Unet MAM, ISTS encoder + decoder (Model 5-4)',
      'A memory chain per encoder stage and per decoder stage (Model 5-4).',
      'ists',
      'ists',
    ),
    ['vit-unet-mam-sts', vitUnetMamSts(catalogue)],
    ['da-transunet-mam-demo', arranged(daTransUnet(DA_TRANSUNET_DEMO, catalogue), catalogue)],
    ...([false, true] as const).map(
      (memory) =>
        [
          memory ? 'da-transunet-mam' : 'da-transunet',
          arranged(
            daTransUnet(
              {
                ...DA_TRANSUNET_SYNAPSE,
                classNames: SYNAPSE_CLASSES,
                memory,
                title: memory ? 'DA-TransUNet-MAM (RecA-S)' : 'DA-TransUNet (SAM)',
                description: `Hybrid ResNet-50 (3 stages) + ViT-B/16 (12 blocks, ${memory ? 'one memory chain through all 12 (STS)' : 'self-attention'}) with dual attention (PAM + CAM) on the embedding and two skips, CUP decoder; 224×224×3, 9 Synapse classes. After DA-TRANSUNET-MAM-SPEC.md; paper: "${PAPER}".`,
              },
              catalogue,
            ),
            catalogue,
          ),
        ] as const,
    ),
    ...([false, true] as const).flatMap((memory) => {
      const mam = memory ? '-mam' : '';
      return [
        [`swinunetr${mam}`, arranged(swinUnetrFlare(memory, catalogue), catalogue)],
        [`nnformer${mam}`, arranged(nnformerFlare(memory, catalogue), catalogue)],
      ] as const;
    }),
    ['swinunetr-mam-demo', arranged(swinUnetrDemo(DEMO_CLASSES, true, catalogue), catalogue)],
    ['nnformer-mam-demo', arranged(nnformerDemo(DEMO_CLASSES, true, catalogue), catalogue)],
    [
      'demo-mam',
      swinUnet(
        {
          title: 'Demo: brain MRI parcellation with MAM (ISTS)',
          description:
            "Small Swin-Unet with memory-attention (ISTS) in the encoder for the embedded demo data (128×128 axial T1 slices, 7 brain regions + background). Trains with AdamW, batch 4, without the paper's rotations and flips (the regions follow anatomy those transforms scramble). Single-subject demo, not a benchmark.",
          imageSize: 128,
          inChannels: 1,
          classNames: DEMO_CLASSES,
          embedDim: 32,
          depths: [2, 2, 2],
          heads: [2, 4, 8],
          window: 4,
          patchSize: 4,
          dropPath: 0.1,
          encoder: 'ists',
          decoder: 'none',
          memoryLayout: 'window',
          mergeMode: 'conv',
          metadata: DEMO_METADATA,
        },
        catalogue,
      ),
    ],
  ]);
}
