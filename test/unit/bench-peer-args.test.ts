import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parsePeerArgs } from '../../bench/peer.ts';
import { parseSamRatioArgs } from '../../bench/samratio-browser.ts';

describe('bench peer: command line', () => {
  it('takes --rounds and --steps with a space as with "="', () => {
    const spaced = parsePeerArgs(['peer', '--rounds', '8', '--steps', '5', '--against', '/tmp/x']);
    expect(spaced).toMatchObject({ rounds: 8, steps: 5, against: '/tmp/x', quick: false });
    const joined = parsePeerArgs(['peer', '--rounds=8', '--steps=5', '--against=/tmp/x']);
    expect(joined).toEqual(spaced);
  });

  it('keeps the defaults (3 steps, 2 rounds; --quick 2 and 1)', () => {
    expect(parsePeerArgs(['peer'])).toMatchObject({
      steps: 3,
      rounds: 2,
      only: undefined,
      preset: 'demo',
    });
    expect(parsePeerArgs(['peer', '--quick', '--only=threads,demo'])).toMatchObject({
      steps: 2,
      rounds: 1,
      only: ['threads', 'demo'],
    });
  });

  it('takes --warmup (undefined by default: each preset its own)', () => {
    expect(parsePeerArgs(['peer']).warmup).toBeUndefined();
    expect(parsePeerArgs(['peer', '--warmup', '12']).warmup).toBe(12);
    expect(() => parsePeerArgs(['peer', '--warmup=0'])).toThrow(
      /--warmup takes a whole number ≥ 1, got "0"/,
    );
  });

  it('races the 224² preset against DIR with --preset=224 (demo by default)', () => {
    expect(parsePeerArgs(['peer', '--against=/tmp/x'])).toMatchObject({ preset: 'demo' });
    expect(parsePeerArgs(['peer', '--against=/tmp/x', '--preset', '224'])).toMatchObject({
      against: '/tmp/x',
      preset: '224',
    });
  });

  it('races MAM against SAM on the backends --backends names (wasm by default)', () => {
    expect(parsePeerArgs(['peer']).backends).toEqual(['wasm']);
    expect(parsePeerArgs(['peer', '--backends', 'wasm,cpu,webgpu']).backends).toEqual([
      'wasm',
      'cpu',
      'webgpu',
    ]);
  });

  it.each([
    [['--backends=wasm,webgl'], /--backends has no backend "webgl" \(backends: wasm,cpu,webgpu\)/],
    [['--against=/tmp/x', '--preset=512'], /--preset is demo or 224, got "512"/],
    [['--preset=224'], /--preset chooses what --against races; give --against=DIR/],
    [['--rounds', 'x'], /--rounds takes a whole number ≥ 1, got "x"/],
    [['--steps=0'], /--steps takes a whole number ≥ 1, got "0"/],
    [['--round=8'], /bench peer: .*--round.*usage: npm run bench -- peer/],
    [['--only=thread'], /--only has no part "thread"/],
    [['--rounds'], /bench peer: .*--rounds/],
  ])('refuses %j with one line naming the flag', (args, message) => {
    let error: Error | undefined;
    try {
      parsePeerArgs(['peer', ...args]);
    } catch (e) {
      error = e as Error;
    }
    expect(error?.name).toBe('BenchUsageError');
    expect(error?.message).toMatch(message);
    expect(error?.message).not.toContain('\n');
  });

  it('npm run bench prints that line and exits 64, before starting any peer', () => {
    const r = spawnSync('npx', ['tsx', 'bench/run.ts', 'peer', '--rounds', 'eight'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(64);
    expect(r.stderr.trim()).toBe('bench peer: --rounds takes a whole number ≥ 1, got "eight"');
    expect(r.stdout).not.toContain('peer: demo-mam');
  });
});

describe('bench samratio-browser: command line', () => {
  it('races on webgl and webgpu by default, 2 steps a round, 2 rounds', () => {
    expect(parseSamRatioArgs(['samratio-browser'])).toEqual({
      backends: ['webgl', 'webgpu'],
      steps: 2,
      rounds: 2,
    });
    expect(parseSamRatioArgs(['samratio-browser', '--backends', 'webgpu', '--rounds=4'])).toEqual({
      backends: ['webgpu'],
      steps: 2,
      rounds: 4,
    });
  });

  it.each([
    [
      ['--backends=wasm'],
      /^bench samratio-browser: --backends has no backend "wasm" \(backends: webgl,webgpu\)$/,
    ],
    [['--steps=two'], /^bench samratio-browser: --steps takes a whole number ≥ 1, got "two"$/],
    [['--quick'], /^bench samratio-browser: .*--quick.*; usage: npm run bench -- samratio-browser/],
  ])('refuses %j with one line naming the flag', (args, message) => {
    expect(() => parseSamRatioArgs(['samratio-browser', ...args])).toThrow(message);
  });
});
