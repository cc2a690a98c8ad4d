// Copy/paste (src/graph/clipboard.ts) and the automatic U layout (src/graph/layout.ts).
import { describe, expect, it } from 'vitest';
import { applyCommand } from '../../src/graph/commands.ts';
import {
  clipboardFromText,
  clipboardToText,
  copySelection,
  cutSelection,
  pasteClipboard,
} from '../../src/graph/clipboard.ts';
import { analyzeGraph } from '../../src/graph/infer.ts';
import { autoArrange, NODE_BOX } from '../../src/graph/layout.ts';
import { presets } from '../../src/graph/presets.ts';
import type { GraphDoc } from '../../src/graph/types.ts';
import { catalogue } from '../../nodes/index.ts';

const P = presets(catalogue);

describe('clipboard', () => {
  const base = P['swin-unet-mam-ists'];
  const sel = ['layers.0.blocks.0', 'layers.0.blocks.1'];

  it('copies the nodes and only the links among them', () => {
    const c = copySelection(base, sel);
    expect(c.nodes.map((n) => n.id)).toEqual(sel);
    // Between the two, in file order: the memory link and the token link; patch_embed → blocks.0 and blocks.1 → downsample stay behind.
    expect(c.links).toEqual([
      {
        from: { node: 'layers.0.blocks.0', port: 'memOut' },
        to: { node: 'layers.0.blocks.1', port: 'memIn' },
      },
      {
        from: { node: 'layers.0.blocks.0', port: 'out' },
        to: { node: 'layers.0.blocks.1', port: 'in' },
      },
    ]);
  });

  it('pastes with fresh ids, remapped links and an offset; pasting again gives other ids', () => {
    const c = copySelection(base, sel);
    const p1 = pasteClipboard(base, c);
    expect(p1.ids).toEqual({
      'layers.0.blocks.0': 'layers.0.blocks.0_copy',
      'layers.0.blocks.1': 'layers.0.blocks.1_copy',
    });
    const d1 = applyCommand(base, p1.command);
    const orig = base.nodes.find((n) => n.id === 'layers.0.blocks.1')!;
    const copy = d1.nodes.find((n) => n.id === 'layers.0.blocks.1_copy')!;
    expect(copy.position).toEqual([orig.position[0] + 40, orig.position[1] + 40]);
    expect(copy.params).toEqual(orig.params);
    expect(d1.links.slice(base.links.length)).toEqual([
      {
        from: { node: 'layers.0.blocks.0_copy', port: 'memOut' },
        to: { node: 'layers.0.blocks.1_copy', port: 'memIn' },
      },
      {
        from: { node: 'layers.0.blocks.0_copy', port: 'out' },
        to: { node: 'layers.0.blocks.1_copy', port: 'in' },
      },
    ]);
    const p2 = pasteClipboard(d1, c, { offset: [0, 300] });
    expect(Object.values(p2.ids)).toEqual(['layers.0.blocks.0_copy2', 'layers.0.blocks.1_copy2']);
    // A copy of a copy does not grow the suffix.
    const d2 = applyCommand(d1, p2.command);
    const p3 = pasteClipboard(d2, copySelection(d2, ['layers.0.blocks.0_copy']));
    expect(Object.values(p3.ids)).toEqual(['layers.0.blocks.0_copy3']);
    const d3 = applyCommand(d2, p3.command);
    expect(new Set(d3.nodes.map((n) => n.id)).size).toBe(d3.nodes.length);
    expect(
      analyzeGraph(d3, catalogue).issues.filter((i) => i.message.includes('duplicate')),
    ).toEqual([]);
    // The pasted copy is its own chain of two (its token input is unconnected, so it has no shapes yet).
    expect(
      analyzeGraph(d1, catalogue)
        .chains.filter((ch) => ch.units[0].endsWith('_copy'))
        .map((ch) => ch.units),
    ).toEqual([['layers.0.blocks.0_copy', 'layers.0.blocks.1_copy']]);
  });

  it('cut = copy + remove-nodes; text round trip; foreign text refused in words', () => {
    const { clipboard, command } = cutSelection(base, sel);
    expect(command).toEqual({ type: 'remove-nodes', ids: sel });
    const back = clipboardFromText(clipboardToText(clipboard));
    expect(back).toEqual({ ok: true, clipboard });
    expect(clipboardFromText('hello')).toEqual({
      ok: false,
      message: 'the clipboard does not hold mam-studio nodes (it is not JSON)',
    });
    expect(clipboardFromText('{"format":"x"}')).toEqual({
      ok: false,
      message: 'the clipboard does not hold mam-studio nodes',
    });
  });
});

