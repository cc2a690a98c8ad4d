import { defineConfig } from 'vitest/config';

// A busy machine can take seconds per render: e2e polls wait on the condition, generously.
const e2eExpect = { poll: { timeout: 60_000, interval: 100 } };

export default defineConfig({
  test: {
    // A test that asserts nothing fails; the tfjs banner stays out of the logs.
    expect: { requireAssertions: true },
    setupFiles: ['test/setup/quiet-tfjs.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          expect: e2eExpect,
          include: ['test/e2e/**/*.test.ts'],
          exclude: ['test/e2e/prod/**'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        // The production bundle (`vite build`, served by `vite preview`): the
        // training, evaluation and file tests run again against it through
        // browser.ts's target switch, the plugin test against a production
        // bundle of the host page, plus the hosting tests in test/e2e/prod/.
        // (extends: the root test options, where there are any, apply here too.)
        extends: true,
        test: {
          name: 'e2e-prod',
          expect: e2eExpect,
          include: [
            'test/e2e/editor-train.test.ts',
            'test/e2e/editor-files.test.ts',
            'test/e2e/editor-plugin.test.ts',
            'test/e2e/prod/**/*.test.ts',
          ],
          env: { MAM_E2E_TARGET: 'prod', MAM_E2E_DIST: 'test-results/builds/app' },
          globalSetup: ['test/e2e/prod-build.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
