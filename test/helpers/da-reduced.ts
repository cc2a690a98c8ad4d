/**
 * A reduced DA-TransUNet architecture for differential tests: 64×64×3 → ResNet
 * 32/16/8/4 (units 1-2-1, width 8) → ViT 4×4×32 (3 blocks, 4 heads) → CUP → 3 classes.
 */
export const REDUCED_DA = {
  imageSize: 64,
  inChannels: 3,
  classes: 3,
  width: 8,
  units: [1, 2, 1],
  groups: 4,
  hidden: 32,
  heads: 4,
  layers: 3,
  mlpRatio: 2,
  headChannels: 32,
  decoderChannels: [16, 8, 8, 4],
  daReduction: 4,
};
