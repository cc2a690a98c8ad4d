/**
 * SwinUNETR(-MAM) and nnFormer(-MAM) as graphs with the reference's module
 * paths as node ids (3D-MAM-SPEC.md §b), so the reference state dicts
 * import by name. MAM: one memory chain per encoder stage (ISTS), from
 * blocks.0 into blocks.1 of every stage (§c.6); decoders have none.
 */
import { presetBuilder, type GraphBuilder } from './builder.ts';
import type { Catalogue } from './node-kind.ts';
import type { GraphDoc, GraphMetadata, VolumeAugmentSpec } from './types.ts';

/**
 * The reference's augmentation of each crop (FLARE, AMOS; §f): RandShiftIntensityd
 * (offsets ±0.10, p 0.5), then RandAffined (p 1, rotation (0, 0, ±π/30) in
 * MONAI's axis order, i.e. about NIfTI k, scale ±0.1 per axis).
 */
export const REFERENCE_VOLUME_AUGMENT: readonly VolumeAugmentSpec[] = [
  { kind: 'shift-intensity', offsets: 0.1, prob: 0.5 },
  { kind: 'affine', prob: 1, rotateRange: [0, 0, Math.PI / 30], scaleRange: [0.1, 0.1, 0.1] },
];

export const FLARE_CLASSES = ['background', 'spleen', 'kidney', 'liver', 'pancreas'];

/**
 * §f: DiceCE (MONAI's DiceCELoss defaults: CE 1 : Dice 1), AdamW lr 1e-4 (weight
 * decay 0.01), 2 crops of the input size (96³) per step, MONAI's Dice convention,
 * the reference's augmentation and sliding windows.
 */
export const FLARE_METADATA: Partial<GraphMetadata> = {
  dataset: 'flare2021',
  training: {
    // --batch_size 1 --crop_sample 2: two crops of one volume per step
    samplesPerVolume: 2,
    learningRate: 1e-4,
    optimizer: 'adamw',
    seed: 0,
    metricConvention: 'monai',
    loss: { ce: 1, dice: 1 },
    // §f: RandShiftIntensityd(offsets 0.10, p 0.5), then RandAffined(p 1, rotation (0, 0, π/30), scale 0.1)
    augment: structuredClone([...REFERENCE_VOLUME_AUGMENT]),
    // main_train.py validates with overlap 0.25, sw_batch_size 2; test_seg.py tests at 0.5, sw_batch_size 4
    slidingWindow: {
      validation: { overlap: 0.25, batchSize: 2 },
      test: { overlap: 0.5, batchSize: 4 },
    },
  },
};

export interface Volume3dOptions {
  title: string;
  description: string;
  /** Input side (cubic) and channels. */
  size: number;
  inChannels: number;
  classNames: string[];
  memory: boolean;
  metadata?: Partial<GraphMetadata>;
}

export interface SwinUnetrOptions extends Volume3dOptions {
  featureSize: number;
  depths: number[];
  heads: number[];
  window: number;
  mergeOrder: 'monai-0.9' | 'all-eight';
}

function start(o: Volume3dOptions, catalogue: Catalogue): GraphBuilder {
  const side = o.size;
  return presetBuilder(catalogue, o, {
    channels: o.inChannels,
    depth: side,
    height: side,
    width: side,
  });
}

/** One encoder stage's blocks: shift 0 / shift on alternate blocks, memory blocks.j → blocks.j+1. */
function stageBlocks(
  b: GraphBuilder,
  stage: string,
  from: string,
  depth: number,
  params: Record<string, number | string | boolean>,
  shift: number,
  memory: boolean,
  dropPath: (j: number) => number = () => 0,
): string {
  let prev = from;
  for (let j = 0; j < depth; j++) {
    const id = `${stage}.blocks.${j}`;
    const rate = dropPath(j);
    b.add(id, memory ? 'mam-swin3d-block' : 'swin3d-block', {
      ...params,
      shift: j % 2 === 1 ? shift : 0,
      ...(rate > 0 ? { dropPath: rate } : {}),
    });
    b.link(prev, id);
    if (memory && j > 0) b.memory(`${stage}.blocks.${j - 1}`, id);
    prev = id;
  }
  return prev;
}

