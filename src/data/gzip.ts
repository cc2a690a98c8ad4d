import { Gunzip, gzipSync } from 'fflate';

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Gunzip, keeping whatever decompressed before an error so a truncated file can
 * still report how much it holds.
 */
export function gunzipPartial(bytes: Uint8Array): { data: Uint8Array; error: string | null } {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let error: string | null = null;
  const g = new Gunzip((chunk) => {
    chunks.push(chunk);
    total += chunk.length;
  });
  try {
    g.push(bytes, true);
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  const data = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.length;
  }
  return { data, error };
}

export function gzip(
  bytes: Uint8Array,
  level: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 = 6,
): Uint8Array {
  return gzipSync(bytes, { level });
}
