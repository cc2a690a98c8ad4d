/**
 * The editor as a user feels it, in headless Chromium against the vite dev
 * server (test/e2e/browser.ts): Lit runs in dev mode there and modules are
 * served one by one, so absolute times are upper bounds on a production build.
 *
 * 1. First render of a preset: from choosing it in the toolbar's Presets menu
 *    (on an empty canvas, after New) until every node of the document is on
 *    the canvas with the output shape text inference gives it.
 * 2. Parameter edit: patch_embed's embedDim typed into the inspector; from the
 *    Enter keydown until the node's output shape and the totals bar show the
 *    new values (and until every node shows its new shapes).
 * 3. analyzeGraph alone on the same documents, inside the page.
 *
 * Largest preset (Swin-Unet MAM STS enc+dec, 44 nodes) against demo-mam
 * (23 nodes) measured in the same page, interleaved. Times are taken in the
 * page with performance.now(); the page checks the canvas once per animation
 * frame and stamps the frame in which the DOM is complete ("frame") and the
 * first task after that frame's rendering ("painted"). Nothing is asserted.
 * `--profile` adds a CPU profile of one large load and one large edit and
 * prints where their time went.
 * 4. The production build next to the dev server (bench/editor-build.ts):
 *    bundle sizes, and first-load time and JavaScript bytes as ratios
 *    (`--build-only` measures only this).
 */
import { cpus as cpuList, loadavg } from 'node:os';
import type { Page } from 'playwright-core';
import { openBrowser } from '../test/e2e/browser.ts';
import { bringIntoView, freshEditor, node, settle } from '../test/e2e/editor-helpers.ts';
import { measureBuild } from './editor-build.ts';
import { writeResult } from './util.ts';

const LARGE = 'swin-unet-mam-sts-encdec';
const DEMO = 'demo-mam';
const RUNS = 5;
const WARMUP = 1;

/** What the page reports for one timed interaction (ms from the trigger). */
interface Timing {
  frameMs: number;
  paintedMs: number;
  /** Long tasks (> 50 ms) between the trigger and the painted stamp. */
  longTaskMs: number;
  longestTaskMs: number;
}

interface EditTiming extends Timing {
  /** Every node, not only the edited one, shows its new shapes. */
  allFrameMs: number;
}

/**
 * Installed in the page as `window.__bench`. Plain JavaScript text: functions
 * passed to page.evaluate from tsx can carry helper calls the page lacks.
 */
