// safetensors headers checked as the reference library checks them, NaN/Inf weights refused, and the CLI's exit code.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  SafetensorsError,
  readSafetensors,
  writeSafetensors,
} from '../../src/compile/io/safetensors.ts';
import { writeNpy } from '../../src/compile/io/npy.ts';
import { saveGraph } from '../../src/graph/save.ts';
import { tinyGraph } from '../helpers/tiny-graph.ts';
import { hasPython, runOracle, skipNote } from './data-oracle.ts';

/** A file with this header text (as bytes) and `data` bytes of zeros. */
function file(header: string, data: number): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  return out;
}

const entry = (dtype: string, shape: unknown, offsets: unknown) =>
  JSON.stringify({ dtype, shape, data_offsets: offsets });

/** Hand-broken (and a few valid) headers; `data` bytes of zeros follow each. */
const CASES: Record<string, [header: string, data: number]> = {
  valid: [`{"a":${entry('F32', [2], [0, 8])},"b":${entry('I32', [1], [8, 12])}}`, 12],
  'valid-unordered': [`{"b":${entry('I32', [1], [8, 12])},"a":${entry('F32', [2], [0, 8])}}`, 12],
  'valid-empty-tensor': [`{"e":${entry('F32', [0, 3], [0, 0])},"a":${entry('U8', [], [0, 1])}}`, 1],
  'valid-metadata': [`{"__metadata__":{"k":"v"},"a":${entry('F16', [2], [0, 4])}}`, 4],
  'valid-extra-field': [`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"note":1.5}}`, 4],
  overlap: [`{"a":${entry('F32', [2], [0, 8])},"b":${entry('F32', [2], [4, 12])}}`, 12],
  'same-bytes': [`{"a":${entry('F32', [2], [0, 8])},"b":${entry('F32', [2], [0, 8])}}`, 8],
  gap: [`{"a":${entry('F32', [1], [4, 8])}}`, 8],
  'short-data': [`{"a":${entry('F32', [2], [0, 8])}}`, 4],
  'extra-data': [`{"a":${entry('F32', [1], [0, 4])}}`, 8],
  'offsets-strings': [`{"a":${entry('F32', [2], ['0', '8'])}}`, 8],
  'shape-strings': [`{"a":${entry('F32', ['2'], [0, 8])}}`, 8],
  'shape-negative': [`{"a":${entry('F32', [-2], [0, 8])}}`, 8],
  'shape-float': [`{"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}`, 8],
  'offset-exponent': [`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8e0]}}`, 8],
  'offsets-three': [`{"a":${entry('F32', [2], [0, 8, 8])}}`, 8],
  'offsets-reversed': [`{"a":${entry('F32', [2], [8, 0])}}`, 8],
  'wrong-size': [`{"a":${entry('F32', [3], [0, 8])}}`, 8],
  'dtype-unknown': [`{"a":${entry('F31', [2], [0, 8])}}`, 8],
  'dtype-number': [`{"a":${entry(4 as never, [2], [0, 8])}}`, 8],
  'metadata-number': [`{"__metadata__":{"k":1},"a":${entry('F32', [2], [0, 8])}}`, 8],
  'metadata-float-value': [`{"__metadata__":{"k":2.5},"a":${entry('F32', [2], [0, 8])}}`, 8],
  'metadata-float': [`{"__metadata__":1.5,"a":${entry('F32', [2], [0, 8])}}`, 8],
  'tensor-array': [`{"a":[1,2]}`, 0],
  'no-dtype': [`{"a":{"shape":[1],"data_offsets":[0,4]}}`, 4],
  'no-shape': [`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, 4],
  'no-offsets': [`{"a":{"dtype":"F32","shape":[1]}}`, 4],
  'top-array': [`[1]`, 0],
  'not-json': [`{"a":`, 0],
  'shape-overflow': [`{"a":${entry('F32', [4294967296, 4294967296], [0, 8])}}`, 8],
};

describe('safetensors headers', () => {
  it('overlapping offsets are refused naming the tensor (they gave b the bytes of a)', () => {
    const [h, n] = CASES.overlap;
    const bytes = file(h, n);
    let err: unknown;
    try {
      readSafetensors(bytes);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SafetensorsError);
    expect((err as SafetensorsError).tensor).toBe('b');
    expect((err as Error).message).toBe(
      "safetensors: tensor 'b' (bytes 4–12) overlaps the tensor before it, which ends at 8",
    );
  });

  it('offsets and shapes given as strings are refused with a message, not a tfjs stack', () => {
    expect(() => readSafetensors(file(...CASES['offsets-strings']))).toThrow(
      `safetensors: tensor 'a' has data_offsets ["0","8"]: they must be two whole numbers ≥ 0`,
    );
    expect(() => readSafetensors(file(...CASES['shape-strings']))).toThrow(
      `safetensors: tensor 'a' has shape ["2"]: it must be a list of whole numbers ≥ 0`,
    );
    expect(() => readSafetensors(file(...CASES['no-dtype']))).toThrow(
      new SafetensorsError("safetensors: tensor 'a' has no dtype", 'a'),
    );
    expect(() => readSafetensors(file(...CASES['shape-float']))).toThrow(
      `safetensors: tensor 'a' has shape [2.0]: it must be a list of whole numbers ≥ 0`,
    );
  });

  it('valid headers read, tensors in header order', () => {
    const f = readSafetensors(file(...CASES['valid-unordered']));
    expect([...f.tensors.keys()]).toEqual(['b', 'a']);
    expect(f.tensors.get('a')?.bytes.length).toBe(8);
  });
});

describe('NaN and infinity in weights', () => {
  it('are refused naming the tensor and the count, for every float dtype; allowNonFinite reads them', () => {
    const f32 = Float32Array.from([1, NaN, 2, Infinity, -Infinity, 0]);
    const f64 = Float64Array.from([NaN, 1, 2]);
    const f16 = Uint16Array.from([0x3c00, 0x7c00, 0xfe00, 0x7bff]); // 1, +inf, NaN, 65504
    const bf16 = Uint16Array.from([0x3f80, 0x7f80, 0x7fc1]); // 1, +inf, NaN
    const cases: [string, Uint8Array, string][] = [
      [
        'w32',
        writeSafetensors({ w32: { shape: [6], data: f32 } }),
        "'w32' holds 3 NaN or infinite values (of 6)",
      ],
      [
        'w64',
        writeSafetensors({ w64: { shape: [3], data: f64 } }),
        "'w64' holds 1 NaN or infinite value (of 3)",
      ],
      [
        'h',
        writeSafetensors({ h: { dtype: 'F16', shape: [4], data: f16 } }),
        "'h' holds 2 NaN or infinite values (of 4)",
      ],
      [
        'b',
        writeSafetensors({ b: { dtype: 'BF16', shape: [3], data: bf16 } }),
        "'b' holds 2 NaN or infinite values (of 3)",
      ],
    ];
    for (const [name, bytes, msg] of cases) {
      expect(() => readSafetensors(bytes), name).toThrow(`safetensors: tensor ${msg}; refused`);
      expect(readSafetensors(bytes, { allowNonFinite: true }).tensors.get(name)).toBeDefined();
    }
    // Integers have no NaN: 0x7f800000 as I32 is a plain number.
    expect(() =>
      readSafetensors(writeSafetensors({ i: { shape: [1], data: Int32Array.from([0x7f800000]) } })),
    ).not.toThrow();
  });

  it('mam run refuses such weights, and overlapping ones, with exit 3', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mam-st-'));
    try {
      writeFileSync(join(dir, 'g.json'), saveGraph(tinyGraph()));
      writeFileSync(join(dir, 'x.npy'), writeNpy(new Float32Array(16 * 16), [1, 16, 16, 1]));
      writeFileSync(join(dir, 'overlap.safetensors'), file(...CASES.overlap));
      writeFileSync(
        join(dir, 'nan.safetensors'),
        writeSafetensors({
          'patch_embed.proj.weight': { shape: [2], data: Float32Array.from([NaN, 1]) },
        }),
      );
      const run = (w: string) => {
        try {
          execFileSync(
            'node',
            [
              'bin/mam.js',
              'run',
              join(dir, 'g.json'),
              '--input',
              join(dir, 'x.npy'),
              '--output',
              join(dir, 'y.npy'),
              '--backend',
              'cpu',
              '--weights',
              join(dir, w),
            ],
            { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
          );
          return { code: 0, err: '' };
        } catch (e) {
          const x = e as { status: number; stderr: string };
          return { code: x.status, err: x.stderr };
        }
      };
      const o = run('overlap.safetensors');
      expect(o.code).toBe(3);
      expect(o.err).toContain("tensor 'b' (bytes 4–12) overlaps the tensor before it");
      const n = run('nan.safetensors');
      expect(n.code).toBe(3);
      expect(n.err).toContain(
        "tensor 'patch_embed.proj.weight' holds 1 NaN or infinite value (of 2)",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!hasPython)(
  'the reference safetensors library refuses exactly what we refuse',
  () => {
    skipNote('safetensors cross-check with Python');
    it('on hand-broken headers', () => {
      const dir = mkdtempSync(join(tmpdir(), 'mam-st-py-'));
      try {
        for (const [name, [h, n]] of Object.entries(CASES))
          writeFileSync(join(dir, `${name}.safetensors`), file(h, n));
        const py = JSON.parse(runOracle('safetensors_check.py', [dir])) as Record<string, string>;
        const theirs = Object.fromEntries(
          Object.entries(py).map(([k, v]) => [
            k.replace(/\.safetensors$/, ''),
            v === 'ok' ? 'ok' : 'refused',
          ]),
        );
        const ours = Object.fromEntries(
          Object.entries(CASES).map(([name, [h, n]]) => {
            try {
              readSafetensors(file(h, n));
              return [name, 'ok'];
            } catch (e) {
              expect(e, name).toBeInstanceOf(SafetensorsError);
              return [name, 'refused'];
            }
          }),
        );
        expect(ours).toEqual(theirs);
        expect(Object.values(theirs).filter((v) => v === 'ok')).toHaveLength(5);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);
