// "Convert the transformer to MAM (STS)" on DA-TransUNet gives the da-transunet-mam preset
// exactly, back to SAM gives da-transunet, and a swap of one ViT block keeps its weights.
import { describe, expect, it } from 'vitest';
import { applyCommand, type Command } from '../../src/graph/commands.ts';
import { convertToMam, convertToSam } from '../../src/graph/convert.ts';
import { analyzeGraph } from '../../src/graph/infer.ts';
import { presets } from '../../src/graph/presets.ts';
import { swapNodeKind } from '../../src/graph/swap.ts';
import type { GraphDoc } from '../../src/graph/types.ts';
import { catalogue } from '../../nodes/index.ts';

const P = presets(catalogue);
const apply = (doc: GraphDoc, r: { commands: Command[] } | { error: string }) => {
  if ('error' in r) throw new Error(r.error);
  return r.commands.reduce(applyCommand, doc);
};
/** The graph: nodes (type, params, position) by id and the links as a set. */
const graph = (doc: GraphDoc) => ({
  nodes: Object.fromEntries(
    doc.nodes.map((n) => [n.id, { type: n.type, params: n.params, position: n.position }]),
  ),
  links: doc.links.map((l) => `${l.from.node}.${l.from.port}>${l.to.node}.${l.to.port}`).sort(),
});

describe('DA-TransUNet SAM ↔ MAM', () => {
  for (const scope of ['encoder', 'network'] as const) {
    it(`convert the ${scope} to MAM (STS) gives da-transunet-mam exactly, and back to SAM da-transunet`, () => {
      const mam = apply(
        P['da-transunet'],
        convertToMam(P['da-transunet'], { scope, strategy: 'STS', layout: 'window' }, catalogue),
      );
      expect(graph(mam)).toEqual(graph(P['da-transunet-mam']));
      const sam = apply(mam, convertToSam(mam, scope, catalogue));
      expect(graph(sam)).toEqual(graph(P['da-transunet']));
    });
  }

  it('swapping one ViT block SAM → MAM keeps its id and weights', () => {
    const id = 'transformer.encoder.layer.5';
    const doc = apply(P['da-transunet'], swapNodeKind(P['da-transunet'], id, undefined, catalogue));
    const weights = (d: GraphDoc) => analyzeGraph(d, catalogue).nodes.get(id)!.weights;
    expect(doc.nodes.find((n) => n.id === id)!.type).toBe('mam-transunet-block');
    expect(weights(doc)).toEqual(weights(P['da-transunet']));
  });
});
