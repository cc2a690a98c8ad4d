// Driving the editor as a user does (mouse, keyboard, file chooser) and
// reading its state through the read-only window.__mam hook for assertions.
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { getKind } from '../../nodes/index.ts';
import { GRAPH_FORMAT, GRAPH_VERSION, type GraphDoc } from '../../src/graph/types.ts';
import { encodeGraphToFragment } from '../../src/share/link.ts';
import { openBrowser, screenshot, type BrowserSession } from './browser.ts';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const centre = (b: Box) => ({ x: b.x + b.width / 2, y: b.y + b.height / 2 });

/** Waits until the editor has booted and the canvas shows the latest document. */
export async function ready(page: Page): Promise<void> {
  await page.waitForSelector('mam-app[data-ready]', { timeout: 60_000 });
  await settle(page);
}

export async function settle(page: Page): Promise<void> {
  await page.evaluate(() => window.__mam?.idle());
  await page.evaluate(
    () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))),
  );
}

export const doc = (page: Page): Promise<GraphDoc> => page.evaluate(() => window.__mam!.doc);
export const saveText = (page: Page): Promise<string> =>
  page.evaluate(() => window.__mam!.saveText());
export const nodeType = async (page: Page, id: string) =>
  (await doc(page)).nodes.find((n) => n.id === id)?.type;

/** Fresh start: no autosave (neither IndexedDB nor the localStorage copy), the demo graph. */
export async function freshEditor(page: Page, baseUrl: string): Promise<void> {
  await page.goto(baseUrl);
  await page.evaluate(
    () =>
      new Promise<void>((resolve) => {
        localStorage.clear();
        const req = indexedDB.deleteDatabase('mam-studio');
        req.onsuccess = req.onerror = req.onblocked = () => resolve();
      }),
  );
  await page.goto(baseUrl);
  await ready(page);
}

export interface EditorTestOptions {
  /** Page to open for each test, from the server root (default: the editor, `/`). */
  path?: string;
  viewport?: { width: number; height: number };
}

/** The current test's page (a fresh browser context: empty storage) and helpers. */
export interface EditorTestContext {
  readonly page: Page;
  readonly baseUrl: string;
  /** The page's console lines and uncaught errors so far. */
  readonly logs: string[];
  /** Opens another fresh page (own storage), e.g. at another viewport; closed after the test. */
  open(opts?: EditorTestOptions): Promise<Page>;
  screenshot(name?: string): Promise<string>;
}

/**
 * Gives every test in the enclosing describe its own page in a fresh browser
 * context (no autosave, no history, no leftovers of earlier tests), on one
 * browser and dev server per file. The page is opened at `path`; for the
 * editor, the test starts once it is ready. After each test the page must
 * have raised no uncaught error.
 */
export function editorTests(opts: EditorTestOptions = {}): EditorTestContext {
  let session: BrowserSession | undefined;
  let contexts: { context: BrowserContext; page: Page; logs: string[] }[] = [];
  const current = () => {
    const c = contexts[0];
    if (!c) throw new Error('no page: editorTests() gives one to each test');
    return c;
  };
  const open = async (o: EditorTestOptions = {}): Promise<Page> => {
    const s = session as BrowserSession;
    const browser = s.page.context().browser();
    if (!browser) throw new Error('the session has no browser');
    const context = await browser.newContext({
      viewport: o.viewport ?? opts.viewport ?? { width: 1280, height: 800 },
    });
    const page = await context.newPage();
    const logs: string[] = [];
    page.on('console', (m) => logs.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`[pageerror] ${e.message}`));
    contexts.push({ context, page, logs });
    const path = o.path ?? opts.path ?? '/';
    await page.goto(new URL(path, s.baseUrl).href);
    if (path === '/') await ready(page);
    return page;
  };
  beforeAll(async () => {
    // Opened at the tests' path, so openBrowser picks the server that serves it;
    // the session's own page then rests, and each test opens its own.
    session = await openBrowser(opts.path ?? '/');
    await session.page.goto('about:blank');
  });
  afterAll(async () => {
    await session?.close();
  });
  beforeEach(async () => {
    await open();
  });
  afterEach(async () => {
    const done = contexts;
    contexts = [];
    const errors = done.flatMap((c) => c.logs.filter((l) => l.startsWith('[pageerror]')));
    await Promise.all(done.map((c) => c.context.close()));
    expect(errors, 'uncaught errors in the page').toEqual([]);
  });
  return {
    get page() {
      return current().page;
    },
    get baseUrl() {
      return (session as BrowserSession).baseUrl;
    },
    get logs() {
      return current().logs;
    },
    open,
    screenshot: (name) => screenshot(current().page, name),
  };
}

