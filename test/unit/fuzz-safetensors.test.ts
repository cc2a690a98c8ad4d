// Fuzzing safetensors files: mutated headers (offsets, shapes, dtypes, metadata, as numbers, strings and
// float literals) and damaged bytes. Every input must be read whole or refused with a SafetensorsError, never
// another exception or a hang; a batch of the cases is also given to the reference library, which must
// refuse exactly the same ones.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  SafetensorsError,
  readSafetensors,
  writeSafetensors,
  type SafetensorsDtype,
} from '../../src/compile/io/safetensors.ts';
import {
  type JsonEdit,
  Outcomes,
  fuzzParams,
  fuzzRuns,
  guarded,
  named,
  setOrDeleteArb,
} from '../helpers/fuzz.ts';
import { hasPython, runOracle } from './data-oracle.ts';

const RUNS = fuzzRuns('MAM_FUZZ_SAFETENSORS', 1000);
/** How many of the cases also go to Python's safetensors (one process for all of them). */
const PYTHON_CASES = Math.min(RUNS, fuzzRuns('MAM_FUZZ_SAFETENSORS_PYTHON', RUNS));

/** Bytes per item, read off the dtype's name as the safetensors spec names them (F16: 16 bits). */
const item = (d: SafetensorsDtype) => (d === 'BOOL' ? 1 : Number(/\d+/.exec(d)![0]) / 8);
const DTYPES: SafetensorsDtype[] = [
  'F64',
  'F32',
  'F16',
  'BF16',
  'I64',
  'I32',
  'I16',
  'I8',
  'U64',
  'U32',
  'U16',
  'U8',
  'BOOL',
];

/** A float literal is written into the header text after JSON.stringify. */
const FLOAT = '\u0000float:';

const fileArb = fc
  .uniqueArray(
    fc.record({
      name: fc.string({ minLength: 1, maxLength: 6 }),
      dtype: fc.constantFrom(...DTYPES),
      shape: fc.array(fc.nat(4), { maxLength: 3 }),
      fill: fc.nat(255),
    }),
    { selector: (t) => t.name, minLength: 0, maxLength: 5 },
  )
  .map((ts) =>
    writeSafetensors(
      Object.fromEntries(
        ts.map((t) => {
          const n = t.shape.reduce((a, b) => a * b, 1);
          // Bytes of one value repeated; a fill of 0x7f/0xff makes NaN or infinity in some float dtypes.
          const bytes = new Uint8Array(n * item(t.dtype)).fill(t.fill);
          const Ctor = { 1: Uint8Array, 2: Uint16Array, 4: Uint32Array, 8: BigUint64Array }[
            item(t.dtype)
          ]!;
          return [t.name, { dtype: t.dtype, shape: t.shape, data: new Ctor(bytes.buffer) }];
        }),
      ),
      { source: 'fuzz' },
    ),
  );

const oddNumber = fc.oneof(
  fc.integer({ min: -2, max: 64 }),
  fc.constantFrom(2 ** 31, 2 ** 32, 2 ** 53, 1e20),
  fc.constantFrom('4', '', null, true, [], {}),
  fc.constantFrom(0, 1, 4, 8, 16).map((n) => `${FLOAT}${n}.0`),
  fc.constantFrom(`${FLOAT}1e1`, `${FLOAT}2.5`, `${FLOAT}-0.0`),
);

type HeaderEdit = JsonEdit;

const entries = (h: Record<string, unknown>) =>
  Object.entries(h).filter(([k, v]) => k !== '__metadata__' && v && typeof v === 'object') as [
    string,
    Record<string, unknown>,
  ][];

const headerEditArb: fc.Arbitrary<HeaderEdit> = fc.oneof(
  fc.tuple(fc.nat(), fc.nat(1), oddNumber).map(([t, side, v]) =>
    named(`offset ${side} of tensor ${t} = ${String(v)}`, (h) => {
      const es = entries(h);
      if (!es.length) return;
      const o = es[t % es.length][1].data_offsets;
      if (Array.isArray(o)) o[side] = v;
    }),
  ),
  fc.tuple(fc.nat(), fc.nat(3), oddNumber).map(([t, d, v]) =>
    named(`shape[${d}] of tensor ${t} = ${String(v)}`, (h) => {
      const es = entries(h);
      if (!es.length) return;
      const s = es[t % es.length][1].shape;
      if (Array.isArray(s)) s[Math.min(d, s.length)] = v;
    }),
  ),
  fc
    .tuple(fc.nat(), fc.constantFrom('F32', 'f32', 'F31', 'U8', 'BOOL', '', 7, null))
    .map(([t, d]) =>
      named(`dtype of tensor ${t} = ${String(d)}`, (h) => {
        const es = entries(h);
        if (es.length) es[t % es.length][1].dtype = d;
      }),
    ),
  fc.tuple(fc.nat(), fc.nat()).map(([a, b]) =>
    named(`tensor ${b} takes the offsets of tensor ${a}`, (h) => {
      const es = entries(h);
      if (es.length)
        es[b % es.length][1].data_offsets = structuredClone(es[a % es.length][1].data_offsets);
    }),
  ),
  setOrDeleteArb(2),
  fc
    .oneof(fc.constant(null), fc.constant({ k: 1 }), fc.constant([]), fc.constant({ k: 'v' }))
    .map((m) =>
      named(`metadata = ${JSON.stringify(m)}`, (h) => {
        h.__metadata__ = m;
      }),
    ),
);

