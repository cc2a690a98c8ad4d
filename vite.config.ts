import { cpSync, createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { createRequire } from 'node:module';
import { defineConfig, type Plugin } from 'vite';
import { tfjsWasmThreads } from './vite-plugins/tfjs-wasm-threads.ts';

const root = import.meta.dirname;

/** The wasm backend's binaries (tfjs-backend-wasm*.wasm) live next to its main file. */
const wasmDist = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));

/**
 * URL prefix → folder served as plain files. presets/ and data/ sit at the repo
 * root beside the editor; /tfjs-wasm/ is where src/backend/wasm.ts looks for
 * the wasm binaries in a browser.
 */
const staticDirs: Record<string, string> = {
  '/presets/': join(root, 'presets'),
  '/data/': join(root, 'data'),
  '/tfjs-wasm/': wasmDist,
};

const contentTypes: Record<string, string> = {
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
};

/** Of the wasm package's dist folder only the binaries are wanted. */
function wantedFile(prefix: string): (path: string) => boolean {
  return (path) => prefix !== '/tfjs-wasm/' || path === wasmDist || path.endsWith('.wasm');
}

/**
 * Serves staticDirs from the dev server under the configured base path, and
 * copies them into dist/ on build (`vite preview` serves dist/ as it is, as
 * any static host would).
 */
function serveStaticDirs(): Plugin {
  let base = '/';
  const middleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => {
    const url = decodeURIComponent((req.url ?? '').split('?')[0]);
    if (!url.startsWith(base)) return next();
    const path = url.slice(base.length - 1);
    const prefix = Object.keys(staticDirs).find((p) => path.startsWith(p));
    if (!prefix || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
    const dir = staticDirs[prefix];
    const file = resolve(dir, path.slice(prefix.length));
    const found = existsSync(file) && statSync(file).isFile() && wantedFile(prefix)(file);
    if (!file.startsWith(dir + sep) || !found) {
      res.statusCode = 404;
      res.end(`not found: ${path}`);
      return;
    }
    res.setHeader('Content-Type', contentTypes[extname(file)] ?? 'application/octet-stream');
    res.setHeader('Content-Length', statSync(file).size);
    res.setHeader('Cache-Control', 'no-cache');
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  };
  return {
    name: 'mam-static-dirs',
    configResolved: (config) => void (base = config.base),
    configureServer: (server) => void server.middlewares.use(middleware),
    writeBundle(options) {
      const outDir = options.dir ?? join(root, 'dist');
      for (const [prefix, dir] of Object.entries(staticDirs)) {
        if (!existsSync(dir)) continue;
        cpSync(dir, join(outDir, prefix), { recursive: true, filter: wantedFile(prefix) });
      }
    },
  };
}

// Cross-origin isolation lets the wasm backend use threads (SharedArrayBuffer).
// `credentialless` keeps cross-origin fetches with CORS working.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'credentialless',
};

/**
 * The URL path the app is served under: `/` by default; `vite build --base
 * /sub/path/` or MAM_BASE=/sub/path/ for hosting under a sub-path. Every URL
 * the app builds (presets/, data/, tfjs-wasm/, the worker, coi-sw.js) starts
 * from import.meta.env.BASE_URL, which is this.
 */
const base = process.env.MAM_BASE ?? '/';

export default defineConfig({
  root,
  base,
  publicDir: false,
  plugins: [serveStaticDirs(), tfjsWasmThreads()],
  // The training worker is a bundle of its own, with its own plugins.
  worker: { plugins: () => [tfjsWasmThreads()] },
  server: {
    host: '127.0.0.1',
    port: 5173,
    strictPort: false,
    headers: isolation,
    // .venv holds torch (tens of thousands of files); data/ and runs/ are large and not source.
    watch: { ignored: ['**/.venv/**', '**/data/**', '**/runs/**', '**/test-results/**'] },
  },
  preview: { host: '127.0.0.1', port: 4173, strictPort: false, headers: isolation },
  optimizeDeps: {
    // Without this vite globs every .html under the root, .venv included.
    entries: ['index.html'],
    // Listed up front so a backend imported later does not trigger a re-bundle and page reload.
    include: [
      '@tensorflow/tfjs',
      '@tensorflow/tfjs-backend-webgpu',
      '@tensorflow/tfjs-backend-wasm',
      'lit',
    ],
    exclude: ['webgpu'],
  },
  build: { target: 'es2022', outDir: 'dist', emptyOutDir: true },
});
