// Starts the editor's vite dev server on a free port and a headless Chromium
// (Debian's, with WebGPU on SwiftShader when there is no GPU) pointed at it.
import { mkdirSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { expect } from 'vitest';

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
  /** The dev server's address, ending in `/`. */
  baseUrl: string;
  /** The page's console messages and uncaught errors, for failure messages. */
  logs: string[];
  /** Writes test-results/screenshots/<name>.png; the name defaults to the current test's. */
  screenshot(name?: string): Promise<string>;
  close(): Promise<void>;
}

/** Opens `path` (default: the editor) in a fresh Chromium page served by a fresh vite. */
export async function openBrowser(path = '/'): Promise<BrowserSession> {
  const server = await startVite();
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const logs: string[] = [];
    page.on('console', (m) => logs.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`[pageerror] ${e.message}`));
    const baseUrl = server.resolvedUrls?.local[0] ?? '';
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

async function startVite(): Promise<ViteDevServer> {
  const server = await createServer({
    configFile: join(root, 'vite.config.ts'),
    root,
    logLevel: 'warn',
    // Its own cache, so a test run never fights `npm start` over node_modules/.vite.
    cacheDir: join(root, 'node_modules', '.vite-e2e'),
    server: { port: await freePort(), strictPort: true, hmr: false, open: false, watch: null },
  });
  await server.listen();
  return server;
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