/**
 * A graph of nodes with their kinds' default parameters, linked
 * `[from, port, to, port]`: a known document for a test to start from.
 */
export function graphOf(
  nodes: { id: string; type: string; position: [number, number] }[],
  links: [string, string, string, string][] = [],
): GraphDoc {
  return {
    format: GRAPH_FORMAT,
    version: GRAPH_VERSION,
    metadata: { title: 'test graph' },
    nodes: nodes.map((n) => {
      const kind = getKind(n.type);
      if (!kind) throw new Error(`no node kind ${n.type}`);
      return { ...n, params: Object.fromEntries(kind.params.map((p) => [p.name, p.default])) };
    }),
    links: links.map(([a, ap, b, bp]) => ({
      from: { node: a, port: ap },
      to: { node: b, port: bp },
    })),
  };
}

/** Opens a document in the page as a shared link does (fresh history), and waits for it. */
export async function openGraph(page: Page, baseUrl: string, doc: GraphDoc): Promise<void> {
  // From another document: a change of the hash alone would not load the page afresh.
  await page.goto('about:blank');
  await page.goto(new URL(encodeGraphToFragment(doc), baseUrl).href);
  await ready(page);
}

/** The canvas's zoom factor. */
export const zoom = (page: Page): Promise<number> => page.evaluate(() => window.__mam!.zoom);

/** Every drawn node's box on screen (px). */
export function nodeRects(
  page: Page,
): Promise<{ id: string; left: number; top: number; right: number; bottom: number }[]> {
  return page.locator('[data-testid="mam-node"]').evaluateAll((els: HTMLElement[]) =>
    els.map((el) => {
      const { left, top, right, bottom } = el.getBoundingClientRect();
      return { id: el.dataset.nodeId ?? '?', left, top, right, bottom };
    }),
  );
}

/** Every drawn node's box in canvas units (screen box divided by the zoom), once all are drawn with their analysis. */
export async function renderedBoxes(page: Page) {
  await settle(page);
  return page
    .evaluate(() =>
      [...document.querySelectorAll('mam-node')].map((host) => {
        const el = host.shadowRoot!.querySelector<HTMLElement>('[data-testid="mam-node"]')!;
        const r = el.getBoundingClientRect();
        return {
          id: el.dataset.nodeId!,
          type: el.dataset.type!,
          x: r.x,
          y: r.y,
          w: el.offsetWidth,
          h: el.offsetHeight,
          k: r.width / el.offsetWidth,
        };
      }),
    )
    .then((list) => list.map((b) => ({ ...b, x: b.x / b.k, y: b.y / b.k })));
}

/** The pairs of drawn boxes (from renderedBoxes) that overlap, as `a × b`. */
export function overlappingBoxes(
  boxes: { id: string; x: number; y: number; w: number; h: number }[],
): string[] {
  const hits: string[] = [];
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, c] = [boxes[i], boxes[j]];
      if (a.x < c.x + c.w && c.x < a.x + a.w && a.y < c.y + c.h && c.y < a.y + a.h)
        hits.push(`${a.id} × ${c.id}`);
    }
  return hits;
}

/** Ids of the nodes whose box does not lie wholly inside `area` (screen px; default: the canvas). */
export async function nodesOutsideCanvas(
  page: Page,
  area?: { left: number; top: number; right: number; bottom: number },
): Promise<string[]> {
  const c = await canvasBox(page);
  const a = area ?? { left: c.x, top: c.y, right: c.x + c.width, bottom: c.y + c.height };
  return (await nodeRects(page))
    .filter((r) => r.left < a.left || r.top < a.top || r.right > a.right || r.bottom > a.bottom)
    .map((r) => r.id);
}

/** Ids of the nodes whose box meets the minimap's. */
export async function nodesUnderMinimap(page: Page): Promise<string[]> {
  const m = await boxOf(page.getByTestId('minimap'));
  return (await nodeRects(page))
    .filter(
      (r) => r.left < m.x + m.width && r.right > m.x && r.top < m.y + m.height && r.bottom > m.y,
    )
    .map((r) => r.id);
}

