// The base path of a build must be absolute: the training worker resolves
// presets/, data/ and tfjs-wasm/ against the page's origin, so a relative
// base (`./`) would build an app that cannot load its data. The build refuses
// it up front with a one-line message naming the flag and the value.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { build } from 'vite';

const root = resolve(import.meta.dirname, '../..');

describe('vite build --base', () => {
  it('refuses a relative base, naming the flag and the value', async () => {
    await expect(
      build({
        configFile: resolve(root, 'vite.config.ts'),
        root,
        base: './',
        logLevel: 'silent',
        build: { write: false },
      }),
    ).rejects.toThrow(
      '--base / MAM_BASE must be an absolute path such as /tools/mam-studio/ (got "./")',
    );
  });
});
