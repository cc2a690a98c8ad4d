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

describe('3D presets lay out as a U', () => {
  const place = (doc: GraphDoc) => {
    const pos = new Map(doc.nodes.map((n) => [n.id, n.position]));
    return { x: (id: string) => pos.get(id)![0], y: (id: string) => pos.get(id)![1] };
  };

  it.each(['swinunetr', 'swinunetr-mam'])(
    '%s: Swin stages and their CNN encoder blocks down the left, up-blocks up the right across from their skips',
    (name) => {
      const doc = P[name];
      expect(overlapping(doc)).toEqual([]);
      const { x, y } = place(doc);
      const stage = (i: number) => `swinViT.layers${i}.0.blocks.0`;
      for (let i = 2; i <= 4; i++) expect(y(stage(i)), stage(i)).toBeGreaterThan(y(stage(i - 1)));
      // decoder k reads skip k (encoder k, or hidden state 3 for decoder 5) and sits on its row, right of it.
      const skips: [string, string][] = [
        ['decoder1', 'encoder1'],
        ['decoder2', 'encoder2'],
        ['decoder3', 'encoder3'],
        ['decoder4', 'encoder4'],
        ['decoder5', 'swinViT.proj_out.3'],
      ];
      for (const [d, s] of skips) {
        expect(y(d), `${d} on the row of ${s}`).toBe(y(s));
        expect(x(d), `${d} right of ${s}`).toBeGreaterThan(x(s));
      }
      for (let k = 2; k <= 5; k++) expect(y(`decoder${k}`)).toBeGreaterThan(y(`decoder${k - 1}`));
      // Each stage's blocks on the row of the CNN encoder block its hidden state feeds.
      for (let i = 1; i <= 3; i++) expect(y(stage(i))).toBe(y(`encoder${i + 1}`));
      // The bottleneck (encoder10) lowest; the ends (input, output) on the top row.
      for (const n of doc.nodes.filter(
        (m) => m.id !== 'encoder10' && m.id !== 'swinViT.proj_out.4',
      ))
        expect(y(n.id), n.id).toBeLessThan(y('encoder10'));
      expect(y('input')).toBe(y('segmentation'));
      expect(x('segmentation')).toBeGreaterThan(x('encoder1'));
    },
  );

  it.each(['nnformer', 'nnformer-mam'])(
    '%s: encoder stages down the left, decoder stages up the right across from their skips',
    (name) => {
      const doc = P[name];
      expect(overlapping(doc)).toEqual([]);
      const { x, y } = place(doc);
      const enc = (i: number) => `model_down.layers.${i}.blocks.0`;
      for (let i = 1; i <= 3; i++) expect(y(enc(i))).toBeGreaterThan(y(enc(i - 1)));
      for (let k = 0; k <= 2; k++) {
        const d = `decoder.layers.${k}.blocks.0`;
        expect(y(d), d).toBe(y(enc(k)));
        expect(x(d), d).toBeGreaterThan(x(`model_down.norm${k}`));
      }
      for (const n of doc.nodes.filter((m) => !m.id.startsWith('model_down.layers.3.')))
        if (n.id !== 'model_down.norm3') expect(y(n.id), n.id).toBeLessThan(y(enc(3)));
    },
  );
});
