// A node kind a host registers itself (not one of ours): it multiplies every
// token by one learned gain. Pure spec, no tensor library, so a host page can
// load it on the main thread; the unit tests add its kernel.
import {
  isProblem,
  product,
  tokensIn,
  unknownResult,
  type Catalogue,
  type NodeKind,
} from '../../src/graph/node-kind.ts';

export const toyGain: NodeKind = {
  type: 'toy-gain',
  title: 'Gain',
  category: 'norm',
  role: 'plain',
  description: 'Scales the tokens by a learned factor.',
  params: [],
  inputs: [{ name: 'in', label: 'tokens', socket: 'tokens' }],
  outputs: [{ name: 'out', label: 'tokens', socket: 'tokens' }],
  infer(ctx) {
    const t = tokensIn(ctx);
    if (!t) return unknownResult();
    if (isProblem(t)) return unknownResult([t]);
    return {
      outputs: { out: { kind: 'tokens', grid: t.grid, channels: t.channels } },
      problems: [],
      weights: [{ name: 'gain', shape: [1], init: 'ones' }],
      macs: { linearConv: product(t.grid) * t.channels, attention: 0 },
    };
  },
};

/** `base` with the toy kind added at the end (palette order). */
export const withToyKind = (base: Catalogue): Catalogue =>
  new Map([...base, [toyGain.type, toyGain]]);
