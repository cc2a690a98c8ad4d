// A plain static file server for the hosting tests: serves folders under URL
// prefixes, as a static host would, with or without the COOP/COEP headers
// that cross-origin isolation needs. Nothing vite-specific, so what passes
// here passes on any host that serves dist/ as files.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileInside, sendFile } from '../../vite-plugins/static-files.ts';

export interface StaticServerOptions {
  /** URL prefix (starting and ending in `/`) → folder. */
  mounts: Record<string, string>;
  /** Send COOP `same-origin` and COEP `credentialless` with every response. */
  isolation: boolean;
}

export interface StaticServer {
  /** `http://127.0.0.1:<port>` without a trailing slash. */
  origin: string;
  /** Every request, in order: its path and the status it was answered with. */
  requests: { path: string; status: number }[];
  close(): Promise<void>;
}

export async function startStaticServer(opts: StaticServerOptions): Promise<StaticServer> {
  const requests: StaticServer['requests'] = [];
  // The longest prefix wins, so `/sub/presets/` can sit beside `/sub/`.
  const prefixes = Object.keys(opts.mounts).sort((a, b) => b.length - a.length);
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    res.on('finish', () => requests.push({ path, status: res.statusCode }));
    if (opts.isolation) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'credentialless');
    }
    const prefix = prefixes.find((p) => path.startsWith(p));
    sendFile(req, res, prefix && fileInside(opts.mounts[prefix], path.slice(prefix.length)), path);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
