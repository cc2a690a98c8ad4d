// The editor's canvas driven as a user drives it: palette drags, links drawn
// between sockets, context menu, shortcuts. State is read through window.__mam.
// Every test gets its own page (fresh storage) and opens the document it needs.
import { catalogue } from '../../nodes/index.ts';
import { describe, expect, it } from 'vitest';
import { presets } from '../../src/graph/presets.ts';
import { SHORTCUTS, chordText } from '../../editor/keyboard.ts';
import {
  bringIntoView,
  boxOf,
  canvasBox,
  centre,
  connect,
  contextMenu,
  doc,
  drag,
  dragFromPalette,
  editorTests,
  expectToast,
  graphOf,
  menuItem,
  node,
  nodesOutsideCanvas,
  nodeType,
  openGraph,
  settle,
  socket,
  zoom,
} from './editor-helpers.ts';

/** Image input → patch embedding → Swin block, in a row, as a person would first build. */
const chain = () =>
  graphOf(
    [
      { id: 'input', type: 'image-input', position: [0, 0] },
      { id: 'embed', type: 'patch-embed', position: [260, 0] },
      { id: 'block', type: 'swin-block', position: [520, 0] },
    ],
    [
      ['input', 'out', 'embed', 'in'],
      ['embed', 'out', 'block', 'in'],
    ],
  );

const selected = (page: import('playwright-core').Page) =>
  page.evaluate(() => window.__mam!.selected);

