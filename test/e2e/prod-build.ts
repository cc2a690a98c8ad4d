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

/** Runs `vite build` (with `--base base`) into test-results/builds/<name>; returns the folder. */
export async function buildApp(name: string, base = '/'): Promise<string> {
  const outDir = join(E2E_BUILDS, name);
  // vitest sets NODE_ENV=test, and vite takes NODE_ENV over the mode: a build
  // made under it would be a development build (Lit in dev mode,
  // import.meta.env.PROD false), not what `npm run build` makes.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      configFile: join(root, 'vite.config.ts'),
      root,
      base,
      mode: 'production',
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true },
    });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  return outDir;
}

/** vitest globalSetup of the e2e-prod project. */
export default async function setup(): Promise<void> {
  await buildApp('app');
}
