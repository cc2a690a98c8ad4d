// Keeps tfjs's threaded wasm module factory out of minification.
//
// On a cross-origin isolated page tfjs-backend-wasm picks its threaded SIMD
// build. Each of its pthread workers is a Blob made from the *source text* of
// the module factory (`wasmFactoryThreadedSimd.toString()` in
// backend_wasm.js), evaluated on its own in the worker. That text is the inner
// function of an Emscripten wrapper, and it reads the wrapper's `_scriptDir`
// (guarded by `typeof _scriptDir !== "undefined"`). A minifier renames
// `_scriptDir` to a short name and, knowing it is declared, drops the typeof
// guard, so in the worker the text reads a variable that does not exist:
// "ReferenceError: e is not defined" from every pthread worker, and the
// backend never starts (tensorflow/tfjs issues #4107, #4539).
//
// The cure is to bundle that one module unminified. The bundle keeps a
// placeholder global name where the factory's CommonJS module was; after the
// minifier has run (generateBundle), the factory's original source is put in
// front of the chunk under that name. Its toString() is then exactly the text
// Emscripten wrote, as in the dev server, which does not minify.
import { createHash } from 'node:crypto';
import type { Plugin } from 'vite';

const FACTORY_FILE =
  /[\\/]@tensorflow[\\/]tfjs-backend-wasm[\\/]wasm-out[\\/]tfjs-backend-wasm-threaded-simd\.js$/;

/** A global name no minifier renames (it is never declared in the bundle itself). */
const PLACEHOLDER = '__mamTfjsWasmThreadedSimdFactory';

/**
 * The factory file is `var WasmBackendModuleThreadedSimd = (() => {…})();`
 * followed by a UMD tail (`if (typeof exports …`) that exports it.
 */
const DECLARATION = 'var WasmBackendModuleThreadedSimd =';

export function tfjsWasmThreads(): Plugin {
  let factorySource: string | undefined;
  return {
    name: 'mam-tfjs-wasm-threads',
    apply: 'build',
    transform(code, id) {
      if (!FACTORY_FILE.test(id.split('?')[0])) return null;
      factorySource = factoryExpression(code);
      if (!factorySource)
        this.error(`${id}: the threaded wasm factory no longer has the shape this plugin expects`);
      return { code: `module.exports = ${PLACEHOLDER};\n`, map: null };
    },
    augmentChunkHash(chunk) {
      if (factorySource && Object.keys(chunk.modules).some((id) => FACTORY_FILE.test(id)))
        return createHash('sha256').update(factorySource).digest('hex');
    },
    generateBundle(_options, bundle) {
      if (!factorySource) return;
      for (const chunk of Object.values(bundle)) {
        if (chunk.type !== 'chunk' || !chunk.code.includes(PLACEHOLDER)) continue;
        const prefix = `var ${PLACEHOLDER} = ${factorySource};\n`;
        chunk.code = prefix + chunk.code;
        // A source map (build.sourcemap) moves down by the lines put in front.
        const shift = ';'.repeat(prefix.split('\n').length - 1);
        if (chunk.map) chunk.map.mappings = shift + chunk.map.mappings;
        const mapFile = bundle[`${chunk.fileName}.map`];
        if (mapFile?.type === 'asset' && typeof mapFile.source === 'string') {
          const map = JSON.parse(mapFile.source) as { mappings: string };
          map.mappings = shift + map.mappings;
          mapFile.source = JSON.stringify(map);
        }
      }
    },
  };
}

/** The expression that makes the factory, as Emscripten wrote it; undefined if the file changed shape. */
function factoryExpression(code: string): string | undefined {
  const start = code.indexOf(DECLARATION);
  const end = code.indexOf('\nif (typeof exports', start);
  if (start < 0 || end < 0) return undefined;
  return code
    .slice(start + DECLARATION.length, end)
    .trim()
    .replace(/;$/, '');
}
