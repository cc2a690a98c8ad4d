// gzip checks (src/data/gzip.ts) and what the NIfTI reader makes of broken or hostile .nii.gz files.
// Streams are written by node:zlib, an implementation we did not write, then broken by hand.
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MAX_OVERSHOOT, crc32, gunzip } from '../../src/data/gzip.ts';
import { GZIP_MARGIN, readNifti, writeNifti } from '../../src/data/nifti.ts';
import { hasPython, runOracle, skipNote, withTempDir } from './data-oracle.ts';

/** Deterministic bytes that do not compress (a linear congruential sequence). */
function noise(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const zgzip = (b: Uint8Array, level = 6) => new Uint8Array(gzipSync(b, { level }));
const flipBit = (b: Uint8Array, at: number, bit = 0) => {
  const c = b.slice();
  c[at] ^= 1 << bit;
  return c;
};

/** A float32 NIfTI of 64×64×32 noise, uncompressed. */
const raw = writeNifti(
  Float32Array.from(noise(64 * 64 * 32), (v, i) => v + i / 7),
  [64, 64, 32],
  { gzip: false },
);

describe('gzip CRC-32 and length', () => {
  it('crc32 gives the check value of "123456789" (0xcbf43926)', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('one flipped bit in stored (level 0) data inflates fine but fails the CRC, and the NIfTI is refused', () => {
    const gz = zgzip(raw, 0);
    const at = 10 + 5 + 348 + 4 + 1000; // gzip header, stored-block header, NIfTI header + flag, 1000 bytes into the voxels
    const bad = flipBit(gz, at, 3);
    const g = gunzip(bad);
    expect(g.error).toMatch(
      /^corrupt: gzip member 1 fails its CRC-32 check \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8} over 524,640 bytes\)$/,
    );
    const r = readNifti(bad, 'flip.nii.gz');
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.message).toMatch(/^flip\.nii\.gz is corrupt: gzip member 1 fails its CRC-32 check/);
    expect(readNifti(gz, 'whole.nii.gz').ok).toBe(true);
  });

  it('a flipped bit in deflated data, in the stored CRC or in the stored length is refused', () => {
    const gz = zgzip(raw);
    for (const at of [200, gz.length >> 1, gz.length - 20]) {
      const r = readNifti(flipBit(gz, at, 5), 'f.nii.gz');
      expect(r.ok, `bit flipped at byte ${at}`).toBe(false);
      if (!r.ok) expect(r.message).toMatch(/^f\.nii\.gz is (corrupt|truncated): /);
    }
    expect(gunzip(flipBit(gz, gz.length - 6)).error).toMatch(/fails its CRC-32 check/);
    expect(gunzip(flipBit(gz, gz.length - 3)).error).toBe(
      'corrupt: gzip member 1 says it holds 524,384 bytes (mod 2^32) but inflated to 524,640',
    );
  });

  it('members are checked one by one', () => {
    const a = noise(3000, 2);
    const b = noise(5000, 3);
    const two = new Uint8Array([...zgzip(a), ...zgzip(b)]);
    const g = gunzip(two);
    expect(g.error).toBeNull();
    expect(g.data).toEqual(new Uint8Array([...a, ...b]));
    const bad = flipBit(two, two.length - 7);
    expect(gunzip(bad).error).toMatch(/^corrupt: gzip member 2 fails its CRC-32 check/);
  });
});

describe('a stream cut anywhere says "truncated"', () => {
  const gz = zgzip(raw);
  it('after the gzip header (the old reader said "0 bytes")', () => {
    const r = readNifti(gz.subarray(0, 10), 'cut.nii.gz');
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.message).toBe(
        'cut.nii.gz is truncated: the file ends after 10 bytes, right after the gzip header: no compressed data follows',
      );
    expect(gunzip(gz.subarray(0, 4)).error).toBe(
      "truncated: the file ends after 4 bytes, inside the gzip header's fixed 10 bytes",
    );
  });

  it('in the data and in the 8-byte trailer, with the byte counts', () => {
    for (const keep of [
      11,
      400,
      gz.length >> 1,
      gz.length - 9,
      gz.length - 8,
      gz.length - 3,
      gz.length - 1,
    ]) {
      const g = gunzip(gz.subarray(0, keep));
      expect(g.error, `cut after ${keep} bytes`).toMatch(
        new RegExp(
          `^truncated: the file ends after ${keep.toLocaleString('en-US')} bytes, inside gzip member 1, with [\\d,]+ bytes inflated$`,
        ),
      );
      expect(g.data.length).toBeLessThanOrEqual(raw.length);
      const r = readNifti(gz.subarray(0, keep), 'cut.nii.gz');
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.message).toMatch(/^cut\.nii\.gz is truncated: /);
    }
  });
});