const PROBE = String.raw`(async () => {
  const { describeShape } = await import('/src/graph/node-kind.ts');
  const { analyzeGraph } = await import('/src/graph/infer.ts');
  const { catalogue } = await import('/nodes/index.ts');
  const { presets } = await import('/src/graph/presets.ts');
  const frame = () => new Promise((r) => requestAnimationFrame(r));
  const nextTask = () =>
    new Promise((r) => {
      const c = new MessageChannel();
      c.port1.onmessage = () => r();
      c.port2.postMessage(0);
    });
  const long = [];
  new PerformanceObserver((l) => long.push(...l.getEntries())).observe({ type: 'longtask' });
  const longTasks = (t0, t1) => {
    const inside = long.filter((e) => e.startTime + e.duration > t0 && e.startTime < t1);
    return {
      longTaskMs: inside.reduce((s, e) => s + e.duration, 0),
      longestTaskMs: inside.reduce((m, e) => Math.max(m, e.duration), 0),
    };
  };
  // id -> [[port, shape text]] as the canvas should show it.
  const expected = (doc) => {
    const a = analyzeGraph(doc, catalogue);
    const want = new Map();
    for (const n of doc.nodes) {
      const outs = a.nodes.get(n.id)?.outputs ?? {};
      want.set(n.id, Object.entries(outs).map(([k, s]) => [k, describeShape(s)]));
    }
    return { want, params: a.params.toLocaleString('en') };
  };
  const nodeEls = () => {
    const m = new Map();
    for (const host of document.querySelectorAll('mam-node')) {
      const el = host.shadowRoot?.querySelector('[data-testid="mam-node"]');
      if (el) m.set(el.dataset.nodeId, el);
    }
    return m;
  };
  const shows = (el, ports) =>
    !!el &&
    el.isConnected &&
    ports.every(([k, text]) => el.querySelector('[data-testid="shape-' + k + '"]')?.textContent.trim() === text);
  const allDrawn = (want) => {
    const els = nodeEls();
    if (els.size !== want.size) return false;
    for (const [id, ports] of want) if (!shows(els.get(id), ports)) return false;
    return true;
  };
  const totalParams = () =>
    document.querySelector('mam-totals')?.shadowRoot?.querySelector('[data-testid="total-params"] b')
      ?.textContent;
  // Checks once per frame; stamps every condition in the frame it first holds.
  const waitFrames = async (t0, conds, timeoutMs = 30000) => {
    const at = conds.map(() => undefined);
    for (;;) {
      await frame();
      const now = performance.now();
      conds.forEach((c, i) => {
        if (at[i] === undefined && c()) at[i] = now - t0;
      });
      if (at.every((t) => t !== undefined)) break;
      if (now - t0 > timeoutMs) throw new Error('bench: canvas never showed the expected shapes');
    }
    await nextTask();
    const painted = performance.now();
    return { at, paintedMs: painted - t0, ...longTasks(t0, painted) };
  };
  const arm = (type, match, measure) => {
    window.__bench.pending = new Promise((resolve, reject) => {
      const on = (e) => {
        if (!match(e)) return;
        removeEventListener(type, on, true);
        measure(performance.now()).then(resolve, reject);
      };
      addEventListener(type, on, true);
    });
  };
  window.__bench = {
    pending: undefined,
    armLoad(name) {
      const { want } = expected(presets(catalogue)[name]);
      arm(
        'input',
        (e) => e.composedPath()[0]?.dataset?.testid === 'presets',
        async (t0) => {
          const r = await waitFrames(t0, [() => allDrawn(want)]);
          return { frameMs: r.at[0], paintedMs: r.paintedMs, longTaskMs: r.longTaskMs, longestTaskMs: r.longestTaskMs };
        },
      );
    },
    armEdit(id, param, value) {
      const doc = structuredClone(window.__mam.doc);
      doc.nodes.find((n) => n.id === id).params[param] = value;
      const { want, params } = expected(doc);
      const mine = want.get(id);
      arm(
        'keydown',
        (e) => e.key === 'Enter',
        async (t0) => {
          const r = await waitFrames(t0, [
            () => shows(nodeEls().get(id), mine) && totalParams() === params,
            () => allDrawn(want) && totalParams() === params,
          ]);
          return {
            frameMs: r.at[0],
            allFrameMs: r.at[1],
            paintedMs: r.paintedMs,
            longTaskMs: r.longTaskMs,
            longestTaskMs: r.longestTaskMs,
          };
        },
      );
    },
    analyzeMs(warmup = 20, runs = 50) {
      const doc = window.__mam.doc;
      // a fresh document object each time: analyses are memoised per document
      for (let i = 0; i < warmup; i++) analyzeGraph({ ...doc }, catalogue);
      const ts = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        analyzeGraph({ ...doc }, catalogue);
        ts.push(performance.now() - t0);
      }
      ts.sort((a, b) => a - b);
      return { median: ts[Math.floor(ts.length / 2)], min: ts[0], nodes: doc.nodes.length };
    },
  };
})()`;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const r1 = (x: number) => Number(x.toFixed(1));
const r2 = (x: number) => Number(x.toFixed(2));

function summary<T extends Timing>(runs: T[]) {
  const out: Record<string, number> = {};
  for (const key of Object.keys(runs[0]) as (keyof T & string)[])
    out[key] = r1(median(runs.map((r) => r[key] as number)));
  return out;
}

async function choosePreset(page: Page, name: string) {
  await page.getByTestId('presets').selectOption(name);
  await settle(page);
}

/** New (empty canvas), then the preset from the menu, timed in the page. */
async function timeLoad(page: Page, name: string): Promise<Timing> {
  await page.getByTestId('new').click();
  await settle(page);
  await page.evaluate(`__bench.armLoad(${JSON.stringify(name)})`);
  await page.getByTestId('presets').selectOption(name);
  const t = (await page.evaluate('__bench.pending')) as Timing;
  await settle(page);
  return t;
}

