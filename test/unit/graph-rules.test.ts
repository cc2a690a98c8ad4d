// Interaction rules (src/graph/rules.ts): which links the canvas may draw, decided on the document alone.
import { catalogue } from '../../nodes/index.ts';
import { describe, expect, it } from 'vitest';
import { presets } from '../../src/graph/presets.ts';
import { canConnect } from '../../src/graph/rules.ts';
import type { GraphDoc, LinkDoc } from '../../src/graph/types.ts';

const demo = presets(catalogue)['demo-mam'];
const link = (from: string, fromPort: string, to: string, toPort: string): LinkDoc => ({
  from: { node: from, port: fromPort },
  to: { node: to, port: toPort },
});

describe('canConnect', () => {
  it("refuses the issue's drag: a memory output onto the image input of patch_embed, in words", () => {
    const v = canConnect(demo, link('layers.0.blocks.0', 'memOut', 'patch_embed', 'in'), catalogue);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.reason).toMatch(
      /^Link refused: .*'layers\.0\.blocks\.0' gives memory, but .* of patch_embed takes image\.$/,
    );
  });

  it('refuses tokens onto a memory input, with the memory hint', () => {
    const v = canConnect(
      demo,
      link('layers.0.blocks.0', 'out', 'layers.0.blocks.1', 'memIn'),
      catalogue,
    );
    expect(v).toEqual({
      ok: false,
      reason: expect.stringMatching(
        /gives tokens, .* takes memory\. Memory links join memory ports/,
      ),
    });
  });

  it('refuses a self-loop, on any port pair', () => {
    expect(
      canConnect(demo, link('layers.0.blocks.0', 'out', 'layers.0.blocks.0', 'in'), catalogue),
    ).toEqual({
      ok: false,
      reason: "A node cannot feed itself ('layers.0.blocks.0').",
    });
    expect(
      canConnect(demo, link('layers.0.blocks.1', 'memOut', 'layers.0.blocks.1', 'memIn'), catalogue)
        .ok,
    ).toBe(false);
  });

  it('refuses ports and nodes that do not exist', () => {
    expect(canConnect(demo, link('input', 'nope', 'patch_embed', 'in'), catalogue)).toEqual({
      ok: false,
      reason: "Link refused: 'input' has no output 'nope'.",
    });
    expect(canConnect(demo, link('input', 'out', 'ghost', 'in'), catalogue)).toEqual({
      ok: false,
      reason: "Link refused: 'ghost' has no input 'in'.",
    });
  });

  it('allows links of one socket kind, also where shapes disagree (inference marks those), and replacing a fed input', () => {
    // 32×32×32 memory into the 16×16×64 stage: allowed, shown as a problem afterwards.
    expect(
      canConnect(
        demo,
        link('layers.0.blocks.1', 'memOut', 'layers.1.blocks.0', 'memIn'),
        catalogue,
      ),
    ).toEqual({
      ok: true,
    });
    // patch_embed.in is fed by input already; another image source may replace it.
    expect(canConnect(demo, link('input', 'out', 'patch_embed', 'in'), catalogue)).toEqual({
      ok: true,
    });
  });

  it('a node of an unknown type takes and gives any kind (its ports are whatever its links name)', () => {
    const doc: GraphDoc = {
      ...demo,
      nodes: [...demo.nodes, { id: 'x', type: 'future-node', params: {}, position: [0, 0] }],
    };
    expect(
      canConnect(doc, link('layers.0.blocks.0', 'memOut', 'x', 'anything'), catalogue).ok,
    ).toBe(true);
    expect(canConnect(doc, link('x', 'out', 'patch_embed', 'in'), catalogue).ok).toBe(true);
  });
});