export function swinUnetr(o: SwinUnetrOptions, catalogue: Catalogue): GraphDoc {
  const b = start(o, catalogue);
  const f = o.featureSize;
  b.add('swinViT.patch_embed', 'patch-embed-3d', { patch: 2, embedDim: f });
  b.link('input', 'swinViT.patch_embed');
  // hidden states hs0..hs4: LNc of the embedding and of every stage's (merged) output
  const hs = ['swinViT.proj_out.0'];
  b.add(hs[0], 'hidden-norm-3d', {});
  b.link('swinViT.patch_embed', hs[0]);
  let prev = 'swinViT.patch_embed';
  o.depths.forEach((depth, i) => {
    const stage = `swinViT.layers${i + 1}.0`;
    const last = stageBlocks(
      b,
      stage,
      prev,
      depth,
      { heads: o.heads[i], window: o.window, flavour: 'swinunetr' },
      Math.floor(o.window / 2),
      o.memory,
    );
    b.add(`${stage}.downsample`, 'patch-merging-3d', { order: o.mergeOrder });
    b.link(last, `${stage}.downsample`);
    prev = `${stage}.downsample`;
    const h = `swinViT.proj_out.${i + 1}`;
    b.add(h, 'hidden-norm-3d', {});
    b.link(prev, h);
    hs.push(h);
  });
  const enc = (id: string, from: string, out: number) => {
    b.add(id, 'unetr-basic-block', { outChannels: out });
    b.link(from, id);
  };
  enc('encoder1', 'input', f);
  enc('encoder2', hs[0], f);
  enc('encoder3', hs[1], 2 * f);
  enc('encoder4', hs[2], 4 * f);
  enc('encoder10', hs[4], 16 * f);
  const up = (id: string, from: string, skip: string, out: number) => {
    b.add(id, 'unetr-up-block', { outChannels: out });
    b.link(from, id);
    b.link(skip, id, 'out', 'skip');
  };
  up('decoder5', 'encoder10', hs[3], 8 * f);
  up('decoder4', 'decoder5', 'encoder4', 4 * f);
  up('decoder3', 'decoder4', 'encoder3', 2 * f);
  up('decoder2', 'decoder3', 'encoder2', f);
  up('decoder1', 'decoder2', 'encoder1', f);
  const k = o.classNames.length;
  b.add('out.conv.conv', 'conv3d', {
    outChannels: k,
    kernel: '1,1,1',
    stride: '1,1,1',
    padding: '0,0,0',
    bias: true,
  });
  b.link('decoder1', 'out.conv.conv');
  b.add('segmentation', 'output', { classes: k, classNames: o.classNames });
  b.link('out.conv.conv', 'segmentation', 'out', 'logits');
  return b.doc;
}

export interface NnformerOptions extends Volume3dOptions {
  embedDim: number;
  depths: number[];
  heads: number[];
  windows: number[];
  patch: [number, number, number];
  /**
   * Training's drop-path, the reference's rule (§f): encoder blocks
   * linspace(0, rate, all encoder blocks), decoder blocks linspace(0, rate,
   * the blocks of all stages but the last), decoder.layers.0 (run last) the highest.
   */
  dropPathRate?: number;
}

/** `linspace(0, rate, n)[i]`, as torch.linspace (0 where n is 1). */
const linspaceAt = (rate: number, n: number, i: number) => (n > 1 ? (rate * i) / (n - 1) : 0);