describe('messages stay on one line', () => {
  it('a magic holding a newline is quoted with escapes (found by the fuzz suite)', () => {
    const bad = raw.slice();
    bad[344] = 0x0a;
    const r = readNifti(bad, 'nl.nii');
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.message).toBe('nl.nii is not a NIfTI-1 file: magic is "\\n+1", expected "n+1"');
  });
});

describe('a gzip bomb is refused at the size its header declares', () => {
  it('a 6×5×4 header followed by 1.5 GiB of zeros (1.5 MiB gzip) is refused, inflating at most the declared size + margin', () => {
    const vol = writeNifti(new Float32Array(120).fill(1), [6, 5, 4], { gzip: false });
    const zeros = zgzip(new Uint8Array(64 << 20), 9); // one 64 MiB member of zeros, repeated: a valid multi-member gzip
    const parts = [zgzip(vol), ...Array.from({ length: 24 }, () => zeros)];
    const bomb = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((at, p) => (bomb.set(p, at), at + p.length), 0);
    expect(bomb.length).toBeLessThan(2 * 2 ** 20);
    const declared = 352 + 120 * 4;
    const rssBefore = process.memoryUsage().rss;
    const r = readNifti(bomb, 'bomb.nii.gz');
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.message).toBe(
        `bomb.nii.gz is corrupt: it inflates to more than the ${declared} bytes its header declares (6×5×4 voxels) plus 65,536; refused without reading the rest`,
      );
    // What the inflater produced, by its own count, and what the process holds.
    const g = gunzip(bomb, { maxBytes: declared + GZIP_MARGIN });
    expect(g.overLimit).toBe(true);
    expect(g.inflated).toBeLessThanOrEqual(declared + GZIP_MARGIN + MAX_OVERSHOOT);
    expect(g.data.length).toBe(declared + GZIP_MARGIN);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(256 * 2 ** 20);
  });
});

describe.skipIf(!hasPython)("Python's gzip module refuses exactly what we refuse", () => {
  skipNote('gzip cross-check with Python');
  it('intact, flipped, cut and padded streams', () => {
    const gz = zgzip(noise(20_000, 5), 0);
    const packed = zgzip(raw);
    const cases: Record<string, Uint8Array> = {
      'intact.gz': gz,
      'intact-deflated.gz': packed,
      'two-members.gz': new Uint8Array([...gz, ...zgzip(noise(100, 9))]),
      'flip-data.gz': flipBit(gz, 5000, 1),
      'flip-crc.gz': flipBit(gz, gz.length - 8, 7),
      'flip-size.gz': flipBit(gz, gz.length - 4, 0),
      'cut-header.gz': gz.subarray(0, 7),
      'cut-data.gz': gz.subarray(0, 900),
      'cut-trailer.gz': gz.subarray(0, gz.length - 4),
      'cut-deflated.gz': packed.subarray(0, packed.length >> 1),
      'junk-after.gz': new Uint8Array([...gz, ...new TextEncoder().encode('not gzip at all')]),
    };
    withTempDir((dir) => {
      for (const [name, b] of Object.entries(cases)) writeFileSync(path.join(dir, name), b);
      const py = JSON.parse(runOracle('gzip_check.py', [dir])) as Record<
        string,
        { ok?: number; error?: string }
      >;
      const ours = Object.fromEntries(
        Object.entries(cases).map(([name, b]) => {
          const g = gunzip(b);
          return [name, g.error === null ? { ok: g.data.length } : 'error'];
        }),
      );
      const theirs = Object.fromEntries(
        Object.entries(py).map(([name, v]) => [name, v.ok !== undefined ? { ok: v.ok } : 'error']),
      );
      expect(ours).toEqual(theirs);
      expect(theirs['intact.gz']).toEqual({ ok: 20_000 });
      expect(theirs['flip-data.gz']).toBe('error');
    });
  });
});