/** Clicks a menu item (context menu or toolbar menu) by its text. */
export async function menuItem(page: Page, text: string): Promise<void> {
  await page.locator('[data-testid="menu-item"]', { hasText: text }).first().click();
  await settle(page);
}

export const node = (page: Page, id: string): Locator =>
  page.locator(`[data-testid="mam-node"][data-node-id="${id}"]`);

export function socket(page: Page, id: string, side: 'input' | 'output', key: string): Locator {
  return node(page, id).locator(`rete-ref[data-side="${side}"][data-key="${key}"]`);
}

export async function boxOf(l: Locator): Promise<Box> {
  const b = await l.boundingBox();
  if (!b) throw new Error(`not visible: ${l}`);
  return b;
}

export async function canvasBox(page: Page): Promise<Box> {
  return boxOf(page.getByTestId('canvas'));
}

/** A mouse drag in small steps, as a hand makes it. */
export async function drag(
  page: Page,
  from: { x: number; y: number },
  to: { x: number; y: number },
  steps = 12,
) {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(from.x + 6, from.y + 3, { steps: 2 });
  await page.mouse.move(to.x, to.y, { steps });
  await page.mouse.up();
}

/** Drags a palette item to a point on the page. */
export async function dragFromPalette(page: Page, type: string, to: { x: number; y: number }) {
  const item = page.locator(`[data-testid="palette-item"][data-type="${type}"]`);
  await item.scrollIntoViewIfNeeded();
  await drag(page, centre(await boxOf(item)), to);
  await settle(page);
}

/** Draws a link from an output socket to an input socket. */
export async function connect(page: Page, from: [string, string], to: [string, string]) {
  const a = centre(await boxOf(socket(page, from[0], 'output', from[1])));
  const b = centre(await boxOf(socket(page, to[0], 'input', to[1])));
  await drag(page, a, b);
  await settle(page);
}

/** Pans the canvas by dragging its background at an empty spot. */
export async function pan(page: Page, dx: number, dy: number) {
  const c = await canvasBox(page);
  const spot = await page.evaluate(
    ({ c }) => {
      for (let y = c.y + c.height - 60; y > c.y + 20; y -= 25) {
        for (let x = c.x + 30; x < c.x + c.width - 220; x += 25) {
          const hit = document.elementFromPoint(x, y);
          if (hit?.classList.contains('canvas') || hit?.closest('.canvas') === hit) {
            const els = document.elementsFromPoint(x, y);
            if (
              !els.some(
                (e) =>
                  e.tagName === 'RETE-MINIMAP' ||
                  e.tagName === 'MAM-NODE' ||
                  e.tagName === 'MAM-LINK',
              )
            )
              return { x, y };
          }
        }
      }
      return undefined;
    },
    { c },
  );
  if (!spot) throw new Error('no empty canvas spot to pan from');
  await drag(page, spot, { x: spot.x + dx, y: spot.y + dy }, 8);
  await settle(page);
}

/** Pans until a node lies inside the canvas (with a margin). */
export async function bringIntoView(page: Page, id: string) {
  for (let i = 0; i < 8; i++) {
    const c = await canvasBox(page);
    const b = await boxOf(node(page, id));
    const dx =
      b.x < c.x + 40
        ? c.x + 60 - b.x
        : b.x + b.width > c.x + c.width - 40
          ? c.x + c.width - 60 - b.x - b.width
          : 0;
    const dy =
      b.y < c.y + 40
        ? c.y + 60 - b.y
        : b.y + b.height > c.y + c.height - 40
          ? c.y + c.height - 60 - b.y - b.height
          : 0;
    if (!dx && !dy) return;
    await pan(page, Math.max(-400, Math.min(400, dx)), Math.max(-300, Math.min(300, dy)));
  }
}

/** Opens the context menu on a node and clicks an item by its text. */
export async function contextMenu(page: Page, id: string, item: string) {
  await bringIntoView(page, id);
  const b = await boxOf(node(page, id).locator('header'));
  await page.mouse.click(b.x + b.width / 2, b.y + b.height / 2, { button: 'right' });
  await menuItem(page, item);
}

export async function chooseFile(page: Page, path: string) {
  const chooser = page.waitForEvent('filechooser');
  await page.getByTestId('open').click();
  await (await chooser).setFiles(path);
  await settle(page);
}

export async function expectToast(page: Page, text: RegExp) {
  await expect
    .poll(() => page.getByTestId('toast').allTextContents())
    .toEqual(expect.arrayContaining([expect.stringMatching(text)]));
}
