// Interaction rules for the canvas, decided on the document alone: what a
// palette drop does (swap, add or refuse) and where a new node is placed.
import { describe, expect, it } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { centrePosition, dropPosition, pointPosition } from '../../src/graph/new-node.ts';
import { presets } from '../../src/graph/presets.ts';
import { canSwapTo, dropDecision } from '../../src/graph/rules.ts';
import { withToyKind } from '../helpers/toy-kind.ts';

const demo = presets(catalogue)['demo-mam'];

describe('dropDecision', () => {
  it('on empty canvas adds the kind', () => {
    expect(dropDecision(demo, 'swin-block', undefined, catalogue)).toEqual({ action: 'add' });
  });

  it('onto a block of its counterpart swaps it (SAM ↔ MAM), in either direction', () => {
    // demo-mam's encoder blocks are MAM units, its decoder blocks SAM
    expect(demo.nodes.find((n) => n.id === 'layers.0.blocks.0')?.type).toBe('mam-swin-block');
    expect(dropDecision(demo, 'swin-block', 'layers.0.blocks.0', catalogue)).toEqual({
      action: 'swap',
      id: 'layers.0.blocks.0',
    });
    const sam = demo.nodes.find((n) => n.type === 'swin-block')!;
    expect(dropDecision(demo, 'mam-swin-block', sam.id, catalogue)).toEqual({
      action: 'swap',
      id: sam.id,
    });
  });

  it('onto any other node is refused, naming both kinds', () => {
    expect(dropDecision(demo, 'swin-block', 'patch_embed', catalogue)).toEqual({
      action: 'refuse',
      reason:
        "A Swin block (SAM) cannot replace 'patch_embed' (Patch embed); drop it on empty canvas to add it.",
    });
    // the same kind is no swap either
    expect(dropDecision(demo, 'mam-swin-block', 'layers.0.blocks.0', catalogue).action).toBe(
      'refuse',
    );
  });

  it('follows the catalogue passed in: a host kind without a counterpart never swaps', () => {
    const host = withToyKind(catalogue);
    expect(canSwapTo(demo, 'layers.0.blocks.0', 'toy-gain', host)).toBe(false);
    const r = dropDecision(demo, 'toy-gain', 'layers.0.blocks.0', host);
    expect(r.action === 'refuse' && r.reason).toMatch(
      /^A Gain cannot replace 'layers\.0\.blocks\.0'/,
    );
    expect(canSwapTo(demo, 'no-such-node', 'swin-block', catalogue)).toBe(false);
  });
});

describe('new node placement', () => {
  it('a drop puts the title bar under the pointer, in whole canvas units', () => {
    expect(dropPosition({ x: 120.4, y: 50.6 })).toEqual([100, 37]);
  });

  it('a click centres a 220×120 node in the view', () => {
    // 1000×600 view, zoom 2, translated by (100, 50): the middle (500, 300) is canvas (200, 125)
    expect(centrePosition({ k: 2, x: 100, y: 50 }, { width: 1000, height: 600 })).toEqual([90, 65]);
    // at zoom 1 with no translation the middle of a 440×240 view is (220, 120)
    expect(centrePosition({ k: 1, x: 0, y: 0 }, { width: 440, height: 240 })).toEqual([110, 60]);
  });

  it('a menu add lands at the pointer', () => {
    expect(pointPosition([10.5, -3.2])).toEqual([11, -3]);
  });
});
