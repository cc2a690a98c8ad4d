/** The class count of the Segmentation head and the Segmentation output: one spec, one default, so new ones agree. */
import { DEFAULT_CLASS_NAMES } from '../../src/graph/classes.ts';
import type { ParamSpec } from '../../src/graph/node-kind.ts';

export const classesParam: ParamSpec = {
  name: 'classes',
  label: 'Classes',
  type: 'int',
  default: DEFAULT_CLASS_NAMES.length,
  min: 1,
  max: 1024,
};

export { DEFAULT_CLASS_NAMES };
