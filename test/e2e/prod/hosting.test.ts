// The production build served as plain files by a static host
// (static-server.ts), in the three ways a user may host it: without the
// COOP/COEP headers (one wasm thread), under a sub-path with the headers
// (threads), and without headers but with our service worker adding them
// (threads after one reload). Each test builds nothing itself except the
// sub-path variant; the root build comes from the project's global setup.
import { resolve } from 'node:path';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { collectLogs, launchChromium } from '../browser.ts';
import { ready } from '../editor-helpers.ts';
import { buildApp } from '../prod-build.ts';
import { startStaticServer, type StaticServer } from '../static-server.ts';

const root = resolve(import.meta.dirname, '../../..');
const dist = () => resolve(root, process.env.MAM_E2E_DIST ?? 'test-results/builds/app');

const THREADED_BINARY = 'tfjs-backend-wasm-threaded-simd.wasm';
const SINGLE_BINARY = 'tfjs-backend-wasm-simd.wasm';

const byId = (page: Page, id: string) => page.locator('mam-train-panel').getByTestId(id);

interface Hosted {
  page: Page;
  logs: string[];
  server: StaticServer;
  /** URLs of the workers the page started (the training worker, wasm's pthread workers). */
  workers: string[];
}

let opened: { browser?: Browser; server?: StaticServer }[] = [];

afterEach(async () => {
  for (const o of opened) {
    await o.browser?.close();
    await o.server?.close();
  }
  opened = [];
});

async function host(
  mounts: Record<string, string>,
  isolation: boolean,
  context: BrowserContextOptions = {},
): Promise<Hosted> {
  const server = await startStaticServer({ mounts, isolation });
  const entry: (typeof opened)[number] = { server };
  opened.push(entry);
  entry.browser = await launchChromium();
  const page = await (await entry.browser.newContext(context)).newPage();
  const logs = collectLogs(page);
  const workers: string[] = [];
  page.on('worker', (w) => workers.push(w.url()));
  return { page, logs, server, workers };
}

/** Opens the Train drawer, loads the demo data, trains a few steps on wasm and stops; returns the backend line. */
async function trainOnWasm(page: Page): Promise<string> {
  await page.getByTestId('train-toggle').click();
  await expect
    .poll(() => byId(page, 'data-info').textContent(), { timeout: 90_000 })
    .toMatch(/92 training slices/);
  await byId(page, 'backend-select').selectOption('wasm');
  await expect
    .poll(() => byId(page, 'backend-info').textContent(), { timeout: 60_000 })
    .toMatch(/^\s*wasm \(WebAssembly/);
  const steps = byId(page, 'setting-steps');
  await steps.fill('40');
  await steps.dispatchEvent('change');
  await byId(page, 'train-start').click();
  const training = () => page.evaluate(() => window.__mam!.training!);
  await expect
    .poll(async () => (await training()).step, { timeout: 120_000 })
    .toBeGreaterThanOrEqual(2);
  await byId(page, 'train-stop').click();
  await expect.poll(async () => (await training()).running, { timeout: 60_000 }).toBe(false);
  return ((await byId(page, 'backend-info').textContent()) ?? '').trim();
}

/** The thread count in "wasm (WebAssembly SIMD, 2 threads)" of an isolated page. */
function threadsOf(backendLine: string): number {
  const m = /SIMD, (\d+) threads?\)/.exec(backendLine);
  if (!m) throw new Error(`no thread count in "${backendLine}"`);
  return Number(m[1]);
}

/** tfjs-backend-wasm gives XNNPACK half the logical cores (measured: 8 → 4, 2 → 1). */
const expectedThreads = (cores: number) => Math.max(1, Math.floor(cores / 2));

function expectNoErrors(logs: string[], server: StaticServer) {
  const errors = logs.filter((l) => l.startsWith('[pageerror]') || l.startsWith('[error]'));
  expect(errors, logs.join('\n')).toEqual([]);
  expect(server.requests.filter((r) => r.status >= 400)).toEqual([]);
}

const requested = (server: StaticServer, file: string) =>
  server.requests.some((r) => r.path.endsWith(`/${file}`));

describe('hosting the production build as static files', () => {
  it('without COOP/COEP (and no service worker) trains on one wasm thread, without errors', async () => {
    const { page, logs, server, workers } = await host({ '/': dist() }, false, {
      serviceWorkers: 'block',
    });
    await page.goto(`${server.origin}/`);
    await ready(page);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
    const backend = await trainOnWasm(page);
    expect(backend).toMatch(/WebAssembly SIMD, 1 thread, page not cross-origin isolated\)/);
    expect(requested(server, SINGLE_BINARY)).toBe(true);
    expect(requested(server, THREADED_BINARY)).toBe(false);
    // The training worker only: no pthread workers without SharedArrayBuffer.
    expect(workers.filter((w) => w.startsWith('blob:'))).toEqual([]);
    expectNoErrors(logs, server);
  });

  it('under a sub-path with COOP/COEP: every file (the 3D demo set too) loads from the sub-path and wasm runs threaded', async () => {
    const base = '/tools/mam-studio/';
    const subDist = await buildApp('sub-path', base);
    const { page, logs, server, workers } = await host({ [base]: subDist }, true);
    await page.goto(`${server.origin}${base}`);
    await ready(page);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const backend = await trainOnWasm(page);
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    expect(threadsOf(backend)).toBe(expectedThreads(cores));
    expect(requested(server, THREADED_BINARY)).toBe(true);
    expect(workers.filter((w) => w.startsWith('blob:')).length).toBeGreaterThan(0);
    // A 3D preset takes the 3D demo set, which the build ships too.
    await page.getByTestId('presets').selectOption('nnformer-mam-demo');
    await expect
      .poll(() => byId(page, 'data-info').textContent(), { timeout: 180_000 })
      .toMatch(/demo3d: .*3 volumes/);
    const outside = server.requests.filter((r) => !r.path.startsWith(base));
    expect(outside).toEqual([]);
    for (const folder of ['presets/', 'data/demo/', 'data/demo3d/', 'tfjs-wasm/', 'assets/'])
      expect(
        server.requests.some((r) => r.path.startsWith(base + folder)),
        folder,
      ).toBe(true);
    expectNoErrors(logs, server);
  });

  it('without headers, our service worker isolates the page after one reload and wasm runs threaded', async () => {
    const { page, logs, server, workers } = await host({ '/': dist() }, false);
    await page.goto(`${server.origin}/`);
    // The page registers coi-sw.js and reloads itself once.
    await expect
      .poll(() => page.evaluate(() => crossOriginIsolated).catch(() => false), { timeout: 60_000 })
      .toBe(true);
    await ready(page);
    expect(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toBe(
      `${server.origin}/coi-sw.js`,
    );
    const backend = await trainOnWasm(page);
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    expect(threadsOf(backend)).toBe(expectedThreads(cores));
    expect(requested(server, THREADED_BINARY)).toBe(true);
    expect(workers.filter((w) => w.startsWith('blob:')).length).toBeGreaterThan(0);
    expect(server.requests.filter((r) => r.path === '/').length).toBe(2);
    expectNoErrors(logs, server);
  });
});
