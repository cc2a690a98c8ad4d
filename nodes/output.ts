import type { NodeKind } from '../src/graph/node-kind.ts';
import { num, unknownResult } from '../src/graph/node-kind.ts';
import { classesParam, DEFAULT_CLASS_NAMES } from './shared/classes.ts';

export const output: NodeKind = {
  type: 'output',
  title: 'Segmentation output',
  category: 'output',
  role: 'output',
  description:
    'The network output: per-pixel logits over the named classes (index 0 is background).',
  params: [
    classesParam,
    {
      name: 'classNames',
      label: 'Class names',
      type: 'string[]',
      default: [...DEFAULT_CLASS_NAMES],
    },
  ],
  inputs: [{ name: 'logits', label: 'logits', socket: 'image' }],
  outputs: [],
  infer({ params, inputs }) {
    const k = num(params, 'classes');
    const names = params.classNames as string[];
    const problems = [];
    if (names.length !== k) {
      problems.push({
        message: `${k} classes but ${names.length} class names: give one name per class`,
      });
    }
    const dupes = names.filter((n, i) => names.indexOf(n) !== i);
    if (dupes.length)
      problems.push({ message: `class names must be unique: '${dupes[0]}' repeats` });
    const x = inputs.logits;
    if (x && x.kind !== 'image')
      problems.push({ port: 'logits', message: `expects logits, got ${x.kind}` });
    else if (x && x.channels !== k) {
      problems.push({
        port: 'logits',
        message: `the head gives ${x.channels} logits per pixel but the output has ${k} classes`,
      });
    }
    return { ...unknownResult(), problems };
  },
};
