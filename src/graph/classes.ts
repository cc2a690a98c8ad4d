/** Class tables of the data sets the presets are for (index 0 is background). A leaf module: data readers use it too. */

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
