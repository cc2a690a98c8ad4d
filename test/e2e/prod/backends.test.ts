// The production training worker starts every backend the dev server's does:
// WebGPU (SwiftShader's software adapter here, a real GPU elsewhere) and
// threaded wasm, chosen in the Train panel. Training itself on each is
// covered by editor-train.test.ts (wasm) in this project.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrowser, type BrowserSession } from '../browser.ts';
import { freshEditor } from '../editor-helpers.ts';

describe('backends in the production bundle', () => {
  let session: BrowserSession;

  beforeAll(async () => {
    session = await openBrowser('/');
  });
  afterAll(async () => {
    await session?.close();
  });

  it('starts WebGPU and then wasm in the training worker, without errors', async () => {
    const { page, baseUrl } = session;
    await freshEditor(page, baseUrl);
    const byId = (id: string) => page.locator('mam-train-panel').getByTestId(id);
    await page.getByTestId('train-toggle').click();
    await expect
      .poll(() => byId('data-info').textContent(), { timeout: 90_000 })
      .toMatch(/92 training slices/);

    await byId('backend-select').selectOption('webgpu');
    await expect
      .poll(() => byId('backend-info').textContent(), { timeout: 90_000 })
      .toMatch(/^\s*WebGPU on \S/);
    await byId('backend-select').selectOption('wasm');
    await expect
      .poll(() => byId('backend-info').textContent(), { timeout: 60_000 })
      .toMatch(/^\s*wasm \(WebAssembly SIMD, \d+ threads?\)\s*$/);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(session.logs.filter((l) => /^\[(pageerror|error)\]/.test(l))).toEqual([]);
  });
});
