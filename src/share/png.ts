/**
 * Graphs inside PNG files (a screenshot of the canvas that opens as the
 * graph): an iTXt chunk with keyword `mam-studio/graph`, zlib-compressed
 * UTF-8 of the saved file, placed before IEND. PNG readers skip text chunks
 * they do not know, so the image stays an ordinary image.
 */
import type { Catalogue } from '../graph/node-kind.ts';
import { saveGraph } from '../graph/save.ts';
import type { GraphDoc } from '../graph/types.ts';
import { crc32 } from './checksum.ts';
import { compressText, decompressText, loadSharedText, type SharedGraphResult } from './link.ts';

export const PNG_KEYWORD = 'mam-studio/graph';
const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const TEXT_TYPES = new Set(['iTXt', 'zTXt', 'tEXt']);

export interface PngChunk {
  type: string;
  data: Uint8Array;
  /** Offset of the chunk's length field in the file. */
  offset: number;
  crcOk: boolean;
}

const latin1 = (bytes: Uint8Array) => {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
};
const u32 = (b: Uint8Array, i: number) =>
  ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;

/** The chunks of a PNG up to IEND, or why it cannot be read. */
export function readPngChunks(png: Uint8Array): { chunks: PngChunk[] } | { message: string } {
  if (png.length < 8 || SIGNATURE.some((v, i) => png[i] !== v))
    return { message: 'this file is not a PNG image' };
  const chunks: PngChunk[] = [];
  let at = 8;
  while (at < png.length) {
    if (at + 12 > png.length)
      return { message: `this PNG is cut off: a chunk at byte ${at} is incomplete` };
    const length = u32(png, at);
    const end = at + 12 + length;
    if (end > png.length)
      return {
        message: `this PNG is cut off: a chunk at byte ${at} claims ${length} bytes that are not there`,
      };
    const typeBytes = png.subarray(at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    const type = latin1(typeBytes);
    chunks.push({
      type,
      data,
      offset: at,
      crcOk: crc32(typeBytes, data) === u32(png, at + 8 + length),
    });
    at = end;
    if (type === 'IEND') break;
  }
  if (chunks[chunks.length - 1]?.type !== 'IEND')
    return { message: 'this PNG is cut off: it has no IEND chunk' };
  return { chunks };
}

function chunkBytes(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  const typeBytes = new Uint8Array([...type].map((c) => c.charCodeAt(0)));
  out.set(typeBytes, 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(typeBytes, data));
  return out;
}

/** Keyword of a text chunk (bytes before the first NUL). */
function keywordOf(data: Uint8Array): string {
  const nul = data.indexOf(0);
  return latin1(data.subarray(0, nul < 0 ? data.length : nul));
}

/** The iTXt payload: keyword, NUL, compressed, method 0, empty language and translated keyword, zlib text. */
export function graphTextChunk(text: string): Uint8Array {
  const key = new Uint8Array([...PNG_KEYWORD].map((c) => c.charCodeAt(0)));
  const body = compressText(text);
  const data = new Uint8Array(key.length + 5 + body.length);
  data.set(key, 0);
  data.set([0, 1, 0, 0, 0], key.length);
  data.set(body, key.length + 5);
  return chunkBytes('iTXt', data);
}

/**
 * A copy of `png` holding the graph, replacing any graph it held. Throws when
 * `png` is not a readable PNG: the editor makes the image itself.
 */
export function embedGraphInPng(png: Uint8Array, doc: GraphDoc): Uint8Array {
  const read = readPngChunks(png);
  if ('message' in read) throw new Error(`cannot embed the graph: ${read.message}`);
  const keep = read.chunks.filter(
    (c) => !(TEXT_TYPES.has(c.type) && keywordOf(c.data) === PNG_KEYWORD),
  );
  const iend = keep.pop() as PngChunk;
  const parts = [
    png.subarray(0, 8),
    ...keep.map((c) => png.subarray(c.offset, c.offset + 12 + c.data.length)),
  ];
  parts.push(graphTextChunk(saveGraph(doc)), png.subarray(iend.offset, iend.offset + 12));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The graph file text inside a PNG (iTXt, zTXt or tEXt with our keyword). */
export function extractGraphFromPng(
  png: Uint8Array,
): { ok: true; text: string } | { ok: false; message: string } {
  const read = readPngChunks(png);
  if ('message' in read) return { ok: false, message: read.message };
  const chunk = read.chunks.find(
    (c) => TEXT_TYPES.has(c.type) && keywordOf(c.data) === PNG_KEYWORD,
  );
  if (!chunk) return { ok: false, message: 'this PNG holds no mam-studio graph' };
  if (!chunk.crcOk)
    return {
      ok: false,
      message:
        'the mam-studio graph in this PNG is damaged: its chunk checksum (CRC) does not match',
    };
  const d = chunk.data;
  const rest = d.subarray(PNG_KEYWORD.length + 1);
  if (chunk.type === 'tEXt') return { ok: true, text: latin1(rest) };
  const what = 'the mam-studio graph in this PNG';
  if (chunk.type === 'zTXt') {
    const r =
      rest[0] === 0
        ? decompressText(rest.subarray(1), what)
        : { message: `${what} uses an unknown compression method` };
    return 'text' in r ? { ok: true, text: r.text } : { ok: false, message: r.message };
  }
  // iTXt: flag, method, language NUL, translated keyword NUL, text.
  const [flag, method] = rest;
  const langEnd = rest.indexOf(0, 2);
  const transEnd = langEnd < 0 ? -1 : rest.indexOf(0, langEnd + 1);
  if (transEnd < 0)
    return { ok: false, message: `${what} is damaged: its text chunk header is incomplete` };
  const body = rest.subarray(transEnd + 1);
  if (flag === 0) {
    try {
      return { ok: true, text: new TextDecoder('utf-8', { fatal: true }).decode(body) };
    } catch {
      return { ok: false, message: `${what} is damaged: its text is not valid UTF-8` };
    }
  }
  if (method !== 0) return { ok: false, message: `${what} uses an unknown compression method` };
  const r = decompressText(body, what);
  return 'text' in r ? { ok: true, text: r.text } : { ok: false, message: r.message };
}

/** Extract and load, with every check a file gets, with the node kinds of `catalogue`. */
export function loadGraphFromPng(png: Uint8Array, catalogue: Catalogue): SharedGraphResult {
  const r = extractGraphFromPng(png);
  return r.ok ? loadSharedText(r.text, 'this PNG', catalogue) : r;
}
