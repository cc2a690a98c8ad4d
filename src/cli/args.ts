/**
 * Strict command lines for every verb, on node:util parseArgs: an unknown
 * flag, a missing or stray value, a value outside its allowed set or range,
 * a missing or extra positional is a usage error (exit 64) naming the flag and
 * what it accepts. `--help` prints the verb's usage and flags.
 */
import { parseArgs as parseNodeArgs } from 'node:util';
import { SessionError, EXIT_CODES } from './errors.ts';

export type FlagSpec = { help: string; required?: boolean } & (
  | { kind: 'boolean' }
  | { kind: 'string'; value: string; choices?: readonly string[] }
  | { kind: 'int' | 'number'; value: string; min?: number; max?: number }
);

export interface VerbSpec {
  verb: string;
  /** Positional arguments, all required, in order (e.g. `<graph.json>`). */
  positionals: readonly string[];
  flags: Readonly<Record<string, FlagSpec>>;
  summary: string;
}

type ValueOf<F> = F extends { kind: 'boolean' }
  ? boolean
  : F extends { kind: 'int' | 'number' }
    ? number
    : F extends { choices: readonly (infer C)[] }
      ? C
      : string;

export type FlagValues<S extends VerbSpec> = { [K in keyof S['flags']]?: ValueOf<S['flags'][K]> };

export interface Parsed<S extends VerbSpec> {
  positionals: string[];
  flags: FlagValues<S>;
  /** Flags given on the command line (to say which were ignored, e.g. on --resume). */
  given: Set<string>;
}

const usageError = (message: string) => new SessionError(message, EXIT_CODES.usage);

/** `run <graph.json> --input <x.npy> … [--weights <w.safetensors>] …` */
export function usageLine(spec: VerbSpec): string {
  const parts = [spec.verb, ...spec.positionals];
  for (const [name, f] of Object.entries(spec.flags)) {
    const shown =
      f.kind === 'boolean'
        ? `--${name}`
        : `--${name} ${f.kind === 'string' && f.choices ? f.choices.join('|') : f.value}`;
    parts.push(f.required ? shown : `[${shown}]`);
  }
  return parts.join(' ');
}

export function helpText(spec: VerbSpec): string {
  const rows = Object.entries(spec.flags).map(([name, f]) => {
    const left = f.kind === 'boolean' ? `--${name}` : `--${name} ${f.value}`;
    const allowed =
      f.kind === 'string' && f.choices
        ? ` (${f.choices.join(', ')})`
        : f.kind === 'int' || f.kind === 'number'
          ? ` (${rangeText(f)})`
          : '';
    return { left, right: `${f.help}${allowed}${f.required ? '; required' : ''}` };
  });
  rows.push({ left: '--debug', right: 'print the stack of an internal error' });
  rows.push({ left: '--help', right: 'this text' });
  const w = Math.max(...rows.map((r) => r.left.length));
  return [
    `usage: mam ${usageLine(spec)}`,
    '',
    spec.summary,
    '',
    ...rows.map((r) => `  ${r.left.padEnd(w)}  ${r.right}`),
  ].join('\n');
}

function rangeText(f: { kind: 'int' | 'number'; min?: number; max?: number }): string {
  const what = f.kind === 'int' ? 'a whole number' : 'a number';
  if (f.min !== undefined && f.max !== undefined) return `${what} ${f.min}–${f.max}`;
  if (f.min !== undefined) return `${what} ≥ ${f.min}`;
  return what;
}

/** Nearest known flag by edit distance, for "did you mean". */
function suggest(name: string, known: string[]): string {
  const dist = (a: string, b: string) => {
    const d = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let prev = d[0];
      d[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const t = d[j];
        d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
        prev = t;
      }
    }
    return d[b.length];
  };
  const best = known.map((k) => ({ k, d: dist(name, k) })).sort((a, b) => a.d - b.d)[0];
  return best && best.d <= Math.max(2, Math.floor(name.length / 3))
    ? ` (did you mean --${best.k}?)`
    : '';
}

