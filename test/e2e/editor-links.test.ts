// Links moved on the canvas: the link a drag picks up, and the one its drop
// replaces, go into the same undo step as the link it makes; a refused drop
// ends the drag at once and changes nothing.
import { describe, expect, it } from 'vitest';
import {
  boxOf,
  centre,
  doc,
  drag,
  editorTests,
  expectToast,
  graphOf,
  openGraph,
  saveText,
  settle,
  socket,
} from './editor-helpers.ts';

const row = () =>
  graphOf(
    [
      { id: 'a', type: 'swin-block', position: [0, 0] },
      { id: 'b', type: 'swin-block', position: [300, 0] },
      { id: 'c', type: 'swin-block', position: [600, 0] },
    ],
    [
      ['a', 'out', 'b', 'in'],
      ['b', 'out', 'c', 'in'],
    ],
  );

const undoDepth = (page: import('playwright-core').Page) =>
  page.evaluate(() => window.__mam!.undoDepth);

describe('moving a link on the canvas', () => {
  const t = editorTests();

  it('re-wires a link onto a taken input as one undo step', async () => {
    const { page, baseUrl } = t;
    await openGraph(page, baseUrl, row());
    const before = await saveText(page);
    const depth = await undoDepth(page);
    // Pick up a → b at b's input and drop it on c's input, which b feeds.
    const from = centre(await boxOf(socket(page, 'b', 'input', 'in')));
    const to = centre(await boxOf(socket(page, 'c', 'input', 'in')));
    await drag(page, from, to);
    await settle(page);
    await expect
      .poll(async () => (await doc(page)).links.map((l) => `${l.from.node}->${l.to.node}`))
      .toEqual(['a->c']);
    expect(await undoDepth(page)).toBe(depth + 1);
    await page.getByTestId('undo').click();
    await expect.poll(() => saveText(page)).toBe(before);
  });

  it('ends a refused drag at once: nothing changes and no loose link stays on the canvas', async () => {
    const { page, baseUrl } = t;
    await openGraph(page, baseUrl, row());
    const before = await saveText(page);
    const depth = await undoDepth(page);
    const links = page.locator('[data-testid="mam-link"]');
    await expect.poll(() => links.count()).toBe(2);
    // c's output onto c's own input: a self-loop, refused with a hint
    const from = centre(await boxOf(socket(page, 'c', 'output', 'out')));
    const to = centre(await boxOf(socket(page, 'c', 'input', 'in')));
    await drag(page, from, to);
    await expectToast(page, /cannot feed itself/);
    await settle(page);
    expect(await saveText(page)).toBe(before);
    expect(await undoDepth(page)).toBe(depth);
    const keys = () => links.evaluateAll((ls) => ls.map((l) => l.getAttribute('data-link')).sort());
    await expect.poll(keys).toEqual(['a:out->b:in', 'b:out->c:in']);
  });
});
