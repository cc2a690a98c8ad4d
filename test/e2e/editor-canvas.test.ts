// The editor's canvas driven as a user drives it: palette drags, links drawn
// between sockets, context menu, shortcuts. State is read through window.__mam.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrowser, type BrowserSession } from './browser.ts';
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
  expectToast,
  freshEditor,
  node,
  nodeType,
  settle,
} from './editor-helpers.ts';

describe('editor canvas', () => {
  let session: BrowserSession;

  beforeAll(async () => {
    session = await openBrowser('/');
  });
  afterAll(async () => {
    await session?.close();
  });

  it('builds a graph from palette drags and drawn links, with shapes shown', async () => {
    const { page, baseUrl } = session;
    await freshEditor(page, baseUrl);
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
    await session.screenshot();
  });

  it('moves, selects, edits parameters with validation, copies, pastes and deletes with the keyboard', async () => {
    const { page } = session;
    const d0 = await doc(page);
    const block = d0.nodes[2];
    // Move by dragging the header; one undo step puts it back.
    const head = centre(await boxOf(node(page, block.id).locator('header')));
    await drag(page, head, { x: head.x + 40, y: head.y + 150 });
    await settle(page);
    const moved = (await doc(page)).nodes[2].position;
    expect(moved[1]).toBeGreaterThan(block.position[1] + 50);
    expect(await page.evaluate(() => window.__mam!.selected)).toEqual([block.id]);
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
      .poll(async () => (await page.evaluate(() => window.__mam!.selected)).sort())
      .toEqual([block.id, d0.nodes[1].id].sort());
    await expect
      .poll(() => page.locator('mam-inspector').getByText('2 nodes selected').count())
      .toBe(1);

    // Copy, paste (fresh id, one step), delete.
    await node(page, block.id).locator('header').click();
    // The click replaces the two-node selection; copy only once it has (a person cannot type faster).
    await expect.poll(() => page.evaluate(() => window.__mam!.selected)).toEqual([block.id]);
    const n = (await doc(page)).nodes.length;
    await page.keyboard.press('Control+c');
    await page.keyboard.press('Control+v');
    await settle(page);
    const after = await doc(page);
    expect(after.nodes).toHaveLength(n + 1);
    const pasted = after.nodes[n];
    expect(pasted.type).toBe('swin-block');
    expect(pasted.id).not.toBe(block.id);
    await expect.poll(() => page.evaluate(() => window.__mam!.selected)).toEqual([pasted.id]);
    await page.keyboard.press('Delete');
    await settle(page);
    expect((await doc(page)).nodes).toHaveLength(n);
    await session.screenshot();
  });

  it('refuses a link between different socket kinds with a hint', async () => {
    const { page } = session;
    const c = await canvasBox(page);
    await dragFromPalette(page, 'mam-swin-block', { x: c.x + 300, y: c.y + 360 });
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
    await session.screenshot();
  });

  it('marks a memory link whose shapes disagree as an error, on the node, the link and in problems', async () => {
    const { page, baseUrl } = session;
    await freshEditor(page, baseUrl);
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
    await expect
      .poll(() => page.evaluate(() => window.__mam!.selected))
      .toEqual(['layers.1.blocks.0']);
    await expect
      .poll(() => page.getByTestId('inspector-id').textContent())
      .toBe('layers.1.blocks.0');
    await session.screenshot();
  });

  it('swaps a SAM block for a MAM unit by dropping it from the palette, keeping links and position; undo/redo', async () => {
    const { page } = session;
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
    await session.screenshot();
  });

  it('converts the encoder to MAM with ISTS, then STS, with chain labels; undo/redo across them', async () => {
    const { page } = session;
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

    // Auto-arrange is one more undoable step.
    const placed = (await doc(page)).nodes.map((n) => n.position);
    await page.getByTestId('arrange').click();
    await settle(page);
    expect((await doc(page)).nodes.map((n) => n.position)).not.toEqual(placed);
    await session.screenshot();
    await page.getByTestId('undo').click();
    await settle(page);
    expect((await doc(page)).nodes.map((n) => n.position)).toEqual(placed);
  });

  it('raised no uncaught errors in the page', () => {
    expect(session.logs.filter((l) => l.startsWith('[pageerror]'))).toEqual([]);
  });
});
