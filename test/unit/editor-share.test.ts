// Sharing graphs: URL fragments, PNG text chunks, file names (src/share/).
import { catalogue } from '../../nodes/index.ts';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { presets } from '../../src/graph/presets.ts';
import { saveGraph } from '../../src/graph/save.ts';
import { itOracle, venvPython } from './data-oracle.ts';
import { adler32, crc32 } from '../../src/share/checksum.ts';
import { graphFileName } from '../../src/share/filename.ts';
import {
  base64UrlEncode,
  decodeGraphFragment,
  encodeGraphToFragment,
} from '../../src/share/link.ts';
import {
  embedGraphInPng,
  extractGraphFromPng,
  loadGraphFromPng,
  PNG_KEYWORD,
} from '../../src/share/png.ts';

const P = presets(catalogue);
const enc = new TextEncoder();

describe('checksums', () => {
  it('CRC-32 and Adler-32 check values, and CRC-32 against node:zlib', () => {
    expect(crc32(enc.encode('123456789'))).toBe(0xcbf43926);
    expect(adler32(enc.encode('Wikipedia'))).toBe(0x11e60398);
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 7919 + 13) & 255);
    expect(crc32(bytes.subarray(0, 5), bytes.subarray(5))).toBe(zlib.crc32(bytes));
    // Adler-32 of a long input against the trailer node:zlib writes.
    const z = zlib.deflateSync(bytes);
    expect(adler32(bytes)).toBe(z.readUInt32BE(z.length - 4));
  });
});

describe('link codec', () => {
  it('base64url by hand: "Man" → TWFu, [fb ff] → -_8', () => {
    expect(base64UrlEncode(enc.encode('Man'))).toBe('TWFu');
    expect(base64UrlEncode(new Uint8Array([0xfb, 0xff]))).toBe('-_8');
    expect(base64UrlEncode(new Uint8Array([0xfb]))).toBe(Buffer.from([0xfb]).toString('base64url'));
  });

  const lengths: Record<string, number> = {};
  for (const [name, doc] of Object.entries(P)) {
    it(`${name}: round trip to the identical file text; node:zlib reads the payload`, () => {
      const frag = encodeGraphToFragment(doc);
      expect(frag).toMatch(/^#g=[A-Za-z0-9_-]+$/);
      lengths[name] = frag.length;
      const r = decodeGraphFragment(frag, catalogue);
      if (!r.ok) throw new Error(r.message);
      expect(saveGraph(r.graph)).toBe(saveGraph(doc));
      expect(zlib.inflateSync(Buffer.from(frag.slice(3), 'base64url')).toString('utf8')).toBe(
        saveGraph(doc),
      );
    });
  }

  it('reports the link length of the largest preset', () => {
    const largest = Object.entries(P).sort(
      (a, b) => saveGraph(b[1]).length - saveGraph(a[1]).length,
    )[0];
    const frag = encodeGraphToFragment(largest[1]);
    console.log(
      `largest preset ${largest[0]}: file ${saveGraph(largest[1]).length} chars, fragment ${frag.length} chars; all: ${JSON.stringify(lengths)}`,
    );
    expect(frag.length).toBeLessThan(8000); // well inside what browsers keep in a URL
  });

  const frag = encodeGraphToFragment(P['swin-unet-mam-ists']);
  it('accepts a whole URL', () => {
    expect(decodeGraphFragment(`https://example.org/mam/${frag}`, catalogue).ok).toBe(true);
  });
  it('a cut-off link gives a sentence at every cut, never a wrong graph or an exception', () => {
    for (let cut = 3; cut < frag.length; cut += 37) {
      const r = decodeGraphFragment(frag.slice(0, cut), catalogue);
      expect(r.ok, `cut at ${cut}`).toBe(false);
      if (!r.ok) expect(r.message).toMatch(/cut off|incomplete or damaged/);
    }
    expect(decodeGraphFragment(frag.slice(0, -1), catalogue)).toMatchObject({
      ok: false,
      message: expect.stringContaining('incomplete or damaged'),
    });
    expect(decodeGraphFragment('#g=', catalogue)).toEqual({
      ok: false,
      message: "this link is cut off: nothing follows '#g='",
    });
  });
  it('garbled links: a foreign character is named; a changed character is caught', () => {
    const bad = frag.slice(0, 50) + '!' + frag.slice(51);
    expect(decodeGraphFragment(bad, catalogue)).toEqual({
      ok: false,
      message:
        "this link is garbled: the character '!' at position 48 after '#g=' cannot appear in a mam-studio link",
    });
    for (const at of [3, 10, 200, Math.floor(frag.length / 2), frag.length - 2]) {
      const c = frag[at] === 'A' ? 'B' : 'A';
      const r = decodeGraphFragment(frag.slice(0, at) + c + frag.slice(at + 1), catalogue);
      expect(r.ok, `changed at ${at}`).toBe(false);
      if (!r.ok) expect(r.message).toMatch(/damaged|cannot be opened/);
    }
  });
  it('other fragments and other content are refused in words', () => {
    expect(decodeGraphFragment('https://example.org/#section-2', catalogue)).toMatchObject({
      ok: false,
      message: expect.stringContaining('holds no mam-studio graph'),
    });
    const other = '#g=' + Buffer.from(zlib.deflateSync('{"format":"other"}')).toString('base64url');
    expect(decodeGraphFragment(other, catalogue)).toMatchObject({
      ok: false,
      message: expect.stringContaining('cannot be opened: not a mam-studio graph'),
    });
  });
});

/** A 1×1 RGBA PNG written here with node:zlib, independent of src/share. */
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(td));
  return Buffer.concat([len, td, crc]);
}
function tinyPng(): Uint8Array {
  const ihdr = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]); // 1×1, 8 bits, RGBA
  const idat = zlib.deflateSync(Buffer.from([0, 255, 0, 0, 255])); // filter 0, one red pixel
  return new Uint8Array(
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', idat),
      chunk('IEND', Buffer.alloc(0)),
    ]),
  );
}
/** Chunks by an independent reader: type, data, and whether node:zlib's CRC agrees. */
function chunksOf(png: Uint8Array) {
  const b = Buffer.from(png);
  const out: { type: string; data: Buffer; crcOk: boolean }[] = [];
  for (let at = 8; at < b.length;) {
    const n = b.readUInt32BE(at);
    const td = b.subarray(at + 4, at + 8 + n);
    out.push({
      type: td.subarray(0, 4).toString('latin1'),
      data: td.subarray(4),
      crcOk: zlib.crc32(td) === b.readUInt32BE(at + 8 + n),
    });
    at += 12 + n;
  }
  return out;
}

