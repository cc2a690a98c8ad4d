// The boundary lint (eslint.config.js, run by `npm run lint`) bites: a forbidden
// import written into a file of a layer fails with no-restricted-imports.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: process.cwd() });

/** Lints `code` as if it were the file at `path` (the repo's config decides by path). */
async function lint(path: string, code: string) {
  const [r] = await eslint.lintText(code, { filePath: path });
  return r.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

const tfjs = "import * as tf from '@tensorflow/tfjs';\nexport const x = tf;\n";
const tfjsCore = "import { tidy } from '@tensorflow/tfjs-core';\nexport const x = tidy;\n";
const ops = (p: string) => `import { layerNorm } from '${p}';\nexport const x = layerNorm;\n`;
const lit = "import { html } from 'lit';\nexport const x = html;\n";
const rete = "import { NodeEditor } from 'rete';\nexport const x = NodeEditor;\n";

describe('boundary lint', () => {
  it.each([
    ['nodes/fixture.ts', tfjs],
    ['nodes/shared/fixture.ts', tfjsCore],
    ['src/graph/fixture.ts', tfjs],
    ['nodes/fixture.ts', ops('../src/ops/index.ts')],
    ['src/graph/fixture.ts', ops('../ops/index.ts')],
    ['src/graph/fixture.ts', ops('../compile/kernels/index.ts')],
    ['src/compile/fixture.ts', lit],
    ['src/train/fixture.ts', rete],
    ['src/graph/fixture.ts', lit],
    ['src/cli/fixture.ts', ops('../rete/index.ts')],
    ['src/session/fixture.ts', lit],
    ['src/session/fixture.ts', rete],
    ['src/session/fixture.ts', ops('../rete/index.ts')],
    ['nodes/fixture.ts', ops('../src/tfjs.ts')],
    ['src/graph/fixture.ts', ops('../tfjs.ts')],
    ['src/graph/fixture.ts', ops('#tfjs')],
  ])('%s may not import it', async (path, code) => {
    const messages = await lint(path, code);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^no-restricted-imports: .*layer boundary/);
  });

  it.each([
    'src/compile/fixture.ts',
    'src/rete/fixture.ts',
    'editor/fixture.ts',
    'test/fixture.ts',
  ])('%s takes tfjs from src/tfjs.ts, not the umbrella package', async (path) => {
    expect(await lint(path, tfjs)).toContain(
      "no-restricted-imports: '@tensorflow/tfjs' import is restricted from being used. import tfjs from src/tfjs.ts (tfjs-core with its gradients); the umbrella package also pulls layers, converter and data.",
    );
  });

  it.each([
    ['editor/fixture.ts', ops('../src/compile/model.ts')],
    ['editor/fixture.ts', ops('#tfjs')],
    ['editor/fixture.ts', tfjsCore],
    ['editor/fixture.ts', ops('../src/session/settings.ts')],
    [
      'editor/panel/fixture.ts',
      "import type { EvalResult } from '../../src/session/types.ts';\nexport type X = EvalResult;\n",
    ],
  ])("%s (the editor's main thread) may not import it", async (path, code) => {
    const messages = await lint(path, code);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^@typescript-eslint\/no-restricted-imports: .*layer boundary/);
  });

  it.each([
    ["import { catalogue } from '../../nodes/index.ts';\nexport const x = catalogue;\n"],
    ["import { getKind } from '../../nodes/index.ts';\nexport const x = getKind;\n"],
    ["import { swinBlock } from '../../nodes/swin-block.ts';\nexport const x = swinBlock;\n"],
  ])('src/graph takes the catalogue as a parameter, it may not import nodes/: %s', async (code) => {
    const messages = await lint('src/graph/fixture.ts', code);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(
      /^@typescript-eslint\/no-restricted-imports: .*layer boundary: src\/graph takes the node catalogue as a parameter/,
    );
  });

  it('src/ outside src/rete uses no DOM', async () => {
    expect(await lint('src/data/fixture.ts', 'export const t = document.title;\n')).toEqual([
      "no-restricted-globals: Unexpected use of 'document'. layer boundary: src/ outside src/rete runs in Node and workers too; no DOM.",
    ]);
  });

  it.each([
    ['nodes/fixture.ts', ops('../src/graph/node-kind.ts')],
    ['src/compile/fixture.ts', ops('#tfjs')],
    ['src/compile/fixture.ts', tfjsCore],
    ['src/compile/kernels/fixture.ts', ops('../../ops/index.ts')],
    ['src/rete/fixture.ts', lit],
    ['editor/fixture.ts', lit],
    [
      'editor/fixture.ts',
      "import type { Tensor } from '@tensorflow/tfjs-core';\nexport type X = Tensor;\n",
    ],
    [
      'editor/fixture.ts',
      "import type { Plan } from '../src/compile/plan.ts';\nexport type X = Plan;\n",
    ],
    ['editor/worker/fixture.ts', ops('../../src/compile/model.ts')],
    ['editor/worker/fixture.ts', ops('../../src/session/session.ts')],
    ['editor/fixture.ts', ops('./worker/api.ts')],
    [
      'src/graph/fixture.ts',
      "import type { NodeKind } from '../../nodes/index.ts';\nexport type X = NodeKind;\n",
    ],
    [
      'src/cli/fixture.ts',
      "import { catalogue } from '../../nodes/index.ts';\nexport const x = catalogue;\n",
    ],
    [
      'src/rete/fixture.ts',
      "import { catalogue } from '../../nodes/index.ts';\nexport const x = catalogue;\n",
    ],
  ])('%s may import it', async (path, code) => {
    expect(await lint(path, code)).toEqual([]);
  });
});