describe('autoArrange', () => {
  const arranged = (doc: GraphDoc) => applyCommand(doc, autoArrange(doc, catalogue));
  const pos = (doc: GraphDoc, id: string) => doc.nodes.find((n) => n.id === id)!.position;

  for (const [name, doc] of Object.entries(P)) {
    it(`${name}: no two ${NODE_BOX.width}×${NODE_BOX.height} boxes overlap; deterministic`, () => {
      const cmd = autoArrange(doc, catalogue);
      expect(cmd.type).toBe('move-nodes');
      const d = applyCommand(doc, cmd);
      for (let i = 0; i < d.nodes.length; i++) {
        for (let j = i + 1; j < d.nodes.length; j++) {
          const [ax, ay] = d.nodes[i].position;
          const [bx, by] = d.nodes[j].position;
          const apart = Math.abs(ax - bx) >= NODE_BOX.width || Math.abs(ay - by) >= NODE_BOX.height;
          expect(apart, `${d.nodes[i].id} overlaps ${d.nodes[j].id}`).toBe(true);
        }
      }
      expect(autoArrange(doc, catalogue)).toEqual(cmd);
      expect(autoArrange(d, catalogue)).toEqual(cmd); // positions do not feed back
    });
  }

  it('Swin-Unet MAM STS enc+dec: a U — encoder stages descend on the left, the bottleneck at the bottom, decoder stages ascend on the right, memory nodes between rows', () => {
    const d = arranged(P['swin-unet-mam-sts-encdec']);
    const a = analyzeGraph(d, catalogue);
    const ys = (ids: string[]) => ids.map((id) => pos(d, id)[1]);
    const stage = (p: string, n: number) => Array.from({ length: n }, (_, j) => `${p}.blocks.${j}`);
    const enc = [
      stage('layers.0', 2),
      stage('layers.1', 2),
      stage('layers.2', 6),
      stage('layers.3', 2),
    ];
    const dec = [stage('layers_up.1', 6), stage('layers_up.2', 2), stage('layers_up.3', 2)];
    for (let i = 0; i < 3; i++) {
      expect(Math.max(...ys(enc[i]))).toBeLessThan(Math.min(...ys(enc[i + 1]))); // stage i above stage i+1
      const m = pos(d, `memory_merging.${i}`)[1];
      expect(m).toBeGreaterThan(Math.max(...ys(enc[i])));
      expect(m).toBeLessThan(Math.min(...ys(enc[i + 1])));
    }
    // The bottleneck is the lowest row.
    const bottom = Math.max(...d.nodes.map((n) => n.position[1]));
    expect(ys(enc[3])).toEqual([bottom, bottom]);
    // Decoder stage k lies on the rows of its mirror encoder stage 3−k, so skip links run across.
    dec.forEach((s, k) => expect(new Set(ys(s))).toEqual(new Set(ys(enc[2 - k]))));
    // On every row, the decoder nodes lie right of the encoder nodes.
    const rows = new Map<number, { enc: number[]; dec: number[] }>();
    for (const n of d.nodes) {
      const scope = a.nodes.get(n.id)!.scope;
      if (n.type.startsWith('memory-') || (scope !== 'encoder' && scope !== 'decoder')) continue;
      const row =
        rows.get(n.position[1]) ??
        rows.set(n.position[1], { enc: [], dec: [] }).get(n.position[1])!;
      row[scope === 'encoder' ? 'enc' : 'dec'].push(n.position[0]);
    }
    for (const [y, r] of rows)
      if (r.enc.length && r.dec.length)
        expect(Math.min(...r.dec), `row ${y}`).toBeGreaterThan(Math.max(...r.enc));
    // Input at the top left, the segmentation at the top right.
    const xs = d.nodes.map((n) => n.position[0]);
    expect(pos(d, 'input')).toEqual([Math.min(...xs), 0]);
    expect(pos(d, 'segmentation')).toEqual([Math.max(...xs), 0]);
  });

  it('wraps a sequential (ViT) graph into rows instead of one line', () => {
    const d = arranged(P['vit-unet-mam-sts']);
    const blocks = d.nodes.filter((n) => n.type === 'mam-vit-block');
    expect(blocks).toHaveLength(8);
    const rows = new Set(blocks.map((n) => n.position[1]));
    expect(rows.size).toBeGreaterThan(1);
    // Each row reads left to right in token-flow order.
    for (let j = 1; j < 8; j++) {
      const [a, b] = [blocks[j - 1].position, blocks[j].position];
      expect(b[1] > a[1] || (b[1] === a[1] && b[0] > a[0]), `blocks.${j}`).toBe(true);
    }
  });
});
