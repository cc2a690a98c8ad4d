// The threaded wasm factory survives a minified production bundle: what its
// toString() gives (the text each pthread worker evaluates on its own) is the
// function exactly as Emscripten wrote it in the package, not a minified copy
// that reads renamed variables of the bundle. The browser side of the same
// fix (threads start, training runs) is in test/e2e/prod/.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { build, type Rolldown } from 'vite';
import { tfjsWasmThreads } from '../../vite-plugins/tfjs-wasm-threads.ts';

const wasmPackage = dirname(
  dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm')),
);
const FACTORY_FILE = join(wasmPackage, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');

/** The inner factory function of the package's file, found by its own text. */
function packageFactoryText(): string {
  const code = readFileSync(FACTORY_FILE, 'utf8');
  const m =
    /return \(\n(function\(WasmBackendModuleThreadedSimd\) \{[\s\S]*?\n\})\n\);\n\}\)\(\);/.exec(
      code,
    );
  if (!m) throw new Error(`${FACTORY_FILE}: no factory function found`);
  return m[1];
}

describe('tfjs wasm threads in a production bundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mam-wasm-threads-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function bundle(sourcemap = false): Promise<{ code: string; map?: string }> {
    const entry = join(dir, 'entry.js');
    writeFileSync(
      entry,
      `import factory from ${JSON.stringify(FACTORY_FILE)};\n` +
        `export const source = factory.toString();\n` +
        `export const marker = () => 'mam-marker';\n`,
    );
    const out = (await build({
      configFile: false,
      root: dir,
      logLevel: 'silent',
      mode: 'production',
      plugins: [tfjsWasmThreads()],
      build: {
        write: false,
        minify: true,
        sourcemap,
        target: 'es2022',
        rollupOptions: { input: entry, preserveEntrySignatures: 'strict' },
      },
    })) as Rolldown.RolldownOutput | Rolldown.RolldownOutput[];
    const outputs = Array.isArray(out) ? out : [out];
    const chunk = outputs[0].output.find((o) => o.type === 'chunk' && o.isEntry);
    if (!chunk || chunk.type !== 'chunk') throw new Error('no entry chunk');
    const map = outputs[0].output.find((o) => o.fileName === `${chunk.fileName}.map`);
    return { code: chunk.code, map: map?.type === 'asset' ? String(map.source) : undefined };
  }

  it('keeps the factory text exactly as Emscripten wrote it', async () => {
    const { code } = await bundle();
    const { source } = (await import(
      `data:text/javascript;base64,${Buffer.from(code).toString('base64')}`
    )) as { source: string };
    expect(source).toBe(packageFactoryText());
  });

  it('keeps the source map in step with the lines put in front of the bundle', async () => {
    const { code, map } = await bundle(true);
    expect(map).toBeDefined();
    const lines = code.split('\n');
    // The minifier may quote the string with ', " or `.
    const line = lines.findIndex((l) => /[`'"]mam-marker/.test(l));
    const column = lines[line].search(/[`'"]mam-marker/);
    // Node's own source map reader, 0-based lines and columns.
    const entry = new SourceMap(JSON.parse(map!)).findEntry(line, column);
    expect(entry).toMatchObject({
      generatedLine: line,
      originalSource: expect.stringMatching(/entry\.js$/),
      originalLine: 2,
    });
  });
});
