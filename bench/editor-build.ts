/**
 * The production build next to the dev server: JavaScript bundle sizes of
 * `vite build` (main thread and training worker, raw and gzip), and the
 * editor's first load (a fresh browser context, no cache: navigation start
 * to `mam-app[data-ready]`, the demo graph on the canvas) and the JavaScript
 * bytes it fetched, from `vite preview` of that build and from the dev
 * server, interleaved, as ratios prod / dev. Part of bench/editor.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { launchChromium, serveApp, type Served } from '../test/e2e/browser.ts';
import { buildApp } from '../test/e2e/prod-build.ts';

const RUNS = 5;
const WARMUP = 1;

interface Sizes {
  files: number;
  rawBytes: number;
  gzipBytes: number;
}

interface FirstLoad {
  readyMs: number;
  jsBytes: number;
}

/** Stamps the moment mam-app gets data-ready, in the page's own clock. */
const READY_PROBE = `(() => {
  new MutationObserver((_, observer) => {
    if (document.querySelector('mam-app[data-ready]')) {
      window.__readyAt = performance.now();
      observer.disconnect();
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-ready'] });
})();`;

function sizes(dir: string, files: string[]): Sizes {
  let rawBytes = 0;
  let gzipBytes = 0;
  for (const f of files) {
    const bytes = readFileSync(join(dir, f));
    rawBytes += bytes.length;
    gzipBytes += gzipSync(bytes, { level: 9 }).length;
  }
  return { files: files.length, rawBytes, gzipBytes };
}

async function firstLoad(browser: Browser, served: Served): Promise<FirstLoad> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    await page.addInitScript(READY_PROBE);
    await page.goto(served.url);
    await page.waitForFunction(
      () => (window as { __readyAt?: number }).__readyAt !== undefined,
      undefined,
      {
        timeout: 120_000,
      },
    );
    return await page.evaluate(() => ({
      readyMs: (window as unknown as { __readyAt: number }).__readyAt,
      jsBytes: performance
        .getEntriesByType('resource')
        .filter(
          (e) =>
            /\.(js|ts|mjs)(\?|$)/.test(e.name) ||
            (e as PerformanceResourceTiming).initiatorType === 'script',
        )
        .reduce((s, e) => s + (e as PerformanceResourceTiming).encodedBodySize, 0),
    }));
  } finally {
    await context.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const r1 = (x: number) => Math.round(x * 10) / 10;
const r2 = (x: number) => Math.round(x * 100) / 100;

export async function measureBuild() {
  const t0 = performance.now();
  const dist = await buildApp('bench');
  const buildS = r1((performance.now() - t0) / 1000);
  const js = readdirSync(join(dist, 'assets')).filter((f) => f.endsWith('.js'));
  const worker = js.filter((f) => f.startsWith('train-worker'));
  const bundle = {
    main: sizes(
      join(dist, 'assets'),
      js.filter((f) => !worker.includes(f)),
    ),
    worker: sizes(join(dist, 'assets'), worker),
  };

  const servers = { dev: await serveApp('dev'), prod: await serveApp('prod', dist) };
  const browser = await launchChromium();
  const loads: Record<'dev' | 'prod', FirstLoad[]> = { dev: [], prod: [] };
  try {
    for (let i = 0; i < WARMUP + RUNS; i++) {
      for (const target of ['dev', 'prod'] as const) {
        const l = await firstLoad(browser, servers[target]);
        if (i >= WARMUP) loads[target].push(l);
      }
    }
  } finally {
    await browser.close();
    await servers.dev.close();
    await servers.prod.close();
  }
  const firstLoadMs = {
    dev: r1(median(loads.dev.map((l) => l.readyMs))),
    prod: r1(median(loads.prod.map((l) => l.readyMs))),
  };
  const jsBytes = {
    dev: median(loads.dev.map((l) => l.jsBytes)),
    prod: median(loads.prod.map((l) => l.jsBytes)),
  };
  const result = {
    how: `vite build into test-results/builds/bench (${buildS} s); first load: fresh browser context, navigation start to mam-app[data-ready], vite preview vs the dev server; JavaScript bytes as transferred (encodedBodySize: vite preview gzips, the dev server does not), interleaved, median of ${RUNS} after ${WARMUP} warm-up`,
    bundle,
    firstLoadMs,
    firstLoadRatio: r2(firstLoadMs.prod / firstLoadMs.dev),
    firstLoadJsBytes: jsBytes,
    firstLoadJsBytesRatio: r2(jsBytes.prod / jsBytes.dev),
    raw: loads,
  };
  const kb = (b: number) => `${Math.round(b / 1024)} KiB`;
  console.log(
    `editor production bundle: main thread ${kb(bundle.main.rawBytes)} (${kb(bundle.main.gzipBytes)} gzip, ${bundle.main.files} files), ` +
      `training worker ${kb(bundle.worker.rawBytes)} (${kb(bundle.worker.gzipBytes)} gzip); built in ${buildS} s`,
  );
  console.log(
    `editor first load (to data-ready): production ${firstLoadMs.prod} ms, dev server ${firstLoadMs.dev} ms: ${result.firstLoadRatio}×; ` +
      `JavaScript fetched ${kb(jsBytes.prod)} vs ${kb(jsBytes.dev)}: ${result.firstLoadJsBytesRatio}× (median of ${RUNS})`,
  );
  return result;
}