/** Node's parser refused the line: find which token and say it in our words. */
function explain(spec: VerbSpec, args: string[], e: Error & { code?: string }): string {
  const known = Object.keys(spec.flags);
  const { tokens } = parseNodeArgs({
    args,
    options: nodeOptions(spec),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const f = spec.flags[t.name];
    if (t.name === 'help' || t.name === 'h') continue;
    if (!f)
      return `unknown flag ${t.rawName}${suggest(t.name, known)}; 'mam ${spec.verb} --help' lists the flags`;
    if (f.kind === 'boolean' && t.value !== undefined) return `${t.rawName} takes no value`;
    if (
      f.kind !== 'boolean' &&
      (t.value === undefined || (!t.inlineValue && t.value.startsWith('-')))
    )
      return `${t.rawName} needs a value (${f.value}); write ${t.rawName}=<value> for one that starts with '-'`;
  }
  return e.message.split('. ')[0];
}

function nodeOptions(spec: VerbSpec) {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, f] of Object.entries(spec.flags))
    options[name] = { type: f.kind === 'boolean' ? 'boolean' : 'string' };
  return options;
}

function checkValue(name: string, f: FlagSpec, raw: string): string | number {
  if (f.kind === 'string') {
    if (f.choices && !f.choices.includes(raw))
      throw usageError(`--${name} ${raw}: use one of ${f.choices.join(', ')}`);
    return raw;
  }
  if (f.kind === 'boolean') return raw;
  const x = raw.trim() === '' ? NaN : Number(raw);
  const bad =
    !Number.isFinite(x) ||
    (f.kind === 'int' && !Number.isInteger(x)) ||
    (f.min !== undefined && x < f.min) ||
    (f.max !== undefined && x > f.max);
  if (bad) throw usageError(`--${name} ${raw}: expected ${rangeText(f)}`);
  return x;
}

/**
 * Parse a verb's arguments; `null` means `--help` was asked for (the caller
 * prints helpText and exits 0). Everything else wrong throws a usage SessionError.
 */
export function parseVerbArgs<S extends VerbSpec>(spec: S, args: string[]): Parsed<S> | null {
  let parsed;
  try {
    parsed = parseNodeArgs({
      args,
      options: nodeOptions(spec),
      strict: true,
      allowPositionals: true,
    });
  } catch (e) {
    throw usageError(explain(spec, args, e as Error));
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) return null;
  const flags: Record<string, unknown> = {};
  const given = new Set<string>();
  for (const [name, f] of Object.entries(spec.flags)) {
    const v = values[name];
    if (v === undefined) {
      if (f.required) throw usageError(`--${name} is required (usage: mam ${usageLine(spec)})`);
      continue;
    }
    given.add(name);
    flags[name] = typeof v === 'boolean' ? v : checkValue(name, f, v);
  }
  const pos = parsed.positionals;
  if (pos.length < spec.positionals.length)
    throw usageError(
      `missing ${spec.positionals.slice(pos.length).join(' ')} (usage: mam ${usageLine(spec)})`,
    );
  if (pos.length > spec.positionals.length)
    throw usageError(
      `unexpected argument '${pos[spec.positionals.length]}' (usage: mam ${usageLine(spec)})`,
    );
  return { positionals: pos, flags: flags as FlagValues<S>, given };
}

/** Flags several verbs share, defined once. */
export const COMMON_FLAGS = {
  backend: {
    kind: 'string',
    value: '<name>',
    choices: ['auto', 'webgpu', 'wasm', 'cpu'],
    help: 'tfjs backend; auto takes WebGPU on a real GPU, else wasm',
  },
  threads: {
    kind: 'int',
    value: '<N>',
    min: 1,
    max: 8,
    help: 'wasm threads (default 1; at most the logical cores)',
  },
  metrics: {
    kind: 'string',
    value: '<convention>',
    choices: ['synapse', 'monai'],
    help: 'metric convention for empty masks',
  },
  normalise: {
    kind: 'string',
    value: '<rule>',
    choices: ['auto', 'none', 'uint8', 'ct', 'percentile'],
    help: 'intensity normalisation',
  },
  resize: {
    kind: 'string',
    value: '<rule>',
    choices: ['stretch', 'pad'],
    help: "slices of another size than the graph's input: stretch to it, or scale keeping the aspect and pad",
  },
  overlap: {
    kind: 'number',
    value: '<x>',
    min: 0,
    max: 0.99,
    help: "3D graphs: the fraction of the graph's input two sliding windows share (default: the graph's metadata.training.slidingWindow.test, else 0.5)",
  },
  blend: {
    kind: 'string',
    value: '<mode>',
    choices: ['constant', 'gaussian'],
    help: '3D graphs: how overlapping windows are blended (default constant; gaussian σ = 0.125·window)',
  },
  'allow-partial': {
    kind: 'boolean',
    help: 'accept a state dict that fills only part of the graph (the rest keeps its seeded initialisation)',
  },
} as const satisfies Record<string, FlagSpec>;
