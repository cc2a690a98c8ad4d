// The presets open readable: their auto-arranged box, with the sizes the editor draws nodes at,
// fits the canvas at a zoom where node text can be read. The canvas at a 1280×800 window is
// 760×715 (palette 220 px, side pane 300 px, toolbar and totals bar 85 px); Fit leaves 8% margin.
import { catalogue } from '../../nodes/index.ts';
import { describe, expect, it } from 'vitest';
import { applyCommand } from '../../src/graph/commands.ts';
import { autoArrange } from '../../src/graph/layout.ts';
import { presets } from '../../src/graph/presets.ts';
import type { GraphDoc } from '../../src/graph/types.ts';
import { DRAWN_HEIGHT, DRAWN_WIDTH } from './drawn-sizes.ts';

const P = presets(catalogue);
const CANVAS = { width: 760, height: 715 };
const FIT_SCALE = 0.92;

/** The zoom Fit gives a document on the canvas: the box of the drawn nodes, scaled to fit. */
function fitZoom(doc: GraphDoc, canvas = CANVAS): number {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const n of doc.nodes) {
    const [x, y] = n.position;
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x + DRAWN_WIDTH);
    y1 = Math.max(y1, y + DRAWN_HEIGHT[n.type]);
  }
  return Math.min((canvas.width * FIT_SCALE) / (x1 - x0), (canvas.height * FIT_SCALE) / (y1 - y0));
}

describe('presets open readable', () => {
  it('the demo fits a 1280×800 window’s canvas at zoom ≥ 0.45', () => {
    expect(fitZoom(P['demo-mam'])).toBeGreaterThanOrEqual(0.45);
    // Wider canvases (e.g. the side pane folded away) only help.
    expect(fitZoom(P['demo-mam'], { width: 1060, height: 715 })).toBeGreaterThanOrEqual(0.45);
  });

  it('every preset fits at zoom ≥ 0.3, the largest (45 nodes, DA-TransUNet) included', () => {
    const largest = Object.values(P).reduce((a, b) => (b.nodes.length > a.nodes.length ? b : a));
    expect(largest.nodes).toHaveLength(45);
    for (const [name, doc] of Object.entries(P))
      expect(fitZoom(doc), name).toBeGreaterThanOrEqual(0.3);
  });

  it('presets open as Auto-arrange shows them', () => {
    for (const [name, doc] of Object.entries(P))
      expect(applyCommand(doc, autoArrange(doc, catalogue)).nodes, name).toEqual(doc.nodes);
  });
});
