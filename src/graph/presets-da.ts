/**
 * DA-TransUNet (SAM) and DA-TransUNet-MAM (RecA-S) as graphs with the
 * reference's module paths as node ids (DA-TRANSUNET-MAM-SPEC.md §a–b), so
 * the reference state dict imports by name. The graph holds what runs (§k):
 * no never-executed decoder DA heads, no discarded conv6/conv7 branches.
 */
import { presetBuilder, type GraphBuilder } from './builder.ts';
import { DEMO_CLASSES } from './classes.ts';
import type { Catalogue } from './node-kind.ts';
import type { GraphDoc, GraphMetadata } from './types.ts';

export interface DaTransUnetOptions {
  title: string;
  description: string;
  imageSize: number;
  inChannels: number;
  classNames: string[];
  /** ResNet root width; stage s has out channels width·4·2^s and mid channels width·2^s. */
  width: number;
  /** Bottleneck units per stage (the reference: 3, 4, 9). */
  units: number[];
  groups: number;
  hidden: number;
  heads: number;
  layers: number;
  mlpRatio: number;
  /** conv_more's channels. */
  headChannels: number;
  decoderChannels: number[];
  /** DA head reduction (inner channels C / reduction). */
  daReduction: number;
  /** Memory chain (STS) through the ViT blocks. */
  memory: boolean;
  /** Dropout of the embeddings and ViT MLPs (the DA heads' Dropout2d is half of it); default 0.1. */
  dropout?: number;
  metadata?: Partial<GraphMetadata>;
}

const HYBRID = 'transformer.embeddings.hybrid_model';

/** The hybrid ResNetV2 encoder; returns the last node and the skips S1 (1/8), S2 (1/4), S3 (1/2). */
function hybridEncoder(b: GraphBuilder, o: DaTransUnetOptions): { last: string; skips: string[] } {
  b.add(`${HYBRID}.root`, 'resnet-root', { width: o.width, groups: o.groups });
  b.link('input', `${HYBRID}.root`);
  b.add(`${HYBRID}.pool`, 'max-pool', { kernel: 3, stride: 2, padding: 0 });
  b.link(`${HYBRID}.root`, `${HYBRID}.pool`);
  let prev = `${HYBRID}.pool`;
  const stageEnds: string[] = [];
  o.units.forEach((n, s) => {
    for (let u = 1; u <= n; u++) {
      const id = `${HYBRID}.body.block${s + 1}.unit${u}`;
      b.add(id, 'bottleneck', {
        outChannels: o.width * 4 * 2 ** s,
        midChannels: o.width * 2 ** s,
        stride: u === 1 && s > 0 ? 2 : 1,
        groups: o.groups,
      });
      b.link(prev, id);
      prev = id;
    }
    stageEnds.push(prev);
  });
  return { last: prev, skips: [stageEnds[1], stageEnds[0], `${HYBRID}.root`] };
}

/** Side of the 1/4 feature after the 3×3/s2 unpadded max pool, to be padded to imageSize/4. */
const pooledSide = (n: number) => Math.floor((Math.floor((n + 6 - 7) / 2) + 1 - 3) / 2) + 1;

export function daTransUnet(o: DaTransUnetOptions, catalogue: Catalogue): GraphDoc {
  const b = presetBuilder(catalogue, o, {
    channels: o.inChannels,
    height: o.imageSize,
    width: o.imageSize,
  });
  const enc = hybridEncoder(b, o);

  // S2 is zero-padded bottom/right to imageSize/4 (55 → 56 at 224, spec §b 4b).
  const pad = o.imageSize / 4 - pooledSide(o.imageSize);
  const s2 = `${HYBRID}.body.block1.pad`;
  b.add(s2, 'zero-pad', { bottom: pad, right: pad });
  b.link(enc.skips[1], s2);
  const skips = [enc.skips[0], s2, enc.skips[2]];

  const emb = 'transformer.embeddings';
  b.add(`${emb}.patch_embeddings`, 'conv2d', {
    outChannels: o.hidden,
    kernel: 1,
    stride: 1,
    padding: 0,
    bias: true,
  });
  b.link(enc.last, `${emb}.patch_embeddings`);
  const drop = o.dropout ?? 0.1;
  const daParams = { reduction: o.daReduction, dropout: drop / 2 };
  b.add(`${emb}.DAblock1`, 'da-head', daParams);
  b.link(`${emb}.patch_embeddings`, `${emb}.DAblock1`);
  b.add(emb, 'position-embedding-map', { dropout: drop });
  b.link(`${emb}.DAblock1`, emb);

  let prev = emb;
  for (let l = 0; l < o.layers; l++) {
    const id = `transformer.encoder.layer.${l}`;
    const common = { heads: o.heads, mlpRatio: o.mlpRatio, dropout: drop };
    if (o.memory) {
      b.add(id, 'mam-transunet-block', { ...common, memoryLayout: 'window' });
      if (l > 0) b.memory(`transformer.encoder.layer.${l - 1}`, id);
    } else b.add(id, 'transunet-block', common);
    b.link(prev, id);
    prev = id;
  }
  b.add('transformer.encoder.encoder_norm', 'tokens-to-map', {});
  b.link(prev, 'transformer.encoder.encoder_norm');
  b.add('decoder.conv_more', 'conv-bn-relu', { outChannels: o.headChannels, kernel: 3 });
  b.link('transformer.encoder.encoder_norm', 'decoder.conv_more');
  prev = 'decoder.conv_more';

  // Blocks 0 and 1 run their skip through a DA head (da3, da2); block 2's skip has none
  // and block 3 has no skip (spec quirk h1).
  const daOf = ['da3', 'da2'];
  o.decoderChannels.forEach((out, i) => {
    const id = `decoder.blocks.${i}`;
    b.add(id, 'cup-block', { outChannels: out });
    b.link(prev, id);
    if (i < skips.length) {
      let skip = skips[i];
      if (i < daOf.length) {
        const da = `${id}.${daOf[i]}`;
        b.add(da, 'da-head', daParams);
        b.link(skip, da);
        skip = da;
      }
      b.link(skip, id, 'out', 'skip');
    }
    prev = id;
  });
  const k = o.classNames.length;
  b.add('segmentation_head.0', 'conv2d', {
    outChannels: k,
    kernel: 3,
    stride: 1,
    padding: 1,
    bias: true,
  });
  b.link(prev, 'segmentation_head.0');
  b.add('segmentation', 'output', { classes: k, classNames: o.classNames });
  b.link('segmentation_head.0', 'segmentation', 'out', 'logits');
  return b.doc;
}

