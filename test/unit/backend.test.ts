import * as tf from '#tfjs';
import { describe, expect, it } from 'vitest';
import {
  BACKEND_NAMES,
  describeAdapter,
  initBackend,
  isSoftwareAdapter,
  type BackendPreference,
} from '../../src/backend/index.ts';
import { maxMatMulError } from '../helpers/matmul-reference.ts';

describe('initBackend', () => {
  for (const name of ['cpu', 'wasm', 'webgpu'] as const) {
    it(`runs matMul on ${name} equal to a float64 loop`, async () => {
      const started = performance.now();
      const info = await initBackend(name);
      expect(info.fallbackFrom, info.message).toBeUndefined();
      expect(info.name).toBe(name);
      expect(tf.getBackend()).toBe(name);
      expect(info.adapterInfo).not.toBe('');
      expect(await maxMatMulError()).toBeLessThanOrEqual(1e-5);
      console.log(`${name}: ${info.message} [${(performance.now() - started).toFixed(0)} ms]`);
    });
  }

  it('answers an unknown backend name with a message and a fallback', async () => {
    const info = await initBackend('tpu' as BackendPreference);
    expect(info.fallbackFrom).toBe('tpu');
    expect(info.message).toMatch(/Unknown backend "tpu"/);
    expect(BACKEND_NAMES).toContain(info.name);
    expect(tf.getBackend()).toBe(info.name);
    expect(await maxMatMulError()).toBeLessThanOrEqual(1e-5);
  });

  it('falls back from webgl in Node, where there is no WebGL', async () => {
    const info = await initBackend('webgl');
    expect(info.fallbackFrom).toBe('webgl');
    expect(info.message).toMatch(/webgl could not start: WebGL exists only in a browser/);
    expect(info.name).not.toBe('webgl');
  });

  it('auto prefers a hardware GPU and otherwise runs on wasm', async () => {
    const info = await initBackend('auto');
    expect(info.fallbackFrom).toBeUndefined();
    if (info.name === 'webgpu') expect(info.isSoftware).toBe(false);
    else expect(info.name).toBe('wasm');
  });
});

describe('software adapters', () => {
  it('recognises SwiftShader and llvmpipe but not a real GPU', () => {
    expect(isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader' })).toBe(true);
    expect(isSoftwareAdapter({ description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'ada' })).toBe(false);
    expect(isSoftwareAdapter({ vendor: 'x', isFallbackAdapter: true })).toBe(true);
  });

  it('describes an adapter in words', () => {
    const info = { vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader' };
    expect(describeAdapter(info)).toBe('google swiftshader (SwiftShader)');
    expect(describeAdapter({})).toBe('unnamed adapter');
  });
});
