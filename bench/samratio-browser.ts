/**
 * `npm run bench -- samratio-browser`: MAM/SAM training-step time in headless
 * Chromium (test/e2e/browser.ts: the editor on the vite dev server), on the
 * browser's own backends, webgl and webgpu (SwiftShader here, the real driver
 * on a GPU). demo-mam and its SAM twin (bench/compile.ts's mamToSam) train in
 * the same page (bench/samratio-page.ts), AdamW at batch 2 on the demo
 * slices, in interleaved rounds (MAM first, then SAM first, …) after one
 * warm-up step each; medians of the per-step wall time, and the CPU time of
 * every Chromium process (GPU process included, where SwiftShader runs) per
 * step. On webgpu also the dispatches per step of each. Only the demo preset: at 224² one step takes
 * minutes on SwiftShader.
 *
 * `npm run bench -- samratio-browser [--backends=webgl,webgpu] [--steps N] [--rounds R]`
 */
import { readFileSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { callInPage, openBrowser } from '../test/e2e/browser.ts';
import { loadGraph } from '../src/graph/load.ts';
import type { TrainSettings } from '../src/train/checkpoint.ts';
import { catalogue } from '../nodes/index.ts';
import { mamToSam } from './compile.ts';
import { benchFlags } from './peer.ts';
import { benchSettings, writeResult } from './util.ts';

const PAGE = '/bench/samratio-page.ts';
const PRESET = 'presets/demo-mam.json';
const BATCH = 2;
const BACKENDS = ['webgl', 'webgpu'] as const;
const USAGE =
  'npm run bench -- samratio-browser [--backends=webgl,webgpu] [--steps N] [--rounds R]';

/** The flags (bench/peer.ts's benchFlags); a mistake is one line naming the flag, exit 64. */
export function parseSamRatioArgs(argv: string[]) {
  const flags = ['backends', 'steps', 'rounds'];
  const { count, list } = benchFlags('samratio-browser', USAGE, argv, flags);
  return {
    backends: list('backends', BACKENDS, 'backend') ?? [...BACKENDS],
    steps: count('steps', 2),
    rounds: count('rounds', 2),
  };
}

/** CPU ms (user + system) of every process below this one: Chromium's browser, GPU and renderer processes. */
function childrenCpuMs(): number {
  const parent = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${d}/stat`, 'utf8');
    } catch {
      continue; // it ended meanwhile
    }
    // fields after the command name (which may hold spaces): state ppid ... utime(14) stime(15)
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    parent.set(Number(d), Number(f[1]));
    ticks.set(Number(d), Number(f[11]) + Number(f[12]));
  }
  const below = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p))
      if (p === process.pid) return true;
    return false;
  };
  let sum = 0;
  for (const [pid, t] of ticks) if (below(pid)) sum += t;
  return sum * 10; // USER_HZ is 100 on Linux
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const r3 = (x: number) => Number(x.toFixed(3));

export async function run(argv: string[] = []) {
  const { backends, steps, rounds } = parseSamRatioArgs(argv);
  const text = readFileSync(PRESET, 'utf8');
  const g = loadGraph(text, catalogue);
  if (!g.ok) throw new Error(`${PRESET} does not load`);
  const docs = { mam: text, sam: JSON.stringify(mamToSam(g.graph)) };
  const settings = (n: number): TrainSettings => benchSettings(BATCH, n, false);
  const result: Record<string, unknown> = {
    preset: PRESET,
    batch: BATCH,
    steps,
    rounds,
    loadavg1mAtStart: r3(loadavg()[0]),
  };
  const session = await openBrowser('/');
  try {
    const call = <T>(fn: string, ...args: unknown[]) =>
      callInPage<T>(session.page, PAGE, fn, ...args);
    for (const backend of backends) {
      const up = await call<{ backend: { adapterInfo?: string } }>(
        'setUp',
        backend,
        docs,
        `${session.baseUrl}data/demo/`,
      );
      const ms: Record<string, number[]> = { mam: [], sam: [] };
      const cpu: Record<string, number[]> = { mam: [], sam: [] };
      const perRound: Record<string, { ms: number; cpuMs: number }[]> = { mam: [], sam: [] };
      // the page's tensor count after each call: flat, or the loop leaks
      const tensors: number[] = [];
      for (const name of ['mam', 'sam']) await call('steps', name, settings(1));
      for (let r = 0; r < rounds; r++)
        // every other round SAM first: the first step after the warm-ups also
        // pays for work Chromium's GPU process left from them (seen on webgpu)
        for (const name of r % 2 ? ['sam', 'mam'] : ['mam', 'sam']) {
          const c0 = childrenCpuMs();
          const a = await call<{ ms: number[]; numTensors: number }>(
            'steps',
            name,
            settings(steps),
          );
          tensors.push(a.numTensors);
          const c = (childrenCpuMs() - c0) / steps;
          ms[name].push(...a.ms);
          cpu[name].push(c);
          perRound[name].push({ ms: median(a.ms), cpuMs: c });
          // a round on SwiftShader takes minutes: say where it is
          console.log(
            `samratio-browser: ${backend} round ${r + 1}/${rounds}, ${name}: ${median(a.ms).toFixed(0)} ms/step, CPU ${c.toFixed(0)} ms/step`,
          );
        }
      const m = { ms: median(ms.mam), cpuMs: median(cpu.mam) };
      const q = { ms: median(ms.sam), cpuMs: median(cpu.sam) };
      const spread = (k: 'ms' | 'cpuMs') => {
        const xs = perRound.mam.map((x, i) => x[k] / perRound.sam[i][k]);
        return [r3(Math.min(...xs)), r3(Math.max(...xs))];
      };
      const load = r3(loadavg()[0]);
      const row: Record<string, unknown> = {
        adapter: up.backend.adapterInfo,
        mam: m,
        sam: q,
        ratio: r3(m.ms / q.ms),
        cpuRatio: r3(m.cpuMs / q.cpuMs),
        ratioSpread: spread('ms'),
        cpuRatioSpread: spread('cpuMs'),
        loadavg1m: load,
        numTensors: tensors,
      };
      let gpu = '';
      if (new Set(tensors).size > 1)
        console.log(`samratio-browser: ${backend}: tensors left in the page ${tensors.join(', ')}`);
      if (backend === 'webgpu') {
        const d = {
          mam: await call<number>('dispatches', 'mam', settings(1)),
          sam: await call<number>('dispatches', 'sam', settings(1)),
        };
        row.dispatches = d;
        gpu = `; dispatches per step ${d.mam} / ${d.sam}`;
      }
      result[backend] = row;
      const [lo, hi] = row.cpuRatioSpread as number[];
      console.log(
        `samratio-browser: MAM/SAM in Chromium on ${backend} (${String(up.backend.adapterInfo)}), ${PRESET}: ${m.ms.toFixed(0)} / ${q.ms.toFixed(0)} ms → ${String(row.ratio)}, by Chromium's CPU time ${m.cpuMs.toFixed(0)} / ${q.cpuMs.toFixed(0)} → ${String(row.cpuRatio)} (rounds ${lo}–${hi}; goal ≤ 1.03; load average ${load})${gpu}`,
      );
    }
  } finally {
    await session.close();
  }
  writeResult('samratio-browser', result);
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(process.argv.slice(2));