/** DA-TransUNet's loss, 0.5·CE + 0.5·Dice (spec §g), in all its presets. */
const DA_LOSS = { ce: 0.5, dice: 0.5 };

/** The Synapse configuration of the reference: R50-ViT-B_16, 224×224, 9 classes. */
export const DA_TRANSUNET_SYNAPSE = {
  imageSize: 224,
  inChannels: 3,
  width: 64,
  units: [3, 4, 9],
  groups: 32,
  hidden: 768,
  heads: 12,
  layers: 12,
  mlpRatio: 4,
  headChannels: 512,
  decoderChannels: [256, 128, 64, 16],
  daReduction: 16,
  metadata: {
    dataset: 'synapse',
    // spec §g: 0.5·CE + 0.5·Dice, SGD lr 0.01, momentum 0.9, weight decay 1e-4, batch 24,
    // 150 epochs, poly schedule, the RandomGenerator augmentation (rot90 + flip, or ±20°), seed 1234
    training: {
      epochs: 150,
      batchSize: 24,
      learningRate: 0.01,
      optimizer: 'sgd' as const,
      momentum: 0.9,
      weightDecay: 1e-4,
      augment: true,
      seed: 1234,
      metricConvention: 'synapse' as const,
      loss: DA_LOSS,
    },
  },
};

/**
 * How the demo presets train on the embedded demo data. AdamW and no
 * rot90/flip: lobe labels follow anterior/posterior anatomy that the paper's
 * rotations scramble, and SGD from scratch learns this small set too slowly
 * (bench/demo-learning.ts measures it).
 */
export const DEMO_METADATA: Partial<GraphMetadata> = {
  dataset: 'demo',
  training: {
    epochs: 30,
    batchSize: 4,
    learningRate: 0.001,
    optimizer: 'adamw',
    seed: 1234,
    metricConvention: 'synapse',
    augment: false,
  },
};

/**
 * The demo variant for the embedded brain MRI set: 128×128×1, one bottleneck
 * unit per stage at a quarter of the width, a 4-block ViT of 128 channels
 * (8×8 tokens), DA heads at reduction 8, 8 classes.
 */
export const DA_TRANSUNET_DEMO: DaTransUnetOptions = {
  title: 'Demo: brain MRI parcellation with DA-TransUNet-MAM (STS)',
  description:
    'Small DA-TransUNet-MAM for the embedded demo data (128×128 axial T1 slices, 7 brain regions + background): ResNet stem + 3 bottleneck units (width 16), dual attention on the embedding and two skips, 4 ViT blocks of 128 channels with one memory chain (STS), CUP decoder. Trains with AdamW, batch 4, without rotations and flips (the regions follow anatomy those transforms scramble). Single-subject demo, not a benchmark.',
  imageSize: 128,
  inChannels: 1,
  classNames: DEMO_CLASSES,
  width: 16,
  units: [1, 1, 1],
  groups: 8,
  hidden: 128,
  heads: 4,
  layers: 4,
  mlpRatio: 4,
  headChannels: 64,
  decoderChannels: [64, 32, 16, 16],
  daReduction: 8,
  memory: true,
  metadata: { ...DEMO_METADATA, training: { ...DEMO_METADATA.training, loss: DA_LOSS } },
};