describe('PNG text chunk', () => {
  const doc = P['swin-unet-mam-sts'];

  it('adds one iTXt chunk before IEND with correct CRCs; its text inflates to the file', () => {
    const png = embedGraphInPng(tinyPng(), doc);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const cs = chunksOf(png);
    expect(cs.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'iTXt', 'IEND']);
    expect(cs.every((c) => c.crcOk)).toBe(true);
    const head = Buffer.from(`${PNG_KEYWORD}\0\x01\x00\0\0`, 'latin1'); // keyword, compressed, zlib, no language, no translation
    expect(cs[2].data.subarray(0, head.length)).toEqual(head);
    expect(zlib.inflateSync(cs[2].data.subarray(head.length)).toString('utf8')).toBe(
      saveGraph(doc),
    );
    expect(extractGraphFromPng(png)).toEqual({ ok: true, text: saveGraph(doc) });
    const loaded = loadGraphFromPng(png, catalogue);
    expect(loaded.ok && saveGraph(loaded.graph)).toBe(saveGraph(doc));
  });

  it('embedding again replaces the graph', () => {
    const png = embedGraphInPng(embedGraphInPng(tinyPng(), doc), P['swin-unet']);
    expect(chunksOf(png).map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'iTXt', 'IEND']);
    expect(extractGraphFromPng(png)).toEqual({ ok: true, text: saveGraph(P['swin-unet']) });
  });

  it('refuses in words: no graph, damaged chunk, not a PNG, cut off', () => {
    expect(extractGraphFromPng(tinyPng())).toEqual({
      ok: false,
      message: 'this PNG holds no mam-studio graph',
    });
    const png = embedGraphInPng(tinyPng(), doc);
    const damaged = png.slice();
    const iTXtAt =
      8 +
      chunksOf(png)
        .slice(0, 2)
        .reduce((n, c) => n + 12 + c.data.length, 0);
    damaged[iTXtAt + 8 + 40] ^= 0x01;
    expect(extractGraphFromPng(damaged)).toMatchObject({
      ok: false,
      message: expect.stringContaining('checksum (CRC) does not match'),
    });
    expect(extractGraphFromPng(enc.encode('GIF89a....'))).toEqual({
      ok: false,
      message: 'this file is not a PNG image',
    });
    expect(extractGraphFromPng(png.subarray(0, png.length - 20))).toMatchObject({
      ok: false,
      message: expect.stringContaining('cut off'),
    });
    expect(() => embedGraphInPng(enc.encode('nope'), doc)).toThrow('not a PNG');
  });

  itOracle('Python reads it: chunk CRCs by zlib.crc32 and the iTXt text', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mam-png-')), 'graph.png');
    writeFileSync(file, embedGraphInPng(tinyPng(), doc));
    const py = `
import json, struct, sys, zlib
b = open(sys.argv[1], 'rb').read()
assert b[:8] == b'\\x89PNG\\r\\n\\x1a\\n'
at, types, text = 8, [], None
while at < len(b):
    n, = struct.unpack('>I', b[at:at+4]); t = b[at+4:at+8]; d = b[at+8:at+8+n]
    assert zlib.crc32(t + d) == struct.unpack('>I', b[at+8+n:at+12+n])[0], t
    types.append(t.decode())
    if t == b'iTXt':
        key, rest = d.split(b'\\0', 1)
        assert key == b'mam-studio/graph' and rest[:2] == b'\\x01\\x00'
        lang, trans, body = rest[2:].split(b'\\0', 2)
        text = zlib.decompress(body).decode()
    at += 12 + n
g = json.loads(text)
print(','.join(types), g['format'], len(g['nodes']))
`;
    expect(execFileSync(venvPython, ['-c', py, file], { encoding: 'utf8' }).trim()).toBe(
      `IHDR,IDAT,iTXt,IEND mam-studio/graph ${doc.nodes.length}`,
    );
  });
});

describe('graphFileName', () => {
  it('slugs the title', () => {
    expect(graphFileName(P['swin-unet-mam-sts'])).toBe('swin-unet-mam-sts-encoder-model-5-1.json');
    expect(
      graphFileName({ ...P['swin-unet'], metadata: { title: 'Démo 128×128 — brain!' } }, 'png'),
    ).toBe('demo-128x128-brain.png');
    expect(graphFileName({ ...P['swin-unet'], metadata: undefined })).toBe('graph.json');
    expect(graphFileName({ ...P['swin-unet'], metadata: { title: '***' } })).toBe('graph.json');
  });
});