describe('editor canvas', () => {
  const t = editorTests();

  it('builds a graph from palette drags and drawn links, with shapes shown', async () => {
    const { page } = t;
    await page.getByTestId('new').click();
    await settle(page);
    expect((await doc(page)).nodes).toHaveLength(0);

    const c = await canvasBox(page);
    await dragFromPalette(page, 'image-input', { x: c.x + 60, y: c.y + 120 });
    await dragFromPalette(page, 'patch-embed', { x: c.x + 300, y: c.y + 120 });
    await dragFromPalette(page, 'swin-block', { x: c.x + 540, y: c.y + 120 });
    const d = await doc(page);
    expect(d.nodes.map((n) => n.type)).toEqual(['image-input', 'patch-embed', 'swin-block']);
    const [input, embed, block] = d.nodes.map((n) => n.id);

    await connect(page, [input, 'out'], [embed, 'in']);
    await connect(page, [embed, 'out'], [block, 'in']);
    expect((await doc(page)).links).toEqual([
      { from: { node: input, port: 'out' }, to: { node: embed, port: 'in' } },
      { from: { node: embed, port: 'out' }, to: { node: block, port: 'in' } },
    ]);
    // Inference reran: the block shows its output shape and its counts.
    const a = await page.evaluate(
      () => window.__mam!.analysis.nodes.get(window.__mam!.doc.nodes[2].id)!.outputs.out,
    );
    expect(a).toMatchObject({ kind: 'tokens' });
    await expect
      .poll(() => node(page, block).getByTestId('shape-out').textContent())
      .toMatch(/^\d+×\d+×\d+$/);
    await expect
      .poll(() => node(page, block).getByTestId('params').textContent())
      .not.toBe('0 params');
    await t.screenshot();
  });

  it('moves, selects, edits parameters with validation, copies, pastes and deletes with the keyboard', async () => {
    const { page, baseUrl } = t;
    await openGraph(page, baseUrl, chain());
    const d0 = await doc(page);
    const block = d0.nodes[2];
    // Move by dragging the header; one undo step puts it back.
    const head = centre(await boxOf(node(page, block.id).locator('header')));
    await drag(page, head, { x: head.x + 40, y: head.y + 150 });
    await settle(page);
    const moved = (await doc(page)).nodes[2].position;
    expect(moved[1]).toBeGreaterThan(block.position[1] + 50);
    expect(await selected(page)).toEqual([block.id]);
    await page.keyboard.press('Control+z');
    await settle(page);
    expect((await doc(page)).nodes[2].position).toEqual(block.position);
    await page.keyboard.press('Control+Shift+z');
    await settle(page);

    // The inspector checks values as they are typed and commits valid ones.
    const heads = page.locator('mam-inspector input[data-param="heads"]');
    await heads.fill('0');
    await expect
      .poll(() => page.getByTestId('param-error').textContent())
      .toMatch(/below the minimum 1/);
    expect((await doc(page)).nodes[2].params.heads).toBe(block.params.heads);
    await heads.fill('4');
    await heads.press('Enter');
    await settle(page);
    expect((await doc(page)).nodes[2].params.heads).toBe(4);
    // 96 channels are not divisible by 5 heads: allowed as a value, shown as a problem on the node.
    await heads.fill('5');
    await heads.press('Enter');
    await settle(page);
    await expect.poll(() => node(page, block.id).getByTestId('problem').count()).toBeGreaterThan(0);
    await page.keyboard.press('Control+z');
    await settle(page);
    await expect.poll(() => node(page, block.id).getByTestId('problem').count()).toBe(0);

    // Ctrl+click adds to the selection.
    await node(page, block.id).locator('header').click();
    await node(page, d0.nodes[1].id)
      .locator('header')
      .click({ modifiers: ['Control'] });
    await expect
      .poll(async () => (await selected(page)).sort())
      .toEqual([block.id, d0.nodes[1].id].sort());
    await expect
      .poll(() => page.locator('mam-inspector').getByText('2 nodes selected').count())
      .toBe(1);

    // Copy, paste (fresh id, one step), delete.
    await node(page, block.id).locator('header').click();
    await expect.poll(() => selected(page)).toEqual([block.id]);
    const n = (await doc(page)).nodes.length;
    await page.keyboard.press('Control+c');
    await expectToast(page, /^Copied 1 node\.$/);
    await page.keyboard.press('Control+v');
    await settle(page);
    const after = await doc(page);
    expect(after.nodes).toHaveLength(n + 1);
    const pasted = after.nodes[n];
    expect(pasted.type).toBe('swin-block');
    expect(pasted.id).not.toBe(block.id);
    await expect.poll(() => selected(page)).toEqual([pasted.id]);
    await page.keyboard.press('Delete');
    await settle(page);
    expect((await doc(page)).nodes).toHaveLength(n);
    await t.screenshot();
  });

  it('undoes a parameter committed with Tab from the next field; typing is undone as text', async () => {
    const { page, baseUrl } = t;
    await openGraph(page, baseUrl, chain());
    const was = (await doc(page)).nodes[2].params.heads;
    await node(page, 'block').locator('header').click();
    const heads = page.locator('mam-inspector input[data-param="heads"]');
    await heads.fill('4');
    await heads.press('Tab');
    await expect.poll(async () => (await doc(page)).nodes[2].params.heads).toBe(4);
    // The focus went on to the next field, which holds nothing uncommitted: Ctrl+Z undoes the edit.
    expect(
      await page.evaluate(() => {
        const i = document.querySelector('mam-inspector')!.shadowRoot!.activeElement;
        return i instanceof HTMLInputElement || i instanceof HTMLSelectElement;
      }),
    ).toBe(true);
    await page.keyboard.press('Control+z');
    await expect.poll(async () => (await doc(page)).nodes[2].params.heads).toBe(was);
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(async () => (await doc(page)).nodes[2].params.heads).toBe(4);

    // Text being typed belongs to the field: Ctrl+Z there leaves the document alone.
    await heads.fill('6');
    await heads.press('Control+z');
    await settle(page);
    expect((await doc(page)).nodes[2].params.heads).toBe(4);
    expect(await page.evaluate(() => window.__mam!.canUndo)).toBe(true);
  });

  it('refuses a link between different socket kinds with a hint', async () => {
    const { page, baseUrl } = t;
    await openGraph(page, baseUrl, chain());
    const c = await canvasBox(page);
    // A MAM unit dropped from the palette on empty canvas below the row.
    const row = await boxOf(node(page, 'block'));
    await dragFromPalette(page, 'mam-swin-block', {
      x: c.x + c.width / 2 - 60,
      y: Math.min(row.y + row.height + 60, c.y + c.height - 200),
    });
    const d = await doc(page);
    const block = d.nodes.find((n) => n.type === 'swin-block')!.id;
    const unit = d.nodes.find((n) => n.type === 'mam-swin-block')!.id;
    const before = d.links.length;
    await connect(page, [block, 'out'], [unit, 'memIn']);
    await expectToast(page, /Link refused: .*tokens.*memory/);
    expect((await doc(page)).links).toHaveLength(before);
    // The right kind is accepted.
    await connect(page, [block, 'out'], [unit, 'in']);
    expect((await doc(page)).links).toHaveLength(before + 1);
    await t.screenshot();
  });

  it('marks a memory link whose shapes disagree as an error, on the node, the link and in problems', async () => {
    const { page } = t;
    await bringIntoView(page, 'layers.1.blocks.0');
    await bringIntoView(page, 'layers.0.blocks.1');
    await connect(page, ['layers.0.blocks.1', 'memOut'], ['layers.1.blocks.0', 'memIn']);
    const d = await doc(page);
    expect(d.links).toContainEqual({
      from: { node: 'layers.0.blocks.1', port: 'memOut' },
      to: { node: 'layers.1.blocks.0', port: 'memIn' },
    });
    const problem = node(page, 'layers.1.blocks.0').getByTestId('problem');
    await expect.poll(() => problem.first().textContent()).toMatch(/memory 32×32×32 .*16×16×64/);
    const link = page.locator(
      '[data-testid="mam-link"][data-link="layers.0.blocks.1:memOut->layers.1.blocks.0:memIn"]',
    );
    await expect.poll(() => link.getAttribute('data-error')).toBe('yes');
    // The problems panel names it; a click selects the culprit.
    await page.getByTestId('problem-item').filter({ hasText: 'layers.1.blocks.0' }).first().click();
    await settle(page);
    await expect.poll(() => selected(page)).toEqual(['layers.1.blocks.0']);
    await expect
      .poll(() => page.getByTestId('inspector-id').textContent())
      .toBe('layers.1.blocks.0');
    await t.screenshot();
  });

  it('swaps a SAM block for a MAM unit by dropping it from the palette, keeping links and position; undo/redo', async () => {
    const { page } = t;
    await page.getByTestId('presets').selectOption('swin-unet-lite');
    await settle(page);
    const id = 'layers.0.blocks.0';
    const before = await doc(page);
    const was = before.nodes.find((n) => n.id === id)!;
    expect(was.type).toBe('swin-block');
    const touching = (links: typeof before.links) =>
      links.filter((l) => l.from.node === id || l.to.node === id);
    await bringIntoView(page, id);
    await dragFromPalette(
      page,
      'mam-swin-block',
      centre(await boxOf(node(page, id).locator('header'))),
    );
    const after = await doc(page);
    const now = after.nodes.find((n) => n.id === id)!;
    expect(now.type).toBe('mam-swin-block');
    expect(now.position).toEqual(was.position);
    expect(touching(after.links)).toEqual(touching(before.links));
    expect(after.nodes).toHaveLength(before.nodes.length);
    await expect.poll(() => node(page, id).getAttribute('data-type')).toBe('mam-swin-block');

    await page.keyboard.press('Control+z');
    await settle(page);
    expect(await nodeType(page, id)).toBe('swin-block');
    await page.keyboard.press('Control+Shift+z');
    await settle(page);
    expect(await nodeType(page, id)).toBe('mam-swin-block');
    await t.screenshot();
  });

  it('converts the encoder to MAM with ISTS, then STS, with chain labels; undo/redo across them', async () => {
    const { page } = t;
    await page.getByTestId('presets').selectOption('swin-unet-lite');
    await settle(page);
    const badges = () => page.getByTestId('chain').allTextContents();
    expect(await badges()).toEqual([]);

    await contextMenu(page, 'layers.0.blocks.1', 'Convert the encoder to MAM (ISTS)');
    const ists = await page.evaluate(() => window.__mam!.analysis.chains.map((c) => c.strategy));
    expect(ists.length).toBeGreaterThan(1);
    expect(new Set(ists)).toEqual(new Set(['ISTS']));
    await expect.poll(badges).toContain('ISTS · chain 1');
    expect((await badges()).every((b) => b.startsWith('ISTS'))).toBe(true);
    await expect.poll(() => page.getByTestId('total-chains').textContent()).toMatch(/ISTS/);

    await contextMenu(page, 'layers.0.blocks.1', 'Convert the encoder to MAM (STS)');
    expect(await page.evaluate(() => window.__mam!.analysis.chains.map((c) => c.strategy))).toEqual(
      ['STS'],
    );
    await expect.poll(async () => new Set(await badges())).toEqual(new Set(['STS · chain 1']));
    // Hovering a chain label highlights every node on the chain.
    await page.getByTestId('chain').first().hover();
    await expect
      .poll(() => page.locator('[data-testid="mam-node"].highlighted').count())
      .toBeGreaterThan(8);
    await page.mouse.move(5, 5);

    await page.keyboard.press('Control+z');
    await settle(page);
    await expect.poll(async () => (await badges()).every((b) => b.startsWith('ISTS'))).toBe(true);
    await page.keyboard.press('Control+z');
    await settle(page);
    expect(await page.evaluate(() => window.__mam!.analysis.chains.length)).toBe(0);
    await page.keyboard.press('Control+y');
    await page.keyboard.press('Control+y');
    await settle(page);
    expect(await page.evaluate(() => window.__mam!.analysis.chains.map((c) => c.strategy))).toEqual(
      ['STS'],
    );
    await expect.poll(async () => new Set(await badges())).toEqual(new Set(['STS · chain 1']));

    // The conversion placed its merges where Auto-arrange puts them; a node dragged away goes back,
    // and Auto-arrange is one more undoable step.
    const arranged = (await doc(page)).nodes.map((n) => n.position);
    await bringIntoView(page, 'layers.0.blocks.0');
    const head = centre(await boxOf(node(page, 'layers.0.blocks.0').locator('header')));
    await drag(page, head, { x: head.x + 30, y: head.y + 60 });
    await settle(page);
    const placed = (await doc(page)).nodes.map((n) => n.position);
    expect(placed).not.toEqual(arranged);
    await page.getByTestId('arrange').click();
    await settle(page);
    expect((await doc(page)).nodes.map((n) => n.position)).toEqual(arranged);
    await t.screenshot();
    await page.getByTestId('undo').click();
    await settle(page);
    expect((await doc(page)).nodes.map((n) => n.position)).toEqual(placed);
  });

  it('converts from the toolbar menu: the selected node’s stage, then the network back to SAM', async () => {
    const { page } = t;
    await page.getByTestId('presets').selectOption('swin-unet-lite');
    await settle(page);
    await bringIntoView(page, 'layers.1.blocks.0');
    await node(page, 'layers.1.blocks.0').locator('header').click();
    await expect.poll(() => selected(page)).toEqual(['layers.1.blocks.0']);
    await page.getByTestId('convert-menu').click();
    await menuItem(page, 'Convert this stage to MAM (ISTS)');
    const types = async () =>
      Object.fromEntries((await doc(page)).nodes.map((n) => [n.id, n.type]));
    expect(await types()).toMatchObject({
      'layers.1.blocks.0': 'mam-swin-block',
      'layers.1.blocks.1': 'mam-swin-block',
      'layers.0.blocks.0': 'swin-block',
    });
    // One ISTS chain, through that stage's two units only.
    expect(await page.evaluate(() => window.__mam!.analysis.chains.map((c) => c.units))).toEqual([
      ['layers.1.blocks.0', 'layers.1.blocks.1'],
    ]);
    expect(await page.evaluate(() => window.__mam!.analysis.chains.map((c) => c.strategy))).toEqual(
      ['ISTS'],
    );
    await expect.poll(() => page.locator('mam-menu').count()).toBe(0);
    // Without a selection the menu offers the network.
    await page.keyboard.press('Escape');
    await expect.poll(() => selected(page)).toEqual([]);
    await page.getByTestId('convert-menu').click();
    const labels = await page.getByTestId('menu-item').allTextContents();
    expect(labels.map((l) => l.trim())).toEqual([
      'Convert the network to MAM (ISTS)',
      'Convert the network to MAM (STS)',
      'Convert the network to SAM',
    ]);
    await menuItem(page, 'Convert the network to SAM');
    expect(Object.values(await types())).not.toContain('mam-swin-block');
    expect(await page.evaluate(() => window.__mam!.analysis.chains)).toEqual([]);
  });

  it('selects a link with a click and deletes it with Delete, as one undo step', async () => {
    const { page, baseUrl } = t;
    await openGraph(page, baseUrl, chain());
    const key = 'embed:out->block:in';
    const link = page.locator(`[data-testid="mam-link"][data-link="${key}"]`);
    const a = centre(await boxOf(socket(page, 'embed', 'output', 'out')));
    const b = centre(await boxOf(socket(page, 'block', 'input', 'in')));
    await node(page, 'input').locator('header').click();
    await expect.poll(() => selected(page)).toEqual(['input']);
    // The curve between two sockets passes through the middle of the chord.
    await page.mouse.click((a.x + b.x) / 2, (a.y + b.y) / 2);
    await expect.poll(() => page.evaluate(() => window.__mam!.selectedLink)).toBe(key);
    await expect.poll(() => link.getAttribute('data-selected')).toBe('yes');
    expect(await selected(page)).toEqual([]);
    await page.keyboard.press('Delete');
    await settle(page);
    const d = await doc(page);
    expect(d.links).toEqual([
      { from: { node: 'input', port: 'out' }, to: { node: 'embed', port: 'in' } },
    ]);
    expect(d.nodes).toHaveLength(3);
    await page.keyboard.press('Control+z');
    await settle(page);
    expect((await doc(page)).links).toEqual(chain().links);
    expect(await page.evaluate(() => window.__mam!.canUndo)).toBe(false);
    // A click on empty canvas lets go of a selected link.
    await page.mouse.click((a.x + b.x) / 2, (a.y + b.y) / 2);
    await expect.poll(() => page.evaluate(() => window.__mam!.selectedLink)).toBe(key);
    const c = await canvasBox(page);
    await page.mouse.click(c.x + 20, c.y + 20);
    await expect.poll(() => page.evaluate(() => window.__mam!.selectedLink)).toBeUndefined();
  });

  it('selects the nodes a Shift+drag box touches', async () => {
    const { page, baseUrl } = t;
    await openGraph(page, baseUrl, chain());
    const first = await boxOf(node(page, 'input'));
    const second = await boxOf(node(page, 'embed'));
    const c = await canvasBox(page);
    const from = { x: first.x - 15, y: Math.max(c.y + 5, first.y - 25) };
    const to = { x: second.x + 30, y: second.y + 30 };
    await page.keyboard.down('Shift');
    await drag(page, from, to);
    await page.keyboard.up('Shift');
    await expect.poll(async () => (await selected(page)).sort()).toEqual(['embed', 'input']);
    expect(await page.getByTestId('rubber-band').count()).toBe(0);
    // The view did not pan: the nodes are where they were.
    expect((await boxOf(node(page, 'input'))).x).toBeCloseTo(first.x, 0);
  });

  it('fits every node of every preset in view at 1280×800 and 1024×768; +, − and 0 zoom', async () => {
    for (const viewport of [
      { width: 1280, height: 800 },
      { width: 1024, height: 768 },
    ]) {
      const page = await t.open({ viewport });
      // The demo opens showing all of itself.
      expect((await doc(page)).nodes.length).toBeGreaterThan(20);
      await expect.poll(() => nodesOutsideCanvas(page)).toEqual([]);
      for (const name of Object.keys(presets(catalogue))) {
        await page.getByTestId('presets').selectOption(name);
        await settle(page);
        await expect
          .poll(async () => (await doc(page)).metadata?.title)
          .toBe(presets(catalogue)[name].metadata?.title);
        const where = `${name} at ${viewport.width}×${viewport.height}`;
        await expect
          .poll(async () => ({ where, outside: await nodesOutsideCanvas(page) }))
          .toEqual({ where, outside: [] });
        expect(await page.getByTestId('mam-node').count()).toBe(
          presets(catalogue)[name].nodes.length,
        );
      }
      const fitted = await zoom(page);
      await page.keyboard.press('+');
      await expect.poll(() => zoom(page)).toBeGreaterThan(fitted);
      await page.keyboard.press('=');
      const twice = await zoom(page);
      expect(twice).toBeGreaterThan(fitted * 1.2);
      await expect.poll(async () => (await nodesOutsideCanvas(page)).length).toBeGreaterThan(0);
      await page.keyboard.press('-');
      await expect.poll(() => zoom(page)).toBeLessThan(twice);
      await page.keyboard.press('0');
      await expect.poll(() => nodesOutsideCanvas(page)).toEqual([]);
      expect(await zoom(page)).toBeCloseTo(fitted, 5);
      // The toolbar's Fit does the same.
      await page.keyboard.press('+');
      await expect.poll(async () => (await nodesOutsideCanvas(page)).length).toBeGreaterThan(0);
      await page.getByTestId('fit').click();
      await expect.poll(() => nodesOutsideCanvas(page)).toEqual([]);
    }
  });

  it('lists every shortcut of the key table in the ? overlay', async () => {
    const { page } = t;
    await page.keyboard.press('?');
    const rows = page.getByTestId('shortcut');
    await expect.poll(() => rows.count()).toBe(SHORTCUTS.length);
    for (const [i, s] of SHORTCUTS.entries()) {
      const row = rows.nth(i);
      expect(await row.getAttribute('data-action')).toBe(s.action);
      const text = (await row.textContent()) ?? '';
      for (const c of s.chords) expect(text).toContain(chordText(c));
      expect(text).toContain(s.label);
    }
    expect(await page.getByTestId('gesture').filter({ hasText: 'Shift+Drag' }).count()).toBe(1);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('shortcuts').count()).toBe(0);
    await page.getByTestId('help').click();
    await expect.poll(() => page.getByTestId('shortcuts').count()).toBe(1);
  });

  it('shows every toolbar button on screen at 1024×768, Train included', async () => {
    const page = await t.open({ viewport: { width: 1024, height: 768 } });
    const controls = page.locator('header.toolbar button, header.toolbar select');
    const n = await controls.count();
    expect(n).toBeGreaterThan(10);
    for (let i = 0; i < n; i++) {
      const b = await boxOf(controls.nth(i));
      expect(b.x).toBeGreaterThanOrEqual(0);
      expect(b.x + b.width).toBeLessThanOrEqual(1024);
      expect(b.y + b.height).toBeLessThanOrEqual(768);
    }
    await page.getByTestId('train-toggle').click();
    await expect.poll(() => page.locator('mam-train-panel').getAttribute('open')).not.toBeNull();
  });
});
