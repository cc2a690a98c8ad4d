/**
 * Graphs in links: the saved file text, zlib-compressed (fflate), in base64url
 * after `#g=` in the URL fragment (never sent to a server). Decoding checks
 * the alphabet, the zlib header and the Adler-32 trailer (fflate does not), so a
 * cut-off or altered link gives a sentence rather than a wrong graph.
 */
import { unzlibSync, zlibSync } from 'fflate';
import { loadGraph } from '../graph/load.ts';
import type { Catalogue } from '../graph/node-kind.ts';
import { saveGraph } from '../graph/save.ts';
import type { GraphDoc, GraphIssue } from '../graph/types.ts';
import { adler32 } from './checksum.ts';

export const FRAGMENT_PREFIX = '#g=';

export type SharedGraphResult =
  | { ok: true; graph: GraphDoc; issues: GraphIssue[]; migratedFrom?: number }
  | { ok: false; message: string };

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const VALUE = new Map([...ALPHABET].map((ch, i) => [ch, i]));

export function base64UrlEncode(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = i + 2 < bytes.length ? 4 : i + 1 < bytes.length ? 3 : 2;
    for (let k = 0; k < chars; k++) out += ALPHABET[(n >> (18 - 6 * k)) & 63];
  }
  return out;
}

/** Bytes, or the position of the first character outside the alphabet. */
export function base64UrlDecode(
  text: string,
): Uint8Array | { badChar: string; at: number } | { badLength: true } {
  if (text.length % 4 === 1) return { badLength: true };
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const v = VALUE.get(text[i]);
    if (v === undefined) return { badChar: text[i], at: i };
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

/** Wrap text (a saved graph) as zlib bytes. */
export const compressText = (text: string): Uint8Array =>
  zlibSync(new TextEncoder().encode(text), { level: 9 });

/** zlib bytes back to text, checking the header and the Adler-32 trailer. */
export function decompressText(
  bytes: Uint8Array,
  what: string,
): { text: string } | { message: string } {
  const damaged = `${what} is incomplete or damaged (was it cut off or changed when copied?)`;
  if (bytes.length < 6 || (bytes[0] & 0x0f) !== 8 || ((bytes[0] << 8) | bytes[1]) % 31 !== 0)
    return { message: damaged };
  let raw: Uint8Array;
  try {
    raw = unzlibSync(bytes);
  } catch (e) {
    return { message: `${damaged}: ${(e as Error).message}` };
  }
  const n = bytes.length;
  const want =
    ((bytes[n - 4] << 24) | (bytes[n - 3] << 16) | (bytes[n - 2] << 8) | bytes[n - 1]) >>> 0;
  if (adler32(raw) !== want) return { message: `${damaged}: its checksum does not match` };
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(raw) };
  } catch {
    return { message: `${damaged}: the text inside is not valid UTF-8` };
  }
}

export function encodeGraphToFragment(doc: GraphDoc): string {
  return FRAGMENT_PREFIX + base64UrlEncode(compressText(saveGraph(doc)));
}

/** Text of a graph file, loaded with every check a file gets, with the node kinds of `catalogue`. */
export function loadSharedText(
  text: string,
  what: string,
  catalogue: Catalogue,
): SharedGraphResult {
  const r = loadGraph(text, catalogue);
  if (!r.ok)
    return {
      ok: false,
      message: `${what} holds a graph that cannot be opened: ${r.issues.map((i) => i.message).join('; ')}`,
    };
  return r;
}

/** Accepts `#g=…`, `g=…` or a whole URL with that fragment; the graph's kinds come from `catalogue`. */
export function decodeGraphFragment(hash: string, catalogue: Catalogue): SharedGraphResult {
  const hashAt = hash.indexOf('#');
  let frag = (hashAt >= 0 ? hash.slice(hashAt + 1) : hash).replace(/\s+/g, '');
  if (!frag.startsWith('g='))
    return {
      ok: false,
      message: `this link holds no mam-studio graph (its address does not end in '${FRAGMENT_PREFIX}…')`,
    };
  frag = frag.slice(2).replace(/=+$/, '');
  if (!frag)
    return { ok: false, message: `this link is cut off: nothing follows '${FRAGMENT_PREFIX}'` };
  const bytes = base64UrlDecode(frag);
  if ('badChar' in bytes) {
    return {
      ok: false,
      message: `this link is garbled: the character '${bytes.badChar}' at position ${bytes.at + 1} after '${FRAGMENT_PREFIX}' cannot appear in a mam-studio link`,
    };
  }
  if ('badLength' in bytes)
    return {
      ok: false,
      message: 'this link is incomplete or damaged (was it cut off when copied?)',
    };
  const text = decompressText(bytes, 'this link');
  if ('message' in text) return { ok: false, message: text.message };
  return loadSharedText(text.text, 'this link', catalogue);
}
