/**
 * `mam maps` as a user meets it: PNGs over the image and maps.json for a
 * pixel of an .npy image; the JSON's rows sum to 1 and sit in the window the
 * shift puts the pixel in; bad input is one line with its exit code.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { decode } from 'fast-png';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/cli/errors.ts';
import { writeNpy } from '../../src/data/npy.ts';
import { spawnMam } from '../helpers/mam-cli.ts';
import { tinyGraph } from '../helpers/tiny-graph.ts';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'mam-maps-cli-'));
  writeFileSync(path.join(dir, 'tiny.json'), JSON.stringify(tinyGraph()));
  const img = Float32Array.from({ length: 256 }, (_, i) => Math.sin(i / 7));
  writeFileSync(path.join(dir, 'x.npy'), writeNpy(img, [16, 16]));
  writeFileSync(path.join(dir, 'wrong.npy'), writeNpy(new Float32Array(64), [8, 8]));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const lastLine = (s: string) => s.trim().split('\n').at(-1);

interface MapsJson {
  pixel: number[];
  units: {
    id: string;
    shift: number;
    at: { window: number; slot: number };
    members: number[];
    heads: { attention: number[]; withoutMemory?: number[]; difference?: number[] }[];
    memoryNorm?: number[];
  }[];
  files: string[];
}

it('writes the PNGs and maps.json of a pixel; bad input is one line and its exit code', async () => {
  const maps = (...args: string[]) =>
    spawnMam(['maps', 'tiny.json', '--input', 'x.npy', '--backend', 'cpu', ...args], dir);
  const [ok, badPixel, outside, wrong] = await Promise.all([
    maps('--pixel', '5,9', '--out', 'm'),
    maps('--pixel', '5;9', '--out', 'n1'),
    maps('--pixel', '16,0', '--out', 'n2'),
    spawnMam(
      [
        'maps',
        'tiny.json',
        '--input',
        'wrong.npy',
        '--pixel',
        '1,1',
        '--out',
        'n3',
        '--backend',
        'cpu',
      ],
      dir,
    ),
  ]);
  expect(ok.code, ok.stderr).toBe(0);
  const json = JSON.parse(readFileSync(path.join(dir, 'm', 'maps.json'), 'utf8')) as MapsJson;
  // Pixel (5, 9), patch 2: token (2, 4) of the 8×8 grid. Unit 0: window (0, 1) = 1, slot 2·4 + 0 = 8.
  // Unit 1 (shift 2): rolled (0, 2), window 0, slot 2; its window's slot 0 is grid token (2, 2) = 18.
  expect(json.units.map((u) => [u.id, u.shift, u.at.window, u.at.slot])).toEqual([
    ['layers.0.blocks.0', 0, 1, 8],
    ['layers.0.blocks.1', 2, 0, 2],
  ]);
  expect(json.units[1].members[0]).toBe(18);
  for (const u of json.units)
    for (const h of u.heads)
      expect(Math.abs(h.attention.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5);
  expect(json.units[1].heads[0].withoutMemory).toHaveLength(16);
  expect(json.files.sort()).toEqual([
    'layers.0.blocks.0.attention.png',
    'layers.0.blocks.0.memory-norm.png',
    'layers.0.blocks.1.attention.png',
    'layers.0.blocks.1.difference.png',
    'layers.0.blocks.1.memory-norm.png',
    'layers.0.blocks.1.without-memory.png',
  ]);
  const png = decode(readFileSync(path.join(dir, 'm', 'layers.0.blocks.1.difference.png')));
  expect([png.width, png.height]).toEqual([16, 16]);

  expect(badPixel.code).toBe(EXIT_CODES.usage);
  expect(badPixel.stderr.trim()).toBe(
    "mam maps: --pixel: '5;9' is not ROW,COL (two whole numbers, e.g. 64,40)",
  );
  expect(outside.code).toBe(EXIT_CODES.usage);
  expect(lastLine(outside.stderr)).toBe(
    "mam maps: --pixel 16,0 is outside the graph's 16×16 input",
  );
  expect(wrong.code).toBe(EXIT_CODES.badData);
  expect(lastLine(wrong.stderr)).toMatch(/^mam maps: wrong\.npy is 8×8; the graph takes 16×16×1/);
}, 300_000);
