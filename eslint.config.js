// @ts-check
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** Layer 1 (nodes/, src/graph) imports no tensor library and no compute code. */
const SPECS_PURE = [
  {
    group: ['@tensorflow/*'],
    message:
      'layer boundary: node specs and src/graph are pure (no tensor library); tensor math goes in a kernel under src/compile/kernels/.',
  },
  {
    regex:
      '(^|/)src/(ops|compile|train|data|backend|cli|session|tfjs)(/|\\.|$)|^\\.\\./(ops|compile|train|data|backend|cli|session|tfjs)(/|\\.|$)|^#tfjs$',
    message:
      'layer boundary: node specs and src/graph import only specs (nodes/, src/graph), not compute code or tfjs.',
  },
];

const UMBRELLA = {
  name: '@tensorflow/tfjs',
  message:
    'import tfjs from src/tfjs.ts (tfjs-core with its gradients); the umbrella package also pulls layers, converter and data.',
};

const MAIN_THREAD =
  "layer boundary: the editor's main thread takes no tfjs or compute code (types only); the worker (editor/worker/) does the math.";

/** Lit, Rete and the editor belong to the view: src/rete and editor/ only ('rete' and 'editor' also match those folders). */
const NO_VIEW = [
  {
    group: ['lit', 'lit/*', '@lit/*', 'rete', 'rete-*', '@retejs/*', 'editor'],
    message:
      'layer boundary: src/ outside src/rete runs in Node and workers too; no Lit, Rete or editor code.',
  },
];

const DOM_GLOBALS = ['document', 'window', 'HTMLElement', 'customElements'].map((name) => ({
  name,
  message: 'layer boundary: src/ outside src/rete runs in Node and workers too; no DOM.',
}));

export default defineConfig(
  {
    ignores: [
      'node_modules/',
      'dist/',
      '.venv/',
      'runs/',
      'data/',
      'test-results/',
      'bench/out/',
      '.vite/',
      'coverage/',
      '.scratch/',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
    },
    rules: {
      // `_`-prefixed names mark parameters a signature needs but the body does not.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    // TensorFlow.js comes in through src/tfjs.ts (tfjs-core, gradients, chained ops, cpu).
    files: ['**/*.ts'],
    ignores: ['nodes/**', 'src/graph/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [UMBRELLA] }] },
  },
  // The layers of DESIGN.md: each imports only the ones below it.
  {
    // Layer 1, specs: node kinds and the graph document are pure TypeScript.
    files: ['nodes/**/*.ts', 'src/graph/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...SPECS_PURE, ...NO_VIEW] }],
    },
  },
  {
    // The library outside the Rete plugin runs in a page, a worker and Node: no view code.
    files: ['src/**/*.ts'],
    ignores: ['src/rete/**', 'src/graph/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [UMBRELLA], patterns: NO_VIEW }],
      'no-restricted-globals': ['error', ...DOM_GLOBALS],
    },
  },
  {
    files: ['src/graph/**/*.ts'],
    rules: {
      'no-restricted-globals': ['error', ...DOM_GLOBALS],
      // The graph layer takes the node catalogue as a parameter; the app, the CLI and the
      // Rete plugin's default pass the built-in one (nodes/index.ts).
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)nodes(/|$)',
              allowTypeImports: true,
              message:
                'layer boundary: src/graph takes the node catalogue as a parameter; it does not import nodes/ (the callers pass the built-in catalogue).',
            },
          ],
        },
      ],
    },
  },
  {
    // The editor's main thread loads specs and the view only; tensors live in its worker.
    files: ['editor/**/*.ts'],
    ignores: ['editor/worker/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@tensorflow/*'],
              allowTypeImports: true,
              message: MAIN_THREAD,
            },
            {
              regex: '(^|/)src/(ops|compile|train|data|backend|tfjs)(/|\\.|$)|^#tfjs$',
              allowTypeImports: true,
              message: MAIN_THREAD,
            },
            {
              regex: '(^|/)src/session(/|$)',
              message:
                "layer boundary: the editor's page reaches the session only through its worker adapter (editor/worker/api.ts).",
            },
          ],
        },
      ],
    },
  },
  {
    // Plain JavaScript that runs in Node (bin/, scripts/, configs).
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
      },
    },
  },
);
