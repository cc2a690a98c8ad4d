import { cpSync, existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { defineConfig, type Plugin } from 'vite';
import { fileInside, sendFile } from './vite-plugins/static-files.ts';
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
    const file = fileInside(staticDirs[prefix], path.slice(prefix.length));
    sendFile(req, res, file && wantedFile(prefix)(file) ? file : undefined, path);
  };
  return {
    name: 'mam-static-dirs',
    configResolved(config) {
      // The worker resolves presets/, data/ and tfjs-wasm/ against the origin,
      // so a relative base (`./`) would send it to the wrong folder.
      if (!/^(\/|https?:\/\/)/.test(config.base))
        throw new Error(
          `--base / MAM_BASE must be an absolute path such as /tools/mam-studio/ (got "${config.base}")`,
        );
      base = config.base;
    },
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
  // coi-sw.js, the service worker that isolates the page where the host cannot send headers.
  publicDir: 'editor/public',
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
      '@tensorflow/tfjs-core',
      '@tensorflow/tfjs-core/dist/register_all_gradients',
      '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops',
      '@tensorflow/tfjs-backend-cpu',
      '@tensorflow/tfjs-backend-webgl',
      '@tensorflow/tfjs-backend-webgpu',
      '@tensorflow/tfjs-backend-wasm',
      'lit',
    ],
    exclude: ['webgpu'],
  },
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    // tfjs is most of both bundles (the main thread's node kinds import it, the
    // worker carries three backends): ~1.3 MB and ~2.6 MB minified, by design.
    chunkSizeWarningLimit: 3000,
  },
});
