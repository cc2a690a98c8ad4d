/** Class tables of the data sets the presets are for (index 0 is background). A leaf module: data readers use it too. */

/** What a new Segmentation head and Segmentation output start with, so the two agree. */
export const DEFAULT_CLASS_NAMES: readonly string[] = ['background', 'foreground'];

export const SYNAPSE_CLASSES = [
  'background',
  'aorta',
  'gallbladder',
  'left kidney',
  'right kidney',
  'liver',
  'pancreas',
  'spleen',
  'stomach',
];

export const DEMO_CLASSES = [
  'background',
  'frontal',
  'limbic',
  'occipital',
  'parietal',
  'deep grey',
  'temporal',
  'cerebellum',
];