/** Opens the preset, selects patch_embed on the canvas; returns its embedDim. */
async function selectPatchEmbed(page: Page, name: string): Promise<number> {
  await choosePreset(page, name);
  await bringIntoView(page, 'patch_embed');
  await node(page, 'patch_embed').locator('header').click();
  await settle(page);
  const selected = (await page.evaluate('window.__mam.selected')) as string[];
  if (selected.join() !== 'patch_embed') throw new Error(`bench: selected ${selected}`);
  return (await page.evaluate(
    `window.__mam.doc.nodes.find((n) => n.id === 'patch_embed').params.embedDim`,
  )) as number;
}

/** Types a value into the inspector's embedDim field and presses Enter, timed in the page. */
async function timeEdit(page: Page, value: number): Promise<EditTiming> {
  const field = page.locator('mam-inspector input[data-param="embedDim"]');
  await field.selectText();
  await page.keyboard.type(String(value));
  await settle(page);
  await page.evaluate(`__bench.armEdit('patch_embed', 'embedDim', ${value})`);
  await page.keyboard.press('Enter');
  const t = (await page.evaluate('__bench.pending')) as EditTiming;
  await settle(page);
  const now = await page.evaluate(
    `window.__mam.doc.nodes.find((n) => n.id === 'patch_embed').params.embedDim`,
  );
  if (now !== value) throw new Error(`bench: embedDim is ${now}, typed ${value}`);
  return t;
}

/** Self time by function and by module over a CPU profile of `fn`. */
async function profile(page: Page, fn: () => Promise<unknown>) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  await fn();
  const { profile: p } = await cdp.send('Profiler.stop');
  await cdp.detach();
  const byNode = new Map<number, number>();
  p.samples?.forEach((id, i) =>
    byNode.set(id, (byNode.get(id) ?? 0) + (p.timeDeltas?.[i] ?? 0) / 1000),
  );
  const byFn = new Map<string, number>();
  const byModule = new Map<string, number>();
  const short = (url: string) =>
    url
      .replace(/^https?:\/\/[^/]+/, '')
      .replace(/\?.*$/, '')
      .replace('/node_modules/.vite-e2e/deps/', 'deps:');
  for (const n of p.nodes) {
    const ms = byNode.get(n.id) ?? 0;
    if (!ms) continue;
    const f = n.callFrame;
    // Samples outside JavaScript carry a name and no url: (program), (garbage collector), (idle).
    const where = f.url ? short(f.url) : f.functionName;
    const fnKey = f.url
      ? `${f.functionName || '(anonymous)'} ${where}:${f.lineNumber + 1}`
      : f.functionName || '(anonymous)';
    byFn.set(fnKey, (byFn.get(fnKey) ?? 0) + ms);
    byModule.set(where, (byModule.get(where) ?? 0) + ms);
  }
  const top = (m: Map<string, number>, k: number) =>
    [...m]
      .filter(([name]) => !name.startsWith('(idle)'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, ms]) => ({ name, ms: r1(ms) }));
  return { functions: top(byFn, 15), modules: top(byModule, 10) };
}

interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: {
    name?: string;
    beginData?: { stackTrace?: { functionName: string; url: string; lineNumber: number }[] };
  };
}

/**
 * A Chrome performance trace of `fn`, summed on the page's main thread:
 * tasks, script, style and layout (those a script forced by reading geometry
 * named by the function that read it), paint.
 */
