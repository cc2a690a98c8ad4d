/**
 * `npm run bench -- peer`: training throughput of our loop on wasm against the
 * same network in PyTorch eager (bench/peer_torch.py, the test oracle's
 * Swin-Unet-MAM), same loss and AdamW, on this machine, in rounds that
 * alternate the two sides so that load from elsewhere hits both alike:
 *
 * 1. demo-mam (128×128×1, batch 2), 1 thread each, then every core each;
 * 2. swin-unet-mam-ists (224², batch 1), the same;
 * 3. MAM/SAM step time (demo-mam against it with every MAM unit made SAM), on
 *    each backend `--backends` names (wasm, cpu, webgpu; default wasm);
 * 4. a kernel profile of one demo training step on one thread (bench/out/peer-profile.{json,txt}),
 *    the peak tfjs bytes of a step and the process RSS;
 * 5. on webgpu (Dawn, when it starts), kernel dispatches per demo training step;
 * 6. `threads`: demo-mam on wasm, 1 thread against every core, raced: the speed-up.
 *
 * Each side runs in its own process (the wasm thread count is fixed when the
 * backend starts) and answers `steps N` with per-step milliseconds. Each side
 * first runs untimed warm-up steps (`--warmup W`; by default 8 for the demo,
 * where ours takes ~6 steps to reach its steady time as V8 optimizes the
 * JavaScript and tiers up the wasm kernels, and 2 for 224²; the time they
 * took is printed too), then rounds of timed steps, the side that goes first
 * alternating round by round. Medians over the timed steps.
 *
 * `--against=DIR` races demo-mam (`--preset=224`: swin-unet-mam-ists at 224²)
 * on wasm, 1 thread, against the same bench in DIR (a checkout of an earlier
 * commit): the before/after ratio of a change, both measured under the same
 * load. With `--against` only the parts named by `--only` run besides.
 *
 * `npm run bench -- peer [--steps N] [--rounds R] [--warmup W] [--quick] [--only=demo,224,samratio,profile,webgpu,threads] [--backends=wasm,cpu,webgpu] [--against=DIR [--preset=demo|224]]`
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createInterface, type Interface } from 'node:readline';
import { parseArgs } from 'node:util';
import { writeResult } from './util.ts';

const PYTHON = '.venv/bin/python';

const DEMO = {
  preset: 'presets/demo-mam.json',
  batch: 2,
  // steps each side runs before the timed ones: ours reaches its steady step
  // time after ~6 (V8 tiering up tfjs's JavaScript and the wasm kernels),
  // PyTorch after 1–2
  warmup: 8,
  torch: {
    imageSize: 128,
    inChannels: 1,
    classes: 8,
    embedDim: 32,
    depths: [2, 2, 2],
    heads: [2, 4, 8],
    window: 4,
    patchSize: 4,
  },
};
const SWIN224 = {
  preset: 'presets/swin-unet-mam-ists.json',
  batch: 1,
  warmup: 2,
  torch: {
    imageSize: 224,
    inChannels: 3,
    classes: 9,
    embedDim: 96,
    depths: [2, 2, 6, 2],
    heads: [3, 6, 12, 24],
    window: 7,
    patchSize: 4,
  },
};
type Config = typeof DEMO;

/** A child process that answers one JSON line per command line. */
class Peer {
  private readonly lines: AsyncIterator<string>;
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly rl: Interface;
  private stderr = '';

  constructor(
    readonly name: string,
    cmd: string,
    args: string[],
    cwd?: string,
  ) {
    this.proc = spawn(cmd, args, { cwd });
    // writing to a child that died fails with EPIPE; read() reports its death with its stderr
    this.proc.stdin.on('error', () => undefined);
    this.proc.stderr.on('data', (d: Buffer) => (this.stderr = (this.stderr + d).slice(-4000)));
    this.rl = createInterface({ input: this.proc.stdout });
    this.lines = this.rl[Symbol.asyncIterator]();
  }

  async read(): Promise<Record<string, unknown>> {
    for (;;) {
      const r = await this.lines.next();
      if (r.done) throw new Error(`${this.name} ended: ${this.stderr}`);
      if (r.value.startsWith('{')) return JSON.parse(r.value) as Record<string, unknown>;
    }
  }

  async ask(line: string): Promise<Record<string, unknown>> {
    this.proc.stdin.write(line + '\n');
    return this.read();
  }

  async close(): Promise<void> {
    // a child that died already sends no 'exit' again
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.stdin.write('quit\n');
    await new Promise((r) => this.proc.once('exit', r));
  }
}

