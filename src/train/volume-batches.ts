/**
 * Volumes for a 3D graph (input `[B, D, H, W, C]`): whole cases normalised
 * and laid out channels-last, padded up to the graph's input where smaller,
 * and training batches of random crops of the input's size centred as
 * RandCropByPosNegLabeld (src/data/volume-crops.ts). One step takes its
 * crops from one volume (the reference: batch 1 volume × `crop_sample`
 * patches), so an epoch is one step per training volume.
 */
import type { Plan } from '../compile/plan.ts';
import {
  padToRoi,
  posNegIndices,
  randomCrops,
  type PaddedVolume,
  type Shape3,
} from '../data/volume-crops.ts';
import type { Case } from '../data/types.ts';
import { formatDims } from '../data/types.ts';
import { normaliseVolume, type Normalisation } from './samples.ts';
import {
  applyVolumeAugmentation,
  drawVolumeAugmentation,
  type VolumeAugmentSpec,
} from '../data/volume-augment.ts';

/** How a 3D run draws its batches, as run.json says it (mam_torch writes the same). */
export const volumeSampling = (cropsPerVolume: number, volumes: number) => ({
  volumesPerStep: 1,
  cropsPerVolume,
  stepsPerEpoch: volumes,
  order: 'every training volume once an epoch, in a new shuffled order each epoch (none dropped)',
});

/** The graph's input as a volume: `[D, H, W]` and channels, or null for a 2D graph. */
export function volumeInput(plan: Pick<Plan, 'input'>): { roi: Shape3; channels: number } | null {
  const s = plan.input.shape;
  return s.length === 5 ? { roi: [s[1], s[2], s[3]], channels: s[4] } : null;
}

/** A case's grid as `[D, H, W]` (NIfTI dims [W, H, D]). */
export const caseShape = (c: Case): Shape3 => {
  const d = c.channels[0].dims;
  return [d[2] ?? 1, d[1] ?? 1, d[0]];
};

/**
 * A case's image as `[D, H, W, C]` channels-last, each channel normalised by
 * `normalisation`; one channel is repeated when the graph takes more.
 */
export function caseImage(c: Case, normalisation: Normalisation, channels: number): Float32Array {
  const nc = c.channels.length;
  if (nc !== channels && nc !== 1)
    throw new Error(`case ${c.id} has ${nc} channels but the graph expects ${channels}`);
  const chans = c.channels.map((v) => normaliseVolume(v, normalisation));
  const n = chans[0].length;
  if (nc === 1 && channels === 1) return chans[0];
  const out = new Float32Array(n * channels);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < channels; k++) out[i * channels + k] = chans[nc === 1 ? 0 : k][i];
  return out;
}

export interface VolumeTrainSet {
  volumes: PaddedVolume[];
  indices: { fg: Int32Array; bg: Int32Array }[];
  roi: Shape3;
  channels: number;
}

export function volumeTrainSet(
  cases: readonly Case[],
  normalisation: Normalisation,
  roi: Shape3,
  channels: number,
): VolumeTrainSet {
  const volumes = cases.map((c) => {
    if (!c.label) throw new Error(`case ${c.id} has no label`);
    return padToRoi(
      caseImage(c, normalisation, channels),
      c.label.data,
      caseShape(c),
      channels,
      roi,
    );
  });
  const indices = volumes.map((v, i) => {
    const ix = posNegIndices(v);
    if (ix.fg.length === 0 && ix.bg.length === 0)
      throw new Error(
        `case ${cases[i].id} (${formatDims(caseShape(cases[i]))}) has neither labelled nor non-zero voxels to centre a crop on`,
      );
    return ix;
  });
  return { volumes, indices, roi, channels };
}

/**
 * `count` crops of volume `index` as one batch: image `[count, D, H, W, C]`,
 * labels `[count, D, H, W]`; crop j then augmented by `augment.specs` drawn
 * from `augment.rand(j)` (its own stream, so the crops are the same with or without).
 */
export function volumeBatch(
  set: VolumeTrainSet,
  index: number,
  count: number,
  rand: () => number,
  augment?: { specs: readonly VolumeAugmentSpec[]; rand: (crop: number) => () => number },
): { x: Float32Array; y: Int32Array } {
  const cut = randomCrops(set.volumes[index], set.roi, count, rand, {
    indices: set.indices[index],
  });
  const crops = augment?.specs.length
    ? cut.map((c, j) =>
        applyVolumeAugmentation(
          { image: c.image, label: c.label, shape: set.roi, channels: set.channels },
          drawVolumeAugmentation(augment.specs, augment.rand(j)),
        ),
      )
    : cut;
  const voxels = set.roi[0] * set.roi[1] * set.roi[2];
  const x = new Float32Array(count * voxels * set.channels);
  const y = new Int32Array(count * voxels);
  crops.forEach((c, j) => {
    x.set(c.image, j * voxels * set.channels);
    y.set(c.label, j * voxels);
  });
  return { x, y };
}
