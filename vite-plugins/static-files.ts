// Serving plain files from a folder over node:http: the dev server's presets/,
// data/ and tfjs-wasm/ (vite.config.ts), and the static host of the hosting
// tests (test/e2e/static-server.ts).
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.gz': 'application/gzip',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
};

/**
 * The file `relative` names inside `dir` (a folder's index.html), or
 * undefined when it is missing or would lie outside `dir`.
 */
export function fileInside(dir: string, relative: string): string | undefined {
  const root = resolve(dir);
  let file = resolve(root, relative);
  if (file !== root && !file.startsWith(root + sep)) return undefined;
  if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
  return existsSync(file) && statSync(file).isFile() ? file : undefined;
}

/** Answers a GET or HEAD with the file, or 404 naming the path when there is none. */
export function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: string | undefined,
  path: string,
): void {
  if (!file) {
    res.statusCode = 404;
    res.end(`not found: ${path}`);
    return;
  }
  res.setHeader('Content-Type', CONTENT_TYPES[extname(file)] ?? 'application/octet-stream');
  res.setHeader('Content-Length', statSync(file).size);
  res.setHeader('Cache-Control', 'no-cache');
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).pipe(res);
}
