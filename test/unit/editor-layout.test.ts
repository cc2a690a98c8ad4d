// The presets open readable: their auto-arranged box, with the sizes the editor draws nodes at,
// fits the canvas at a zoom where node text can be read. The canvas at a 1280×800 window is
// 760×715 (palette 220 px, side pane 300 px, toolbar and totals bar 85 px); Fit leaves 8% margin.
import { catalogue } from '../../nodes/index.ts';
import { describe, expect, it } from 'vitest';
import { applyCommand } from '../../src/graph/commands.ts';
import { autoArrange } from '../../src/graph/layout.ts';
import { presets } from '../../src/graph/presets.ts';
import type { GraphDoc } from '../../src/graph/types.ts';
import { DRAWN_HEIGHT, DRAWN_WIDTH, overlapping } from './drawn-sizes.ts';

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

describe('DA-TransUNet presets lay out as a U', () => {
  const HYBRID = 'transformer.embeddings.hybrid_model';
  it.each(['da-transunet', 'da-transunet-mam', 'da-transunet-mam-demo'])(
    '%s: CNN encoder down the left, ViT at the bottom, CUP decoder up the right',
    (name) => {
      const doc = P[name];
      expect(overlapping(doc)).toEqual([]);
      const pos = new Map(doc.nodes.map((n) => [n.id, n.position]));
      const x = (id: string) => pos.get(id)![0];
      const y = (id: string) => pos.get(id)![1];
      const ids = doc.nodes.map((n) => n.id);
      const vit = ids.filter((id) => id.startsWith('transformer.encoder.layer.'));
      const cup = ids.filter((id) => /^decoder\.blocks\.\d$/.test(id));
      const cnn = ids.filter((id) => id.startsWith(`${HYBRID}.`));
      const stageEnds = [
        `${HYBRID}.root`,
        ...[1, 2, 3].map((s) => {
          const units = cnn.filter((id) => id.startsWith(`${HYBRID}.body.block${s}.unit`));
          return units[units.length - 1];
        }),
      ];
      // Down the left: each ResNet stage below the one before it.
      for (let i = 1; i < stageEnds.length; i++)
        expect(y(stageEnds[i]), stageEnds[i]).toBeGreaterThan(y(stageEnds[i - 1]));
      // Up the right: each CUP block above the one before it, right of the encoder on its row.
      expect(cup).toHaveLength(4);
      for (let i = 1; i < cup.length; i++) expect(y(cup[i]), cup[i]).toBeLessThan(y(cup[i - 1]));
      for (const d of cup) {
        const beside = cnn.filter((id) => y(id) === y(d));
        for (const e of beside) expect(x(e), `${e} left of ${d}`).toBeLessThan(x(d));
      }
      // The bottleneck (the ViT blocks) lowest: every other node above the first ViT row.
      const bottom = Math.min(...vit.map(y));
      for (const id of ids.filter((i) => !vit.includes(i))) expect(y(id), id).toBeLessThan(bottom);
      // The way up from the bottleneck (encoder norm, conv_more) is on the decoder's side.
      const left = Math.max(...cnn.map(x));
      expect(x('decoder.conv_more')).toBeGreaterThan(left);
      expect(x('transformer.encoder.encoder_norm')).toBeGreaterThan(left);
    },
  );
});