export function nnformer(o: NnformerOptions, catalogue: Catalogue): GraphDoc {
  const b = start(o, catalogue);
  b.add('model_down.patch_embed', 'nnformer-stem', {
    embedDim: o.embedDim,
    patch: o.patch.join(','),
  });
  b.link('input', 'model_down.patch_embed');
  let prev = 'model_down.patch_embed';
  const skips: string[] = [];
  const n = o.depths.length;
  const rate = o.dropPathRate ?? 0;
  const before = (i: number) => o.depths.slice(0, i).reduce((a, d) => a + d, 0);
  const encoderBlocks = before(n);
  const decoderBlocks = before(n - 1);
  const decoderRate = (k: number, j: number): Record<string, number> => {
    // the reversed ModuleList (§g.9): decoder.layers.0, which runs last, takes the highest rates
    const r = linspaceAt(rate, decoderBlocks, decoderBlocks - before(k + 1) + j);
    return r > 0 ? { dropPath: r } : {};
  };
  o.depths.forEach((depth, i) => {
    const stage = `model_down.layers.${i}`;
    const last = stageBlocks(
      b,
      stage,
      prev,
      depth,
      { heads: o.heads[i], window: o.windows[i], flavour: 'nnformer' },
      Math.floor(o.windows[i] / 2),
      o.memory,
      (j) => linspaceAt(rate, encoderBlocks, before(i) + j),
    );
    b.add(`model_down.norm${i}`, 'layer-norm', {});
    b.link(last, `model_down.norm${i}`);
    skips.push(`model_down.norm${i}`);
    if (i < n - 1) {
      b.add(`${stage}.downsample`, 'nnformer-merging', {});
      b.link(last, `${stage}.downsample`);
      prev = `${stage}.downsample`;
    }
  });
  // decoder.layers.k runs for k = n−2 … 0 (the ModuleList is reversed, §g.9)
  prev = skips[n - 1];
  for (let k = n - 2; k >= 0; k--) {
    const stage = `decoder.layers.${k}`;
    b.add(`${stage}.Upsample`, 'nnformer-expanding', {});
    b.link(prev, `${stage}.Upsample`);
    b.add(`${stage}.blocks.0`, 'nnformer-kv-block', {
      heads: o.heads[k],
      window: o.windows[k],
      ...decoderRate(k, 0),
    });
    b.link(`${stage}.Upsample`, `${stage}.blocks.0`);
    b.link(skips[k], `${stage}.blocks.0`, 'out', 'skip');
    b.add(`${stage}.blocks.1`, 'swin3d-block', {
      heads: o.heads[k],
      window: o.windows[k],
      shift: Math.floor(o.windows[k] / 2),
      flavour: 'nnformer',
      ...decoderRate(k, 1),
    });
    b.link(`${stage}.blocks.0`, `${stage}.blocks.1`);
    prev = `${stage}.blocks.1`;
  }
  const k = o.classNames.length;
  b.add('final.0', 'nnformer-head', { outChannels: k, kernel: o.patch.join(',') });
  b.link(prev, 'final.0');
  b.add('segmentation', 'output', { classes: k, classNames: o.classNames });
  b.link('final.0', 'segmentation', 'out', 'logits');
  return b.doc;
}

/** What the reference's SwinUNETR and nnFormer configurations share with the demos (§b). */
const SWINUNETR_LAYOUT = {
  inChannels: 1,
  depths: [2, 2, 2, 2],
  heads: [3, 6, 12, 24],
  mergeOrder: 'monai-0.9',
} as const satisfies Partial<SwinUnetrOptions>;
const NNFORMER_LAYOUT = {
  inChannels: 1,
  depths: [2, 2, 2, 2],
  windows: [4, 4, 8, 4],
  patch: [2, 4, 4],
} as const satisfies Partial<NnformerOptions>;

const PAPER_3D = 'FLARE 2021: SwinUNETR 92.7 → 93.3 DSC, nnFormer 88.7 → 89.9 DSC with MAM';

/** SwinUNETR(-MAM) for FLARE (§b.1): 96³ × 1, 5 classes, feature size 48. */
export const swinUnetrFlare = (memory: boolean, catalogue: Catalogue): GraphDoc =>
  swinUnetr(
    {
      title: memory ? 'SwinUNETR-MAM (ISTS)' : 'SwinUNETR (SAM)',
      description: `3D Swin encoder (patch 2, feature size 48, depths 2-2-2-2, heads 3-6-12-24, window 7³, ${memory ? 'a memory chain per encoder stage (ISTS)' : 'self-attention'}) with MONAI's CNN decoder; 96³ × 1, 5 FLARE classes. After 3D-MAM-SPEC.md (${PAPER_3D}).`,
      size: 96,
      ...SWINUNETR_LAYOUT,
      classNames: FLARE_CLASSES,
      memory,
      featureSize: 48,
      window: 7,
      metadata: FLARE_METADATA,
    },
    catalogue,
  );

