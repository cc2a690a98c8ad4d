/**
 * A PNG case's prediction downloads as a PNG mask: decoded here by a plain
 * reader written for the test (node:zlib and the PNG filters by hand, not the
 * library that wrote it), its gray values are the class indices the slice
 * view predicts for that image, pixel for pixel.
 */
import { inflateSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { initBackend } from '../../src/backend/index.ts';
import { kernels } from '../../src/compile/kernels/index.ts';
import { MemoryRunStore } from '../../src/session/run-store.ts';
import { Session } from '../../src/session/session.ts';
import { phantomCase, phantomSessionData } from '../helpers/phantom-cases.ts';
import { tinyGraph } from '../helpers/tiny-graph.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

/** An 8-bit gray, non-interlaced PNG: its size and pixels (PNG spec, section 9: filters 0–4). */
function readGrayPng(bytes: Uint8Array): { width: number; height: number; pixels: number[] } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect([...bytes.slice(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
  let at = 8;
  let width = 0;
  let height = 0;
  const idat: Uint8Array[] = [];
  while (at < bytes.length) {
    const len = view.getUint32(at);
    const type = String.fromCharCode(...bytes.slice(at + 4, at + 8));
    const body = bytes.slice(at + 8, at + 8 + len);
    if (type === 'IHDR') {
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      expect([body[8], body[9], body[12]]).toEqual([8, 0, 0]); // depth 8, gray, no interlace
    }
    if (type === 'IDAT') idat.push(body);
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const pixels: number[] = [];
  let prev = new Array<number>(width).fill(0);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (width + 1)];
    const line: number[] = [];
    for (let x = 0; x < width; x++) {
      const v = raw[y * (width + 1) + 1 + x];
      const a = x > 0 ? line[x - 1] : 0;
      const b = prev[x];
      const c = x > 0 ? prev[x - 1] : 0;
      const p = a + b - c;
      const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
      const paeth = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      const add = [0, a, b, Math.floor((a + b) / 2), paeth][filter];
      line.push((v + add) & 255);
    }
    pixels.push(...line);
    prev = line;
  }
  return { width, height, pixels };
}

describe('the prediction of a PNG case', () => {
  it('downloads as a PNG mask whose gray values are the predicted class indices', async () => {
    const doc = tinyGraph({ dropPath: 0 });
    const s = new Session({ catalogue, kernels, store: new MemoryRunStore() });
    expect(s.compile(doc).ok).toBe(true);
    const data = phantomSessionData();
    // One slice of a phantom, as a PNG folder's case reads (images/x.png + masks/x.png).
    const png = phantomCase('slice7', 7, 16, 1);
    png.files = ['images/slice7.png', 'masks/slice7.png'];
    s.setData({ ...data, cases: { ...data.cases, val: [png] } });

    const shown = await s.predict('val', 0);
    expect(shown.predictionFormat).toBe('png');
    const f = await s.predictionFile('val', 'slice7');
    expect(f.name).toBe('slice7-prediction.png');
    const read = readGrayPng(f.bytes);
    expect([read.width, read.height]).toEqual([16, 16]);
    expect(read.pixels).toEqual([...shown.pred]);
    // The untrained model predicts more than one class here, so the comparison is not of constants.
    expect(new Set(read.pixels).size).toBeGreaterThan(1);
    expect((await s.predict('test', 0)).predictionFormat).toBe('nii.gz');
    s.dispose();
  });
});