async function ours(
  c: Config,
  threads: number,
  backend = 'wasm',
  sam = false,
  cwd?: string,
): Promise<Peer> {
  const args = ['tsx', 'bench/peer-ours.ts', c.preset, String(c.batch), backend, String(threads)];
  const name = `ours${sam ? ' as SAM' : ''}${cwd ? ` in ${cwd}` : ''} (${backend}, ${threads} thread${threads > 1 ? 's' : ''})`;
  const p = new Peer(name, 'npx', [...args, ...(sam ? ['--sam'] : [])], cwd);
  const ready = await p.read();
  if (!('ready' in ready)) throw new Error(`${p.name}: ${JSON.stringify(ready)}`);
  return p;
}

async function torch(c: Config, threads: number): Promise<Peer> {
  const cfg = { ...c.torch, mergeMode: 'conv', seed: 1, batch: c.batch, lr: 1e-3 };
  const p = new Peer(`torch (${threads} thread${threads > 1 ? 's' : ''})`, PYTHON, [
    'bench/peer_torch.py',
    JSON.stringify(cfg),
  ]);
  await p.ask(`threads ${threads}`);
  return p;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface StepTime {
  /** median wall-clock ms per step */
  ms: number;
  /** median CPU ms per step (the process, all threads): what load from elsewhere disturbs least */
  cpuMs: number;
  /** the same medians round by round (for the spread of a ratio between two sides) */
  rounds: { ms: number; cpuMs: number }[];
  /** wall-clock ms of the untimed warm-up steps, together */
  warmupMs: number;
}

/**
 * Interleaved rounds: each side `warmup` untimed steps, then `steps` timed
 * steps per round, the side that goes first alternating round by round.
 */
async function race(
  peers: Peer[],
  rounds: number,
  steps: number,
  warmup: number,
): Promise<Record<string, StepTime>> {
  const ms: Record<string, number[]> = Object.fromEntries(peers.map((p) => [p.name, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(peers.map((p) => [p.name, []]));
  const byRound: Record<string, StepTime['rounds']> = Object.fromEntries(
    peers.map((p) => [p.name, []]),
  );
  const round = (x: number) => Number(x.toFixed(1));
  const warmupMs: Record<string, number> = {};
  for (const p of peers) {
    const w = await p.ask(`steps ${warmup}`);
    warmupMs[p.name] = round((w.ms as number[]).reduce((a, b) => a + b, 0));
  }
  for (let r = 0; r < rounds; r++)
    for (const p of r % 2 ? [...peers].reverse() : peers) {
      const a = await p.ask(`steps ${steps}`);
      ms[p.name].push(...(a.ms as number[]));
      cpu[p.name].push(...(a.cpuMs as number[]));
      byRound[p.name].push({
        ms: round(median(a.ms as number[])),
        cpuMs: round(median(a.cpuMs as number[])),
      });
    }
  return Object.fromEntries(
    peers.map((p) => [
      p.name,
      {
        ms: round(median(ms[p.name])),
        cpuMs: round(median(cpu[p.name])),
        rounds: byRound[p.name],
        warmupMs: warmupMs[p.name],
      },
    ]),
  );
}

/**
 * Two of our processes raced in interleaved rounds (started one after the
 * other): their step times, and each one's answer to `after` (a command asked
 * once the race is over) when given.
 */
async function duel(
  first: () => Promise<Peer>,
  second: () => Promise<Peer>,
  rounds: number,
  steps: number,
  warmup: number,
  after?: string,
): Promise<[StepTime, StepTime, Record<string, unknown>[]]> {
  const a = await first();
  const b = await second();
  try {
    const t = await race([a, b], rounds, steps, warmup);
    const answers = after ? [await a.ask(after), await b.ask(after)] : [];
    return [t[a.name], t[b.name], answers];
  } finally {
    await a.close();
    await b.close();
  }
}

async function peerRace(c: Config, threads: number, rounds: number, steps: number, warmup: number) {
  const a = await ours(c, threads);
  const b = await torch(c, threads);
  try {
    const t = await race([a, b], rounds, steps, warmup);
    const o = t[a.name];
    const p = t[b.name];
    const r = {
      threads,
      batch: c.batch,
      oursMsPerStep: o.ms,
      torchMsPerStep: p.ms,
      oursCpuMsPerStep: o.cpuMs,
      torchCpuMsPerStep: p.cpuMs,
      oursImagesPerSec: Number(((c.batch * 1000) / o.ms).toFixed(2)),
      torchImagesPerSec: Number(((c.batch * 1000) / p.ms).toFixed(2)),
      ratio: Number((p.ms / o.ms).toFixed(3)),
      cpuRatio: Number((p.cpuMs / o.cpuMs).toFixed(3)),
      warmupSteps: warmup,
      oursWarmupMs: o.warmupMs,
      torchWarmupMs: p.warmupMs,
      memory: await a.ask('memory'),
    };
    console.log(
      `peer: ${c.preset} batch ${c.batch}, ${threads} thread(s): ours ${r.oursImagesPerSec} images/s (${o.ms} ms/step, CPU ${o.cpuMs} ms), torch ${r.torchImagesPerSec} images/s (${p.ms} ms/step, CPU ${p.cpuMs} ms) → ratio ${r.ratio}, by CPU time ${r.cpuRatio} (goal ≥ 0.5); the ${warmup} warm-up steps before: ours ${o.warmupMs} ms, torch ${p.warmupMs} ms`,
    );
    return r;
  } finally {
    await a.close();
    await b.close();
  }
}

/**
 * MAM/SAM step time per backend: demo-mam raced against itself with every MAM
 * unit made SAM, interleaved; on wasm (every core) also the 224² preset
 * unless `quick`. On cpu and webgpu (SwiftShader here) a 224² step takes
 * minutes (matmul at ~0.7 and ~0.4 GFLOP/s against wasm's ~30), so only the
 * demo runs there. The spread is the lowest and highest ratio of the rounds'
 * medians; on webgpu each side's dispatches per step are counted too.
 */
async function samRatios(
  backends: NodeBackend[],
  cores: number,
  quick: boolean,
  rounds: number,
  steps: number,
  warmup: (c: Config) => number,
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const backend of backends) {
    const threads = backend === 'wasm' ? cores : 1;
    const ratios: Record<string, unknown> = {};
    for (const c of [DEMO, ...(quick || backend !== 'wasm' ? [] : [SWIN224])]) {
      const [m, q, counts] = await duel(
        () => ours(c, threads, backend),
        () => ours(c, threads, backend, true),
        c === DEMO ? rounds * 2 : 1,
        steps,
        warmup(c),
        backend === 'webgpu' ? 'dispatches' : undefined,
      );
      const ratio = Number((m.ms / q.ms).toFixed(3));
      const cpuRatio = Number((m.cpuMs / q.cpuMs).toFixed(3));
      const perRound = (k: 'ms' | 'cpuMs') =>
        m.rounds.map((r, i) => Number((r[k] / q.rounds[i][k]).toFixed(3)));
      const spread = (xs: number[]) => [Math.min(...xs), Math.max(...xs)];
      const load = Number(loadavg()[0].toFixed(2));
      const r: Record<string, unknown> = {
        mam: m,
        sam: q,
        ratio,
        cpuRatio,
        ratioSpread: spread(perRound('ms')),
        cpuRatioSpread: spread(perRound('cpuMs')),
        loadavg1m: load,
      };
      let gpu = '';
      if (counts.length) {
        r.dispatches = { mam: counts[0].dispatches, sam: counts[1].dispatches };
        gpu = `; dispatches per step ${counts[0].dispatches} / ${counts[1].dispatches}`;
      }
      ratios[c.preset] = r;
      const [lo, hi] = r.cpuRatioSpread as number[];
      console.log(
        `peer: MAM/SAM on ${backend}, ${c.preset}: ${m.ms} / ${q.ms} ms → ${ratio}, by CPU time ${m.cpuMs} / ${q.cpuMs} → ${cpuRatio} (rounds ${lo}–${hi}; goal ≤ 1.03; load average ${load})${gpu}`,
      );
    }
    out[backend] = ratios;
  }
  return out;
}

const PARTS = ['demo', '224', 'samratio', 'profile', 'webgpu', 'threads'] as const;
const USAGE =
  'npm run bench -- peer [--steps N] [--rounds R] [--warmup W] [--quick] [--only=demo,224,samratio,profile,webgpu,threads] [--backends=wasm,cpu,webgpu] [--against=DIR [--preset=demo|224]]';
/** The Node backends `--backends` can race MAM against SAM on. */
const SAMRATIO_BACKENDS = ['wasm', 'cpu', 'webgpu'] as const;
type NodeBackend = (typeof SAMRATIO_BACKENDS)[number];
/** What `--against` races, by `--preset`. */
const AGAINST = { demo: DEMO, '224': SWIN224 } as const;

/** A command-line mistake: bench/run.ts prints its one line and exits 64. */
export class BenchUsageError extends Error {
  override name = 'BenchUsageError';
}

export interface PeerArgs {
  quick: boolean;
  steps: number;
  rounds: number;
  /** untimed steps per side before a race (`--warmup`); undefined: the preset's own */
  warmup?: number;
  only?: string[];
  against?: string;
  /** what `--against` races */
  preset: keyof typeof AGAINST;
  /** where `samratio` races MAM against SAM */
  backends: NodeBackend[];
}

/**
 * Bench `name`'s flags, `--rounds 8` and `--rounds=8` alike (node:util
 * parseArgs, booleans as given, the rest strings); positionals (the bench
 * names `npm run bench` was given) are let through. An unknown flag, and
 * through `count` and `list` a count that is not a whole number ≥ 1 or a
 * list item not among those allowed, is a BenchUsageError naming it.
 */
export function benchFlags(
  name: string,
  usage: string,
  argv: string[],
  strings: string[],
  booleans: string[] = [],
) {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options: Record<string, { type: 'string' | 'boolean' }> = Object.fromEntries([
      ...strings.map((f) => [f, { type: 'string' }]),
      ...booleans.map((f) => [f, { type: 'boolean' }]),
    ]);
    // no flag is `multiple`, so each value is one string or boolean
    values = parseArgs({ args: argv, strict: true, allowPositionals: true, options })
      .values as typeof values;
  } catch (e) {
    throw new BenchUsageError(
      `bench ${name}: ${(e as Error).message.split('. ')[0]}; usage: ${usage}`,
    );
  }
  const count = (flag: string, d: number): number => {
    const v = values[flag] as string | undefined;
    if (v === undefined) return d;
    if (!/^[1-9][0-9]*$/.test(v))
      throw new BenchUsageError(`bench ${name}: --${flag} takes a whole number ≥ 1, got "${v}"`);
    return Number(v);
  };
  /** `--flag=a,b`'s items, each one of `allowed` (called `what`); undefined when not given. */
  const list = <T extends string>(
    flag: string,
    allowed: readonly T[],
    what: string,
  ): T[] | undefined => {
    const items = (values[flag] as string | undefined)?.split(',');
    const bad = items?.find((i) => !(allowed as readonly string[]).includes(i));
    if (bad !== undefined)
      throw new BenchUsageError(
        `bench ${name}: --${flag} has no ${what} "${bad}" (${what}s: ${allowed.join(',')})`,
      );
    return items as T[] | undefined;
  };
  return { values, count, list };
}

/** The flags of `npm run bench -- peer` (see benchFlags). */
export function parsePeerArgs(argv: string[]): PeerArgs {
  const { values, count, list } = benchFlags(
    'peer',
    USAGE,
    argv,
    ['steps', 'rounds', 'warmup', 'only', 'against', 'preset', 'backends'],
    ['quick'],
  );
  const quick = values.quick === true;
  const only = list('only', PARTS, 'part');
  const backends = list('backends', SAMRATIO_BACKENDS, 'backend') ?? ['wasm'];
  const preset = (values.preset as string | undefined) ?? 'demo';
  if (!Object.hasOwn(AGAINST, preset))
    throw new BenchUsageError(`bench peer: --preset is demo or 224, got "${preset}"`);
  if (values.preset !== undefined && values.against === undefined)
    throw new BenchUsageError(
      'bench peer: --preset chooses what --against races; give --against=DIR',
    );
  return {
    quick,
    steps: count('steps', quick ? 2 : 3),
    rounds: count('rounds', quick ? 1 : 2),
    warmup: values.warmup === undefined ? undefined : count('warmup', 1),
    only,
    against: values.against as string | undefined,
    preset: preset as keyof typeof AGAINST,
    backends,
  };
}

export async function run(argv: string[] = []) {
  const { quick, steps, rounds, warmup, only, against, preset, backends } = parsePeerArgs(argv);
  const want = (s: string) => (only ? only.includes(s) : !against);
  const cores = cpus().length;
  /** Untimed steps each side runs first (`--warmup`, else the preset's; half with --quick). */
  const warm = (c: Config) => warmup ?? (quick ? Math.ceil(c.warmup / 2) : c.warmup);
  const result: Record<string, unknown> = {
    machine: { cpus: cores, loadavg1mAtStart: Number(loadavg()[0].toFixed(2)) },
    steps,
    rounds,
    warmup: { demo: warm(DEMO), swin224: warm(SWIN224) },
  };
  if (!existsSync(PYTHON)) throw new Error(`peer: ${PYTHON} is missing (bash .ci/run builds it)`);

  if (against) {
    const c = AGAINST[preset];
    const [n, b] = await duel(
      () => ours(c, 1),
      () => ours(c, 1, 'wasm', false, against),
      rounds,
      steps,
      warm(c),
    );
    const speedup = Number((b.ms / n.ms).toFixed(3));
    const cpuSpeedup = Number((b.cpuMs / n.cpuMs).toFixed(3));
    result.against = { dir: against, preset: c.preset, now: n, before: b, speedup, cpuSpeedup };
    console.log(
      `peer: ${c.preset} on wasm, 1 thread: now ${n.ms} ms/step (CPU ${n.cpuMs}), ${against} ${b.ms} ms/step (CPU ${b.cpuMs}) → ${speedup}× faster, by CPU time ${cpuSpeedup}×`,
    );
  }
  if (want('threads') && cores > 1) {
    // the threaded build's speed-up on this machine under its current load
    const [o, a] = await duel(
      () => ours(DEMO, 1),
      () => ours(DEMO, cores),
      rounds,
      steps,
      warm(DEMO),
    );
    const speedup = Number((o.ms / a.ms).toFixed(3));
    const load = Number(loadavg()[0].toFixed(2));
    result.threads = { cores, oneThread: o, allCores: a, speedup, loadavg1m: load };
    console.log(
      `peer: demo-mam on wasm, 1 → ${cores} threads: ${o.ms} → ${a.ms} ms/step (CPU ${o.cpuMs} → ${a.cpuMs}) → speed-up ${speedup}× (load average ${load})`,
    );
  }
  if (want('demo')) {
    result.demo = {
      oneThread: await peerRace(DEMO, 1, rounds, steps, warm(DEMO)),
      allCores: await peerRace(DEMO, cores, rounds, steps, warm(DEMO)),
    };
  }
  if (want('224')) {
    result.swin224 = {
      oneThread: await peerRace(SWIN224, 1, 1, quick ? 1 : 2, warm(SWIN224)),
      allCores: await peerRace(SWIN224, cores, 1, quick ? 1 : 2, warm(SWIN224)),
    };
  }
  if (want('samratio'))
    result.mamToSam = await samRatios(backends, cores, quick, rounds, steps, warm);
  if (want('profile')) {
    const profiles: Record<string, unknown> = {};
    for (const c of [DEMO, ...(quick ? [] : [SWIN224])]) {
      // one thread: with a thread pool on a busy machine each kernel's wall
      // time is mostly waiting for the other thread to be scheduled
      const p = await ours(c, 1);
      try {
        await p.ask(`steps ${warm(c)}`);
        const name = c === DEMO ? 'peer-profile' : 'peer-profile-224';
        const prof = await p.ask(`profile bench/out/${name}`);
        const mem = await p.ask('memory');
        profiles[c.preset] = { ...prof, ...mem };
        console.log(
          `peer: one training step of ${c.preset} on wasm: ${prof.kernelCalls} kernel calls, peak tfjs bytes ${(Number(prof.peakBytes) / 2 ** 20).toFixed(1)} MiB, RSS ${(Number(mem.rss) / 2 ** 20).toFixed(0)} MiB, wasm heap ${(Number(mem.wasmHeapBytes) / 2 ** 20).toFixed(0)} MiB; top kernels (bench/out/${name}.txt):`,
        );
        for (const k of prof.top as { name: string; calls: number; ms: number }[])
          console.log(
            `  ${k.name.padEnd(28)} ${String(k.calls).padStart(6)} calls ${k.ms.toFixed(1).padStart(9)} ms`,
          );
      } finally {
        await p.close();
      }
    }
    result.profile = profiles;
  }
  if (want('webgpu')) {
    try {
      const p = await ours(DEMO, 1, 'webgpu');
      try {
        const d = await p.ask('dispatches');
        result.webgpuDispatchesPerStep = d.dispatches;
        console.log(`peer: webgpu (Dawn) dispatches per demo-mam training step: ${d.dispatches}`);
      } finally {
        await p.close();
      }
    } catch (e) {
      result.webgpuDispatchesPerStep = { error: (e as Error).message.slice(0, 300) };
      console.log(`peer: webgpu unavailable: ${(e as Error).message.slice(0, 300)}`);
    }
  }
  (result.machine as Record<string, number>).loadavg1mAtEnd = Number(loadavg()[0].toFixed(2));
  writeResult('peer', result);
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(process.argv.slice(2));
