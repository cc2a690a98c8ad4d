// Fuzzing NIfTI files: mutated headers, gzip streams and gzip bombs. Every input must end in an error naming
// the file or a volume of the size its header declares, never an exception, a hang, or inflating past the
// declared size (+ margin), counted on fflate's inflater itself.
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { MAX_OVERSHOOT, gzip } from '../../src/data/gzip.ts';
import { GZIP_MARGIN, parseNiftiHeader, readNifti, writeNifti } from '../../src/data/nifti.ts';
import { voxelCount } from '../../src/data/types.ts';
import { Outcomes, fuzzParams, fuzzRuns, guarded } from '../helpers/fuzz.ts';

/** Bytes each fflate Gunzip made during one read, and the first bytes of the first one's output. */
const inflaters = vi.hoisted(() => ({ made: [] as number[], head: [] as Uint8Array[] }));

vi.mock('fflate', async (importOriginal) => {
  const real = await importOriginal<typeof import('fflate')>();
  class CountingGunzip extends real.Gunzip {
    constructor(cb: (chunk: Uint8Array, final: boolean) => void) {
      const i = inflaters.made.push(0) - 1;
      super((chunk, final) => {
        if (i === 0 && inflaters.made[i] < 540) inflaters.head.push(chunk.slice(0, 540));
        inflaters.made[i] += chunk.length;
        cb(chunk, final);
      });
    }
  }
  return { ...real, Gunzip: CountingGunzip };
});

const RUNS = fuzzRuns('MAM_FUZZ_NIFTI', 1000);

/** A gzip member of 1 MiB of zeros, repeated to build bombs of any size cheaply. */
const ZEROS_MIB = gzip(new Uint8Array(1 << 20), 9);

const volumeArb = fc
  .record({
    dims: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 4 }),
    type: fc.constantFrom('uint8', 'int16', 'float32'),
  })
  .map(({ dims, type }) => {
    const n = voxelCount(dims);
    const data =
      type === 'uint8'
        ? Uint8Array.from({ length: n }, (_, i) => i % 251)
        : type === 'int16'
          ? Int16Array.from({ length: n }, (_, i) => i - 100)
          : Float32Array.from({ length: n }, (_, i) => i / 3);
    return writeNifti(data, dims, { gzip: false });
  });

/** Bytes per voxel of each NIfTI datatype (the NIfTI-1 standard). */
const BYTES: Record<string, number> = {
  uint8: 1,
  int8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  float32: 4,
  float64: 8,
  int64: 8,
  uint64: 8,
};

/** Header fields worth aiming at: sizeof_hdr, dim[], datatype, bitpix, vox_offset, scl_slope, magic. */
const FIELDS = [0, 40, 42, 44, 46, 48, 70, 72, 108, 112, 344] as const;

const headerEditArb = fc.oneof(
  fc.tuple(fc.constantFrom(...FIELDS), fc.integer({ min: -32768, max: 32767 })).map(
    ([at, v]) =>
      (b: Uint8Array) =>
        new DataView(b.buffer, b.byteOffset).setInt16(at, v, true),
  ),
  fc.tuple(fc.constantFrom(108, 112, 116), fc.double()).map(
    ([at, v]) =>
      (b: Uint8Array) =>
        new DataView(b.buffer, b.byteOffset).setFloat32(at, v, true),
  ),
  fc.tuple(fc.nat(351), fc.nat(255)).map(([at, v]) => (b: Uint8Array) => {
    b[at] = v;
  }),
);

const streamEditArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant((g: Uint8Array) => g) },
  {
    weight: 2,
    arbitrary: fc.tuple(fc.nat(), fc.nat(7)).map(([p, bit]) => (g: Uint8Array) => {
      const c = g.slice();
      c[p % c.length] ^= 1 << bit;
      return c;
    }),
  },
  { weight: 2, arbitrary: fc.nat().map((p) => (g: Uint8Array) => g.slice(0, p % (g.length + 1))) },
  {
    weight: 1,
    arbitrary: fc.uint8Array({ minLength: 1, maxLength: 40 }).map((junk) => (g: Uint8Array) => {
      const c = new Uint8Array(g.length + junk.length);
      c.set(g);
      c.set(junk, g.length);
      return c;
    }),
  },
  {
    // Gzip header flags: extra field, name, comment, header CRC, reserved bits.
    weight: 1,
    arbitrary: fc.nat(255).map((flags) => (g: Uint8Array) => {
      const c = g.slice();
      c[3] = flags;
      return c;
    }),
  },
  {
    // A bomb: members of zeros after the file, up to 96 MiB.
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: 96 }).map((mib) => (g: Uint8Array) => {
      const c = new Uint8Array(g.length + mib * ZEROS_MIB.length);
      c.set(g);
      for (let i = 0; i < mib; i++) c.set(ZEROS_MIB, g.length + i * ZEROS_MIB.length);
      return c;
    }),
  },
);

const caseArb = fc.record({
  volume: volumeArb,
  header: fc.array(headerEditArb, { maxLength: 3 }),
  gzipped: fc.boolean(),
  level: fc.constantFrom(0 as const, 1 as const, 6 as const, 9 as const),
  stream: streamEditArb,
});

describe('fuzz: NIfTI files', () => {
  it(
    `${RUNS} mutated NIfTI files end in an error naming the file or a whole volume, inflating at most what the header declares`,
    () => {
      const outcomes = new Outcomes();
      let inflated = 0;
      fc.assert(
        fc.property(caseArb, (c) => {
          const raw = c.volume.slice();
          for (const edit of c.header) edit(raw);
          const bytes = c.gzipped ? c.stream(gzip(raw, c.level)) : raw;
          inflaters.made.length = 0;
          inflaters.head.length = 0;
          const r = guarded('reading the NIfTI', () => readNifti(bytes, 'case.nii.gz'));
          if (r.ok) {
            expect(r.value.data.length).toBe(voxelCount(r.value.dims));
            outcomes.add('read');
          } else {
            expect(r.message).toMatch(/^case\.nii\.gz [^\n]+$/);
            expect(r.file).toBe('case.nii.gz');
            outcomes.add(
              /is truncated/.test(r.message)
                ? 'refused: truncated'
                : /inflates to more than/.test(r.message)
                  ? 'refused: inflates past its header'
                  : /gzip|CRC/.test(r.message)
                    ? 'refused: corrupt gzip'
                    : 'refused: bad header',
            );
          }
          // Allocation: no inflater made more than the header's size + margin (or the 540-byte head read) + one piece.
          if (!c.gzipped) return;
          const head = new Uint8Array(inflaters.head.reduce((n, h) => n + h.length, 0));
          inflaters.head.reduce((at, h) => (head.set(h, at), at + h.length), 0);
          const h = parseNiftiHeader(head.subarray(0, 540));
          const declared = h.ok
            ? h.value.voxOffset + voxelCount(h.value.dims) * BYTES[h.value.datatype]
            : 0;
          const bound = Math.max(540, declared + GZIP_MARGIN) + MAX_OVERSHOOT;
          for (const made of inflaters.made) expect(made).toBeLessThanOrEqual(bound);
          inflated += inflaters.made.length;
        }),
        fuzzParams(RUNS),
      );
      console.log(outcomes.report('fuzz NIfTI'));
      expect(outcomes.total).toBe(RUNS);
      expect(inflated).toBeGreaterThan(0); // the counting inflater was the one used
    },
    60_000 + RUNS * 500,
  );
});
