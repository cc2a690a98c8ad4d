/**
 * The graph document: the one source of truth that the editor views, the
 * compiler compiles and files store. Plain JSON-compatible data only.
 */

export const GRAPH_FORMAT = 'mam-studio/graph';
export const GRAPH_VERSION = 1;

export type ParamValue = number | string | boolean | string[];

export interface PortRef {
  node: string;
  port: string;
}

export interface LinkDoc {
  from: PortRef;
  to: PortRef;
}

export interface NodeDoc {
  /** Stable id; presets use the reference PyTorch module path (`layers.0.blocks.1`). */
  id: string;
  /** Node kind id from the catalogue (`swin-block`, `mam-swin-block`, …). */
  type: string;
  params: Record<string, ParamValue>;
  position: [number, number];
  /** Optional display label; the id is shown when absent. */
  label?: string;
}

/** MONAI's RandShiftIntensity on a 3D training crop: with probability `prob`, add an offset from U[−offsets, offsets). */
export interface ShiftIntensitySpec {
  kind: 'shift-intensity';
  offsets: number;
  prob: number;
}

/**
 * MONAI's RandAffine on a 3D training crop (output the crop's size, image
 * bilinear, label nearest, reflection padding): with probability `prob`,
 * rotate by U[−r, r) and scale by 1 + U[−s, s) per axis, in MONAI's axis
 * order (NIfTI i, j, k).
 */
export interface AffineSpec {
  kind: 'affine';
  prob: number;
  rotateRange: [number, number, number];
  scaleRange: [number, number, number];
}

/** One augmentation of a 3D training crop (3D-MAM-SPEC.md §f), applied in list order. */
export type VolumeAugmentSpec = ShiftIntensitySpec | AffineSpec;

/** Sliding-window inference over a whole volume (MONAI's sliding_window_inference), the window the crop. */
export interface SlidingWindowSettings {
  /** Fraction of the window two neighbours share, in [0, 1). */
  overlap: number;
  /** Windows per forward pass (sw_batch_size). */
  batchSize: number;
}

export interface TrainingSettings {
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  optimizer?: 'sgd' | 'adamw';
  /** SGD's momentum; default 0.9 (MAM-SPEC.md section 5). */
  momentum?: number;
  /** The optimiser's weight decay; default 1e-4 for SGD, 0.01 for AdamW. */
  weightDecay?: number;
  seed?: number;
  metricConvention?: 'synapse' | 'monai';
  /**
   * Augmentation; default on. `true`: the family's own (2D: the paper's
   * rot90/flip or small rotations; 3D: the reference's RandShiftIntensity +
   * RandAffine); a list (3D graphs) names the crop augmentations in order;
   * `false`: none (3D: the random crops only).
   */
  augment?: boolean | VolumeAugmentSpec[];
  /** 3D: crops per step, all from one volume (RandCropByPosNegLabeld's num_samples); takes batchSize's place. */
  samplesPerVolume?: number;
  /** 3D: sliding windows over whole volumes at validation and at test. */
  slidingWindow?: { validation?: SlidingWindowSettings; test?: SlidingWindowSettings };
  /** Weights of the loss terms, loss = ce·CE + dice·Dice; default 0.4/0.6 (MAM-SPEC.md section 5). */
  loss?: { ce: number; dice: number };
}

export interface GraphMetadata {
  title?: string;
  description?: string;
  createdWith?: string;
  dataset?: string;
  training?: TrainingSettings;
  tags?: string[];
}

export interface GraphDoc {
  format: typeof GRAPH_FORMAT;
  version: number;
  metadata?: GraphMetadata;
  nodes: NodeDoc[];
  links: LinkDoc[];
}

/** A problem a user can cause, with where it is. `path` is a JSON path into the file. */
export interface GraphIssue {
  path: string;
  message: string;
  node?: string;
  link?: number;
  severity: 'error' | 'warning';
}