/** nnFormer(-MAM) for FLARE (§b.2): 96³ × 1, 5 classes, embed 192, patch (2,4,4). */
export const nnformerFlare = (memory: boolean, catalogue: Catalogue): GraphDoc =>
  nnformer(
    {
      title: memory ? 'nnFormer-MAM (ISTS)' : 'nnFormer (SAM)',
      description: `Conv stem (patch 2,4,4), 4-stage local-window transformer (embed 192, depths 2-2-2-2, heads 6-12-24-48, windows 4-4-8-4, ${memory ? 'a memory chain per encoder stage (ISTS)' : 'self-attention'}), cross-attention decoder, transposed-conv head; 96³ × 1, 5 FLARE classes. After 3D-MAM-SPEC.md (${PAPER_3D}).`,
      size: 96,
      ...NNFORMER_LAYOUT,
      classNames: FLARE_CLASSES,
      memory,
      embedDim: 192,
      heads: [6, 12, 24, 48],
      // §f: nnFormer's drop_path_rate 0.2 (SwinUNETR has none)
      dropPathRate: 0.2,
      metadata: FLARE_METADATA,
    },
    catalogue,
  );

/**
 * The 3D demos' protocol: the reference's (§f), on 64³ crops (the graph's
 * input size), without its augmentation: a demo run is a few hundred steps
 * on one subject, short of the 40,000 over hundreds of volumes the shifts
 * and rotations are there to regularise; one crop a step, not two (at
 * 2.5 mm a 64³ crop holds nearly the whole 66×79×66 brain, so a second crop
 * is nearly the same and doubles the step's cost); 400 steps at AdamW 3e-3
 * instead of 40,000 at 1e-4; the reference's sliding windows (validation
 * overlap 0.25, test 0.5).
 */
export const DEMO3D_METADATA: Partial<GraphMetadata> = {
  ...FLARE_METADATA,
  dataset: 'demo3d',
  training: {
    ...FLARE_METADATA.training,
    epochs: 400,
    samplesPerVolume: 1,
    learningRate: 3e-3,
    augment: false,
  },
};

/** Why the demos' run is not the reference's, in their descriptions. */
const DEMO3D_TRAINING =
  "Trains 400 steps of one crop with AdamW at 3e-3, thirty times the reference's 1e-4 (the reference runs 40,000 steps of two crops): on the demo set nnFormer's test Dice rises sooner at 3e-3 than at 1e-3, and one crop a step learns more per CPU second than two (npm run bench -- demo-learning).";

const DEMO3D_NOTE =
  "for the 3D demo set (three synthetic whole brains at 2.5 mm, each the 2D demo's T1 brain and atlas under its own seeded deformation, 7 regions + background; without the reference's intensity shifts and small rotations, which a short run on one subject learns slower with: turn Augment on to use them); single-subject demo, not a benchmark";

/** SwinUNETR(-MAM) for the 3D demo: 64³ (or `size`³) × 1, feature size 12, window 4³, 8 classes (SAM with `memory: false`). */
export const swinUnetrDemo = (
  classNames: string[],
  memory: boolean,
  catalogue: Catalogue,
  size = 64,
): GraphDoc =>
  swinUnetr(
    {
      title: `Demo 3D: SwinUNETR${memory ? '-MAM (ISTS)' : ' (SAM)'}`,
      description: `SwinUNETR${memory ? '-MAM' : ''} at feature size 12 (depths 2-2-2-2, heads 3-6-12-24, window 4³: at 7³ the first stage's attention of a 64³ crop outgrows wasm's memory in training${memory ? ', a memory chain per encoder stage' : ''}), ${size}³ × 1, ${DEMO3D_NOTE}. ${DEMO3D_TRAINING}`,
      size,
      ...SWINUNETR_LAYOUT,
      classNames,
      memory,
      featureSize: 12,
      window: 4,
      metadata: DEMO3D_METADATA,
    },
    catalogue,
  );

/** nnFormer(-MAM) for the 3D demo: 64³ (or `size`³) × 1, embed 24, heads 2-4-8-16 (head dim 12), 8 classes. */
export const nnformerDemo = (
  classNames: string[],
  memory: boolean,
  catalogue: Catalogue,
  size = 64,
): GraphDoc =>
  nnformer(
    {
      title: `Demo 3D: nnFormer${memory ? '-MAM (ISTS)' : ' (SAM)'}`,
      description: `nnFormer${memory ? '-MAM' : ''} at embed 24 (patch 2,4,4, depths 2-2-2-2, heads 2-4-8-16, windows 4-4-8-4${memory ? ', a memory chain per encoder stage' : ''}), ${size}³ × 1, ${DEMO3D_NOTE}. ${DEMO3D_TRAINING}`,
      size,
      ...NNFORMER_LAYOUT,
      classNames,
      memory,
      embedDim: 24,
      heads: [2, 4, 8, 16],
      metadata: DEMO3D_METADATA,
    },
    catalogue,
  );
