import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callInPage, openBrowser, type BrowserSession } from './browser.ts';
import type { MatMulRun } from './fixtures/backend-matmul.ts';

const FIXTURE = '/test/e2e/fixtures/backend-matmul.ts';

describe('smoke', () => {
  let session: BrowserSession;

  beforeAll(async () => {
    session = await openBrowser('/');
  });
  afterAll(async () => {
    await session?.close();
  });

  it('loads the editor page', async () => {
    const { page } = session;
    const name = page.locator('mam-app').getByText('mam-studio', { exact: true }).first();
    await expect.poll(() => name.isVisible()).toBe(true);
    expect(session.logs.filter((l) => l.startsWith('[pageerror]'))).toEqual([]);
    await session.screenshot();
  });

  it('runs tfjs matMul on WebGPU in the page', async () => {
    const run = await inPage('webgpu');
    expectRanOn(run, 'webgpu');
  });

  it('runs tfjs matMul on WebGL in the page', async () => {
    const run = await inPage('webgl');
    expectRanOn(run, 'webgl');
  });

  it('runs tfjs matMul on wasm in the page, its binaries served by vite', async () => {
    const run = await inPage('wasm');
    expectRanOn(run, 'wasm');
    // vite's COOP/COEP headers make the page cross-origin isolated, so wasm may use threads.
    expect(run.crossOriginIsolated).toBe(true);
    expect(run.wasmThreads).toBe(true);
  });

  it('auto takes a hardware GPU, or wasm where WebGPU and WebGL are software', async () => {
    const run = await inPage('auto');
    console.log(`browser auto: ${run.info.message}`);
    expect(run.maxError).toBeLessThanOrEqual(1e-5);
    if (run.info.name === 'wasm')
      expect(run.info.message).toMatch(/software GPU|no adapter|no WebGPU/);
    else expect(run.info.isSoftware).toBe(false);
  });

  function expectRanOn(run: MatMulRun, name: string): void {
    console.log(`browser ${name}: ${run.info.message} [${run.ms.toFixed(0)} ms]`);
    const why = `${run.info.message}\n${session.logs.join('\n')}`;
    expect(run.info.fallbackFrom, why).toBeUndefined();
    expect(run.active).toBe(name);
    expect(run.maxError).toBeLessThanOrEqual(1e-5);
  }

  function inPage(pref: string): Promise<MatMulRun> {
    return callInPage<MatMulRun>(session.page, FIXTURE, 'runMatMul', pref);
  }
});
