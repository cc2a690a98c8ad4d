// Starts the editor's vite dev server on a free port and a headless Chromium
// (Debian's, with WebGPU on SwiftShader when there is no GPU) pointed at it.
// With MAM_E2E_TARGET=prod (the e2e-prod project) it serves the production
// build in MAM_E2E_DIST with `vite preview` instead, so the same tests run
// against what users get from `npm run build`; the host page (test/e2e/host)
// is then its own production bundle (prod-build.ts), served as static files.
import { mkdirSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createServer, preview } from 'vite';
import { expect } from 'vitest';
import { E2E_BUILDS, HOST_PATH } from './prod-build.ts';
import { startStaticServer } from './static-server.ts';

const root = resolve(import.meta.dirname, '../..');

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * `--enable-unsafe-webgpu` is the one flag WebGPU needs here: without it
 * headless Chromium offers no adapter; with it SwiftShader's Vulkan gives one
 * (and a real GPU's driver, where there is one). The rest keep a test run
 * quiet and offline. `--disable-gpu-sandbox` makes no difference to the
 * adapter but spares the GPU process a sandbox that --no-sandbox already drops.
 */
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-gpu-sandbox',
];

export const SCREENSHOT_DIR = join(root, 'test-results', 'screenshots');

export interface BrowserSession {
  page: Page;
  /** The server's address (dev server or `vite preview`), ending in `/`. */
  baseUrl: string;
  /** The page's console messages and uncaught errors, for failure messages. */
  logs: string[];
  /** Writes test-results/screenshots/<name>.png; the name defaults to the current test's. */
  screenshot(name?: string): Promise<string>;
  close(): Promise<void>;
}

/** Which build the e2e tests run against: the dev server (default) or the production bundle. */
export const E2E_TARGET: 'dev' | 'prod' = process.env.MAM_E2E_TARGET === 'prod' ? 'prod' : 'dev';

/** Opens `path` (default: the editor) in a fresh Chromium page served by a fresh vite. */
export async function openBrowser(path = '/'): Promise<BrowserSession> {
  const server =
    E2E_TARGET === 'dev'
      ? await startVite()
      : path.startsWith(HOST_PATH)
        ? await startHostServer()
        : await startPreview();
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const logs = collectLogs(page);
    const baseUrl = server.url;
    await page.goto(new URL(path, baseUrl).href);
    const opened = browser;
    return {
      page,
      baseUrl,
      logs,
      screenshot: (name) => screenshot(page, name),
      async close() {
        await opened.close();
        await server.close();
      },
    };
  } catch (e) {
    await browser?.close();
    await server.close();
    throw e;
  }
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/** The page's console messages and uncaught errors, as `[type] text` lines. */
export function collectLogs(page: Page): string[] {
  const logs: string[] = [];
  page.on('console', (m) => logs.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`[pageerror] ${e.message}`));
  return logs;
}

export interface Served {
  /** The app's address, ending in `/`. */
  url: string;
  close(): Promise<void>;
}

/** Serves the editor: the dev server, or `vite preview` of the build in `dist` (a folder). */
export function serveApp(target: 'dev' | 'prod', dist?: string): Promise<Served> {
  return target === 'dev' ? startVite() : startPreview(dist);
}

/**
 * Calls `exported(...args)` from a module vite serves (path from the repo root,
 * e.g. `/test/e2e/fixtures/x.ts`) inside the page. The call is sent as text:
 * vitest rewrites `import()` in test code, so a function passed to
 * page.evaluate could not import.
 */
export function callInPage<T>(
  page: Page,
  modulePath: string,
  exported: string,
  ...args: unknown[]
): Promise<T> {
  const call = `${exported}(...${JSON.stringify(args)})`;
  return page.evaluate(`import(${JSON.stringify(modulePath)}).then((m) => m.${call})`);
}

async function startVite(): Promise<Served> {
  const server = await createServer({
    configFile: join(root, 'vite.config.ts'),
    root,
    logLevel: 'warn',
    // Its own cache, so a test run never fights `npm start` over node_modules/.vite.
    cacheDir: join(root, 'node_modules', '.vite-e2e'),
    server: { port: await freePort(), strictPort: true, hmr: false, open: false, watch: null },
  });
  await server.listen();
  return { url: server.resolvedUrls?.local[0] ?? '', close: () => server.close() };
}

/** `vite preview` of the build the e2e-prod project's global setup made (test/e2e/prod-build.ts). */
async function startPreview(dist = process.env.MAM_E2E_DIST): Promise<Served> {
  if (!dist) throw new Error('MAM_E2E_TARGET=prod needs MAM_E2E_DIST (the built app)');
  const outDir = resolve(root, dist);
  const server = await preview({
    configFile: join(root, 'vite.config.ts'),
    root,
    logLevel: 'warn',
    build: { outDir },
    preview: { port: await freePort(), strictPort: true, open: false },
  });
  return { url: server.resolvedUrls?.local[0] ?? '', close: () => server.close() };
}

/** The host page's production bundle (built by the global setup) with the presets it fetches. */
async function startHostServer(): Promise<Served> {
  const server = await startStaticServer({
    mounts: { [HOST_PATH]: join(E2E_BUILDS, 'host'), '/presets/': join(root, 'presets') },
    isolation: true,
  });
  return { url: `${server.origin}/`, close: () => server.close() };
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createNetServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => done(port));
    });
  });
}

/** Writes test-results/screenshots/<name>.png of a page; the name defaults to the current test's. */
export async function screenshot(page: Page, name?: string): Promise<string> {
  const testName = name ?? expect.getState().currentTestName ?? 'screenshot';
  const file = join(SCREENSHOT_DIR, `${testName.replace(/[^\w.-]+/g, '-')}.png`);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
