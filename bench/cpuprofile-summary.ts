/**
 * Self time of a V8 CPU profile (`node --cpu-prof`), by function and by
 * where the function lives: our src/, tfjs's core (engine, tape, ops), the
 * wasm backend's JavaScript, wasm code (its kernels), the garbage collector,
 * V8/Node themselves. `--last=MS` keeps only the profile's last MS
 * milliseconds (the steady steps, not the start-up).
 *
 * `tsx bench/cpuprofile-summary.ts FILE.cpuprofile [--last=MS] [--top=N]`
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { last: { type: 'string' }, top: { type: 'string', default: '40' } },
});
const prof = JSON.parse(readFileSync(positionals[0], 'utf8')) as CpuProfile;

/** Where a function lives, from its script's URL. */
function place(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  if (url.startsWith('wasm://')) return 'wasm';
  if (url.includes('tfjs-backend-wasm')) return 'tfjs-backend-wasm (JS)';
  if (url.includes('tfjs-core')) return 'tfjs-core';
  if (url.includes('node_modules')) return 'other node_modules';
  if (url.includes('/src/backend/')) return 'src/backend';
  if (url.includes('/src/')) return 'src (other)';
  if (url.startsWith('node:')) return 'node internals';
  return 'other';
}

const byId = new Map(prof.nodes.map((n) => [n.id, n]));
// sample i's time is the delta to the next sample (V8 attributes it that way too)
const times = prof.timeDeltas
  .slice(1)
  .concat([0])
  .map((d) => d / 1000);
const total = times.reduce((a, b) => a + b, 0);
const from = values.last ? total - Number(values.last) : 0;

const byFn = new Map<string, number>();
const byPlace = new Map<string, number>();
let t = 0;
let counted = 0;
for (let i = 0; i < prof.samples.length; i++) {
  const ms = times[i];
  t += ms;
  if (t < from) continue;
  const f = byId.get(prof.samples[i])!.callFrame;
  if (f.functionName === '(idle)') continue;
  const where = place(f.url, f.functionName);
  const short = f.url.replace(/^.*node_modules\//, '').replace(/^.*\/(src|bench)\//, '$1/');
  const key = `${f.functionName || '(anonymous)'}  ${short}:${f.lineNumber + 1}`;
  byFn.set(key, (byFn.get(key) ?? 0) + ms);
  byPlace.set(where, (byPlace.get(where) ?? 0) + ms);
  counted += ms;
}

const rows = (m: Map<string, number>, n: number) =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(
      ([k, ms]) =>
        `${ms.toFixed(1).padStart(9)} ms ${((100 * ms) / counted).toFixed(1).padStart(5)}%  ${k}`,
    )
    .join('\n');
console.log(`${counted.toFixed(0)} ms of samples (not idle)\n\nby place:\n${rows(byPlace, 20)}`);
console.log(`\nby function (self time):\n${rows(byFn, Number(values.top))}`);