const bytesEditArb = fc.oneof(
  { weight: 5, arbitrary: fc.constant((b: Uint8Array) => b) },
  { weight: 1, arbitrary: fc.nat().map((p) => (b: Uint8Array) => b.slice(0, p % (b.length + 1))) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.nat(), fc.nat(255)).map(([p, v]) => (b: Uint8Array) => {
      const c = b.slice();
      if (c.length) c[p % c.length] = v;
      return c;
    }),
  },
  {
    weight: 1,
    arbitrary: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((n: bigint) => (b: Uint8Array) => {
      const c = b.slice();
      if (c.length >= 8)
        new DataView(c.buffer).setBigUint64(0, n % (BigInt(c.length) * 2n + 1n), true);
      return c;
    }),
  },
  {
    weight: 1,
    arbitrary: fc
      .uint8Array({ maxLength: 16 })
      .map((x) => (b: Uint8Array) => new Uint8Array([...b, ...x])),
  },
);

const caseArb = fc.record({
  file: fileArb,
  edits: fc.array(headerEditArb, { maxLength: 3 }),
  bytes: bytesEditArb,
});

/** Apply header edits: parse the header, edit, write it back (float markers become float literals). */
function render(c: {
  file: Uint8Array;
  edits: HeaderEdit[];
  bytes: (b: Uint8Array) => Uint8Array;
}) {
  const view = new DataView(c.file.buffer, c.file.byteOffset);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(c.file.subarray(8, 8 + n))) as Record<
    string,
    unknown
  >;
  for (const e of c.edits) e(header);
  const text = JSON.stringify(header).replace(/"\\u0000float:([^"]*)"/g, '$1');
  const h = new TextEncoder().encode(text);
  const data = c.file.subarray(8 + n);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return c.bytes(out);
}

describe('fuzz: safetensors files', () => {
  it(
    `${RUNS} mutated safetensors files are read whole or refused with a SafetensorsError; Python agrees on ${PYTHON_CASES}`,
    () => {
      const outcomes = new Outcomes();
      const forPython: { bytes: Uint8Array; ours: 'ok' | 'refused' }[] = [];
      fc.assert(
        fc.property(caseArb, (c) => {
          const bytes = render(c);
          const read = (allowNonFinite: boolean) => {
            try {
              return {
                file: guarded('reading the file', () => readSafetensors(bytes, { allowNonFinite })),
              };
            } catch (e) {
              if (!(e instanceof SafetensorsError)) throw e;
              expect(e.message).toMatch(/^safetensors: [^\n]+$/);
              return { error: e };
            }
          };
          const r = read(false);
          if (r.file) {
            // A whole read: each tensor as long as its shape says, together exactly the data.
            let total = 0;
            for (const t of r.file.tensors.values()) {
              expect(t.bytes.length).toBe(t.shape.reduce((a, b) => a * b, 1) * item(t.dtype));
              total += t.bytes.length;
            }
            const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
            expect(total).toBe(bytes.length - 8 - n);
            outcomes.add('read');
          } else
            outcomes.add(
              /NaN or infinite/.test(r.error!.message)
                ? 'refused: NaN/Inf'
                : r.error!.tensor
                  ? 'refused: a tensor entry'
                  : 'refused: the file',
            );
          if (forPython.length < PYTHON_CASES)
            forPython.push({ bytes, ours: read(true).file ? 'ok' : 'refused' });
        }),
        fuzzParams(RUNS),
      );
      console.log(outcomes.report('fuzz safetensors'));
      expect(outcomes.total).toBe(RUNS);
      if (!hasPython) return;
      const dir = mkdtempSync(join(tmpdir(), 'mam-fuzz-st-'));
      try {
        forPython.forEach((c, i) =>
          writeFileSync(join(dir, `case${String(i).padStart(5, '0')}.safetensors`), c.bytes),
        );
        const py = JSON.parse(runOracle('safetensors_check.py', [dir])) as Record<string, string>;
        const differ = forPython
          .map((c, i) => ({
            i,
            ours: c.ours,
            theirs: py[`case${String(i).padStart(5, '0')}.safetensors`],
          }))
          .filter((d) => (d.theirs === 'ok') !== (d.ours === 'ok'));
        expect(differ).toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000 + RUNS * 100,
  );
});
