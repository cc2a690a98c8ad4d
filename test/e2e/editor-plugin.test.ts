// The Rete plugin on a bare host page (test/e2e/host/): the host owns the
// editor; the plugin renders the graph, swaps from its context menu, refuses
// mismatched links and reports through events.
import { describe, expect, it } from 'vitest';
import { boxOf, centre, drag, editorTests, node, socket } from './editor-helpers.ts';

describe('mam-studio/rete on a host page', () => {
  const t = editorTests({ path: '/test/e2e/host/index.html' });

  it('renders the document, swaps from the context menu, refuses a mismatched link, and emits events', async () => {
    const { page } = t;
    await page.waitForFunction(() => window.__host?.ready, undefined, { timeout: 60_000 });
    const events = () => page.evaluate(() => window.__host!.events);
    const count = await page.evaluate(() => window.__host!.mam.store.doc.nodes.length);
    await expect.poll(() => page.getByTestId('mam-node').count()).toBe(count);
    expect((await events())[0]).toMatch(/^ready: \d+ nodes/);

    const header = centre(await boxOf(node(page, 'layers.0.blocks.0').locator('header')));
    await page.mouse.click(header.x, header.y, { button: 'right' });
    await page
      .locator('[data-testid="menu-item"]', { hasText: 'Swap to memory-attention (MAM)' })
      .click();
    await expect.poll(events).toEqual(
      expect.arrayContaining([
        // One MAM unit without memory links is on no chain (MAM-SPEC.md section 3).
        expect.stringMatching(/^change: swap layers\.0\.blocks\.0 .*chains \[\] /),
      ]),
    );
    await expect
      .poll(() => node(page, 'layers.0.blocks.0').getAttribute('data-type'))
      .toBe('mam-swin-block');

    // tokens → memory is refused, and the host hears why.
    const from = centre(await boxOf(socket(page, 'patch_embed', 'output', 'out')));
    const to = centre(await boxOf(socket(page, 'layers.0.blocks.0', 'input', 'memIn')));
    await drag(page, from, to);
    await expect
      .poll(events)
      .toEqual(expect.arrayContaining([expect.stringMatching(/^hint \(error\): Link refused/)]));
    expect(
      await page.evaluate(() =>
        window.__host!.mam.store.doc.links.some((l) => l.to.port === 'memIn'),
      ),
    ).toBe(false);
    await t.screenshot();
  });
});
