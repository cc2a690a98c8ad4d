/**
 * Settings and guards shared by the fuzz suites (test/unit/fuzz-*.test.ts).
 *
 * Counts come from MAM_FUZZ_GRAPHS, MAM_FUZZ_NIFTI and MAM_FUZZ_SAFETENSORS,
 * the seed from MAM_FUZZ_SEED; the defaults make the three files take about a
 * minute on a 2-core machine. A failure prints fast-check's seed and path, so
 * `MAM_FUZZ_SEED=<seed>` replays it.
 */
import fc from 'fast-check';

export const FUZZ_SEED = Number(process.env.MAM_FUZZ_SEED ?? 20261130);

export function fuzzRuns(variable: string, fallback: number): number {
  const v = process.env[variable];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${variable} must be a whole number ≥ 1, got '${v}'`);
  return n;
}

/** The per-case bound: an input that keeps a reader busy this long counts as a hang. */
export const HANG_MS = 5000;

/**
 * Run one case. Readers are synchronous, so a hang cannot be cut short: the
 * case is timed and one that ran past HANG_MS fails (an endless loop is
 * stopped by the test's own timeout instead). Any exception fails the case.
 */
export function guarded<T>(what: string, run: () => T): T {
  const start = performance.now();
  const out = run();
  const ms = performance.now() - start;
  if (ms > HANG_MS)
    throw new Error(`${what} took ${Math.round(ms)} ms, past the ${HANG_MS} ms bound`);
  return out;
}

/** Counts of outcome classes, printed once per suite for the record. */
export class Outcomes {
  private readonly counts = new Map<string, number>();
  add(outcome: string): void {
    this.counts.set(outcome, (this.counts.get(outcome) ?? 0) + 1);
  }
  get total(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }
  report(suite: string): string {
    const rows = [...this.counts].sort((a, b) => b[1] - a[1]);
    return `${suite}: ${this.total} cases (seed ${FUZZ_SEED}): ${rows.map(([k, v]) => `${k} ${v}`).join(', ')}`;
  }
}

/** fast-check parameters for a suite of `runs` cases. */
export const fuzzParams = (runs: number) => ({
  seed: FUZZ_SEED,
  numRuns: runs,
  endOnFailure: true,
});

/** A change to a parsed JSON document. */
export type JsonEdit = (doc: Record<string, unknown>) => void;

/** An edit that fast-check prints by what it does (a counterexample then says what to replay). */
export const named = (what: string, edit: JsonEdit): JsonEdit =>
  Object.assign(edit, { [fc.toStringMethod]: () => what });

/** Walks `doc` along `seeds` (each picks a child of the current container) and returns the path. */
export function pickPath(doc: unknown, seeds: readonly number[]): (string | number)[] {
  const path: (string | number)[] = [];
  let at = doc;
  for (const s of seeds) {
    if (Array.isArray(at) && at.length) {
      const i = s % at.length;
      path.push(i);
      at = at[i];
    } else if (at && typeof at === 'object' && Object.keys(at).length) {
      const keys = Object.keys(at);
      const k = keys[s % keys.length];
      path.push(k);
      at = (at as Record<string, unknown>)[k];
    } else break;
  }
  return path;
}

/** The container holding the value at `path` and the key of it there (undefined for the root). */
export function parentOf(
  doc: unknown,
  path: readonly (string | number)[],
): { parent: Record<string | number, unknown>; key: string | number } | undefined {
  if (!path.length) return undefined;
  let at = doc as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  return { parent: at, key: path[path.length - 1] };
}

export const seedsArb = fc.array(fc.nat(), { minLength: 0, maxLength: 6 });

/** Edits anywhere in a document: replace a value with any JSON value (up to `depth` deep), or delete it. */
export const setOrDeleteArb = (depth: number): fc.Arbitrary<JsonEdit> =>
  fc.oneof(
    fc.tuple(seedsArb, fc.jsonValue({ maxDepth: depth })).map(([seeds, v]) =>
      named(`set ${JSON.stringify(seeds)} to ${JSON.stringify(v)}`, (doc) => {
        const at = parentOf(doc, pickPath(doc, seeds));
        if (at) at.parent[at.key] = v;
      }),
    ),
    seedsArb.map((seeds) =>
      named(`delete ${JSON.stringify(seeds)}`, (doc) => {
        const at = parentOf(doc, pickPath(doc, seeds));
        if (!at) return;
        if (Array.isArray(at.parent)) at.parent.splice(Number(at.key), 1);
        else delete at.parent[at.key];
      }),
    ),
  );
