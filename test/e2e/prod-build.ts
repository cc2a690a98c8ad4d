// Builds the app for production the way `npm run build` does, into a folder
// of the test run's own (dist/ stays the user's). The e2e-prod project's
// global setup builds once into test-results/builds/app, which the project
// names to the tests in MAM_E2E_DIST; the hosting tests build a sub-path
// variant themselves.
import { join, resolve } from 'node:path';
import { build } from 'vite';

const root = resolve(import.meta.dirname, '../..');

/** Where the e2e builds go: test-results/ is ignored by git, ESLint and vite's watcher. */
export const E2E_BUILDS = join(root, 'test-results', 'builds');

/**
 * vitest sets NODE_ENV=test, and vite takes NODE_ENV over the mode: a build
 * made under it would be a development build (Lit in dev mode,
 * import.meta.env.PROD false), not what `npm run build` makes.
 */
async function asProduction(run: () => Promise<unknown>): Promise<void> {
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await run();
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
}

/** Runs `vite build` (with `--base base`) into test-results/builds/<name>; returns the folder. */
export async function buildApp(name: string, base = '/'): Promise<string> {
  const outDir = join(E2E_BUILDS, name);
  await asProduction(() =>
    build({
      configFile: join(root, 'vite.config.ts'),
      root,
      base,
      mode: 'production',
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true },
    }),
  );
  return outDir;
}

/** The URL path the host page is served under, in dev (a file of the repo) and built. */
export const HOST_PATH = '/test/e2e/host/';

/**
 * Bundles test/e2e/host for production as a separate app would: its own vite
 * config (none: vite's defaults), importing the plugin as `mam-studio/rete`
 * through the package's exports (TypeScript sources), into
 * test-results/builds/host.
 */
export async function buildHost(): Promise<string> {
  const outDir = join(E2E_BUILDS, 'host');
  await asProduction(() =>
    build({
      configFile: false,
      root: join(root, HOST_PATH),
      base: HOST_PATH,
      mode: 'production',
      logLevel: 'warn',
      // Top-level await in the host's main.ts.
      build: { outDir, emptyOutDir: true, target: 'es2022' },
    }),
  );
  return outDir;
}

/** vitest globalSetup of the e2e-prod project. */
export default async function setup(): Promise<void> {
  await buildApp('app');
  await buildHost();
}