async function trace(page: Page, fn: () => Promise<unknown>) {
  const browser = page.context().browser();
  if (!browser) return undefined;
  await browser.startTracing(page, {
    categories: [
      'devtools.timeline',
      'disabled-by-default-devtools.timeline',
      'disabled-by-default-devtools.timeline.stack',
    ],
  });
  await fn();
  const { traceEvents } = JSON.parse((await browser.stopTracing()).toString()) as {
    traceEvents: TraceEvent[];
  };
  // The renderer main thread with the most work is the page's.
  const work = new Map<string, number>();
  for (const e of traceEvents)
    if (e.ph === 'X') work.set(`${e.pid}:${e.tid}`, (work.get(`${e.pid}:${e.tid}`) ?? 0) + 1);
  const main = traceEvents
    .filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain')
    .sort((a, b) => (work.get(`${b.pid}:${b.tid}`) ?? 0) - (work.get(`${a.pid}:${a.tid}`) ?? 0))[0];
  if (!main) return undefined;
  const sums = new Map<string, { count: number; ms: number; longest: number }>();
  const add = (name: string, ms: number) => {
    const s = sums.get(name) ?? { count: 0, ms: 0, longest: 0 };
    s.count++;
    s.ms += ms;
    s.longest = Math.max(s.longest, ms);
    sums.set(name, s);
  };
  for (const e of traceEvents) {
    if (e.pid !== main.pid || e.tid !== main.tid || e.ph !== 'X' || e.dur === undefined) continue;
    const ms = e.dur / 1000;
    const top = e.args?.beginData?.stackTrace?.[0];
    const by = top
      ? ` forced by ${top.functionName || '(anonymous)'} ${top.url.replace(/^.*\//, '').replace(/\?.*$/, '')}:${top.lineNumber + 1}`
      : '';
    if (e.name === 'RunTask') add('Task', ms);
    else if (e.name === 'RunMicrotasks') add('Microtasks (script)', ms);
    else if (e.name === 'Layout') add(`Layout${by}`, ms);
    else if (e.name === 'UpdateLayoutTree') add(`Recalculate style${by}`, ms);
    else if (['Paint', 'PrePaint', 'Layerize', 'Commit'].includes(e.name)) add(e.name, ms);
  }
  return [...sums]
    .map(([name, s]) => ({ name, count: s.count, ms: r1(s.ms), longestMs: r1(s.longest) }))
    .sort((a, b) => b.ms - a.ms);
}

