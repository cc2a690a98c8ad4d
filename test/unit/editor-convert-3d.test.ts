// Convert SAM → MAM (ISTS) on the 3D presets gives the MAM presets exactly (3D-MAM-SPEC.md §c.6:
// one chain per encoder stage, blocks.0 → blocks.1; decoders none), and back to SAM the SAM
// presets; the counts stay those of §k; a swap of one 3D Swin block keeps its links and weights.
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

// §k
const SPEC_K = {
  swinunetr: { params: 62_186_855, linearConv: 306_708_793_344, attention: 11_433_733_440 },
  nnformer: { params: 149_265_629, linearConv: 172_427_968_512, attention: 3_979_653_120 },
};
// §b: the encoder stages' module paths.
const STAGES = {
  swinunetr: [1, 2, 3, 4].map((i) => `swinViT.layers${i}.0`),
  nnformer: [0, 1, 2, 3].map((i) => `model_down.layers.${i}`),
};

describe.each(['swinunetr', 'nnformer'] as const)('%s SAM ↔ MAM (ISTS)', (family) => {
  for (const scope of ['encoder', 'network'] as const) {
    it(`convert the ${scope} to MAM (ISTS) gives ${family}-mam exactly, and back to SAM ${family}`, () => {
      const r = convertToMam(P[family], { scope, strategy: 'ISTS', layout: 'window' }, catalogue);
      const mam = apply(P[family], r);
      expect(graph(mam)).toEqual(graph(P[`${family}-mam`]));
      const a = analyzeGraph(mam, catalogue);
      expect(a.issues.filter((i) => i.severity === 'error')).toEqual([]);
      expect({ params: a.params, ...a.macs }).toEqual(SPEC_K[family]);
      expect(a.chains.map((c) => [c.strategy, c.scope, c.units])).toEqual(
        STAGES[family].map((s) => ['ISTS', 'encoder', [`${s}.blocks.0`, `${s}.blocks.1`]]),
      );
      const sam = apply(mam, convertToSam(mam, scope, catalogue));
      expect(graph(sam)).toEqual(graph(P[family]));
    });
  }

  it('a layout other than the window one is refused, naming the unit', () => {
    const r = convertToMam(
      P[family],
      { scope: 'encoder', strategy: 'ISTS', layout: 'spatial' },
      catalogue,
    );
    expect(r).toEqual({
      error: `a Memory-attention unit 3D ('${STAGES[family][0]}.blocks.0') keeps its memory in window layout only: convert with the window layout`,
    });
  });

  it('STS is refused: memory does not cross the stages of a 3D network, and nothing changes', () => {
    const r = convertToMam(
      P[family],
      { scope: 'encoder', strategy: 'STS', layout: 'window' },
      catalogue,
    );
    expect('error' in r && r.error).toMatch(
      /^memory cannot pass from the stage at .* to the stage at .*: in a 3D network memory starts afresh at every stage \(3D-MAM-SPEC\.md §c\.6\).*; use ISTS/,
    );
  });

  it('swapping one 3D Swin block SAM → MAM keeps its id, links and weights, and back', () => {
    const id = `${STAGES[family][1]}.blocks.1`;
    const base = P[family];
    const doc = apply(base, swapNodeKind(base, id, 'mam-swin3d-block', catalogue));
    const node = doc.nodes.find((n) => n.id === id)!;
    expect(node.type).toBe('mam-swin3d-block');
    expect(node.params).toEqual(base.nodes.find((n) => n.id === id)!.params);
    expect(graph(doc).links).toEqual(graph(base).links);
    const weights = (d: GraphDoc) => analyzeGraph(d, catalogue).nodes.get(id)!.weights;
    expect(weights(doc)).toEqual(weights(base));
    expect(weights(doc).length).toBeGreaterThan(0);
    const back = apply(doc, swapNodeKind(doc, id, 'swin3d-block', catalogue));
    expect(graph(back)).toEqual(graph(base));
  });
});

it('nnFormer: converting the network leaves the one-block decoder stages as self-attention and says so', () => {
  const r = convertToMam(
    P.nnformer,
    { scope: 'network', strategy: 'ISTS', layout: 'window' },
    catalogue,
  );
  expect('note' in r && r.note).toMatch(
    /Left 3 one-block stages \(decoder\.layers\.2\.blocks\.1, decoder\.layers\.1\.blocks\.1, decoder\.layers\.0\.blocks\.1\) as self-attention/,
  );
});
