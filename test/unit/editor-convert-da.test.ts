// "Convert the transformer to MAM (STS)" on DA-TransUNet gives the da-transunet-mam preset
// exactly, back to SAM gives da-transunet, and a swap of one ViT block keeps its weights.
import { describe, expect, it } from 'vitest';
import { convertToMam, convertToSam } from '../../src/graph/convert.ts';
import { analyzeGraph } from '../../src/graph/infer.ts';
import { presets } from '../../src/graph/presets.ts';
import { swapNodeKind } from '../../src/graph/swap.ts';
import type { GraphDoc } from '../../src/graph/types.ts';
import { catalogue } from '../../nodes/index.ts';
import { applyResult, graphOf } from './graph-sameness.ts';

const P = presets(catalogue);
const apply = applyResult;
const graph = graphOf;

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