async function measureInteractions(args: string[]) {
  const started = performance.now();
  const loadStart = loadavg()[0];
  const cpus = cpuList().length;
  const session = await openBrowser('/');
  const { page, baseUrl } = session;
  try {
    await freshEditor(page, baseUrl);
    await page.evaluate(PROBE);

    // 1. First render, interleaved so both see the same machine load.
    const loads: Record<string, Timing[]> = { [DEMO]: [], [LARGE]: [] };
    for (let i = 0; i < WARMUP + RUNS; i++) {
      for (const name of [DEMO, LARGE]) {
        const t = await timeLoad(page, name);
        if (i >= WARMUP) loads[name].push(t);
      }
    }
    const loadAfterLoads = loadavg()[0];

    // 2. Edits: embedDim halved, then back, alternately.
    const edits: Record<string, EditTiming[]> = { [DEMO]: [], [LARGE]: [] };
    const analyze: Record<string, { median: number; min: number; nodes: number }> = {};
    for (const name of [DEMO, LARGE]) {
      const dim = await selectPatchEmbed(page, name);
      for (let i = 0; i < WARMUP + RUNS; i++) {
        const t = await timeEdit(page, i % 2 === 0 ? dim / 2 : dim);
        if (i >= WARMUP) edits[name].push(t);
      }
      // 3. analyzeGraph alone, on the document as the edits left it (the preset's own values).
      analyze[name] = (await page.evaluate('__bench.analyzeMs()')) as (typeof analyze)[string];
    }
    const loadEnd = loadavg()[0];

    let profiles: unknown;
    let traces: Record<string, Awaited<ReturnType<typeof trace>>> | undefined;
    if (args.includes('--profile')) {
      await page.getByTestId('new').click();
      await settle(page);
      const load = await profile(page, () => choosePreset(page, LARGE));
      const dim = await selectPatchEmbed(page, LARGE);
      const edit = await profile(page, () => timeEdit(page, dim / 2));
      await page.getByTestId('new').click();
      await settle(page);
      const loadTrace = await trace(page, () => choosePreset(page, LARGE));
      profiles = { [`load ${LARGE}`]: load, [`edit ${LARGE}`]: edit };
      traces = { [`load ${LARGE}`]: loadTrace };
    }

    const nodes = { [DEMO]: analyze[DEMO].nodes, [LARGE]: analyze[LARGE].nodes };
    const load = { [DEMO]: summary(loads[DEMO]), [LARGE]: summary(loads[LARGE]) };
    const edit = { [DEMO]: summary(edits[DEMO]), [LARGE]: summary(edits[LARGE]) };
    const analyzeMs = {
      [DEMO]: { median: r2(analyze[DEMO].median), min: r2(analyze[DEMO].min) },
      [LARGE]: { median: r2(analyze[LARGE].median), min: r2(analyze[LARGE].min) },
    };
    const result = {
      how: {
        server: 'vite dev server (Lit in dev mode), headless Chromium, viewport 1280×800',
        load: 'New, then the preset chosen in the toolbar Presets menu; from its input event to the frame in which every node shows its inferred output shapes',
        edit: "patch_embed selected on the canvas, embedDim typed into the inspector (halved, then back); from the Enter keydown to the frame in which the node's output shape and the totals bar's parameter count show the new values",
        runs: RUNS,
        warmup: WARMUP,
        statistic: 'median',
      },
      nodes,
      loadMs: load,
      loadRatio: r2(load[LARGE].frameMs / load[DEMO].frameMs),
      editMs: edit,
      editRatio: r2(edit[LARGE].frameMs / edit[DEMO].frameMs),
      analyzeGraphMs: analyzeMs,
      analyzeShareOfEdit: {
        [DEMO]: r2(analyzeMs[DEMO].median / edit[DEMO].frameMs),
        [LARGE]: r2(analyzeMs[LARGE].median / edit[LARGE].frameMs),
      },
      raw: { loads, edits },
      loadAverage1m: { start: r2(loadStart), afterLoads: r2(loadAfterLoads), end: r2(loadEnd) },
      cpus,
      profiles,
      traces,
      wallS: 0,
      pageErrors: session.logs.filter((l) => l.startsWith('[pageerror]')),
    };
    result.wallS = r1((performance.now() - started) / 1000);

    const la = `load average ${result.loadAverage1m.start} → ${result.loadAverage1m.end}`;
    const both = (m: Record<string, Record<string, number>>, k: string) =>
      `${LARGE} (${nodes[LARGE]} nodes) ${m[LARGE][k]} ms, ${DEMO} (${nodes[DEMO]} nodes) ${m[DEMO][k]} ms`;
    console.log(
      `editor first render (Presets menu → all nodes with shapes): ${both(load, 'frameMs')}; ` +
        `${result.loadRatio}× (painted: ${both(load, 'paintedMs')}; long tasks ${load[LARGE].longTaskMs} vs ${load[DEMO].longTaskMs} ms) ` +
        `(median of ${RUNS}, ${la})`,
    );
    console.log(
      `editor edit embedDim (Enter → node shape + totals): ${both(edit, 'frameMs')}; ${result.editRatio}× ` +
        `(every node: ${both(edit, 'allFrameMs')}; long tasks ${edit[LARGE].longTaskMs} vs ${edit[DEMO].longTaskMs} ms) ` +
        `(median of ${RUNS}, ${la})`,
    );
    console.log(
      `editor analyzeGraph in the page: ${LARGE} ${analyzeMs[LARGE].median} ms, ${DEMO} ${analyzeMs[DEMO].median} ms ` +
        `(median of 50): ${Math.round(result.analyzeShareOfEdit[LARGE] * 100)}% / ${Math.round(result.analyzeShareOfEdit[DEMO] * 100)}% ` +
        `of the edit latency; the rest is the UI`,
    );
    if (profiles) {
      for (const [what, p] of Object.entries(
        profiles as Record<string, Awaited<ReturnType<typeof profile>>>,
      )) {
        console.log(`profile ${what}: self time by module`);
        for (const m of p.modules) console.log(`  ${String(m.ms).padStart(8)} ms  ${m.name}`);
        console.log(`profile ${what}: self time by function`);
        for (const f of p.functions) console.log(`  ${String(f.ms).padStart(8)} ms  ${f.name}`);
      }
    }
    for (const [what, t] of Object.entries(traces ?? {})) {
      console.log(`trace ${what}: main thread`);
      for (const e of t ?? [])
        console.log(
          `  ${String(e.ms).padStart(8)} ms  ${e.name} (${e.count}×, longest ${e.longestMs} ms)`,
        );
    }
    return result;
  } finally {
    await session.close();
  }
}

export async function run(args: string[] = []) {
  const interactions = args.includes('--build-only') ? undefined : await measureInteractions(args);
  const production = await measureBuild();
  const result = { ...interactions, production };
  writeResult('editor', result);
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(process.argv.slice(2));
