/**
 * The package as its users meet it: `npm start` serves without trying to open a
 * browser, `import 'mam-studio'` resolves through package.json's exports, and
 * the `mam` command's output is free of tfjs's Node banner.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { writeNpy } from '../../src/compile/io/npy.ts';
import { saveGraph } from '../../src/graph/save.ts';
import { tinyGraph } from '../helpers/tiny-graph.ts';
import { repoRoot } from './data-oracle.ts';

const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  exports: Record<string, string>;
};

describe('package', () => {
  it('every path in exports exists, and the root entry imports by the package name', () => {
    for (const [entry, file] of Object.entries(pkg.exports)) {
      expect(existsSync(path.join(repoRoot, file)), `${entry} → ${file}`).toBe(true);
    }
    // Self-reference through `exports`, as a consumer's import resolves it.
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        "const m = await import('mam-studio'); console.log([typeof m.loadGraph, typeof m.analyzeGraph, m.nodeKinds.length > 0].join(' '))",
      ],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    expect(out.trim()).toBe('function function true');
  });

  it('npm start serves the editor without launching a browser', async () => {
    // A stand-in xdg-open (and open, for macOS-style lookups) first on PATH records any call.
    const bin = mkdtempSync(path.join(tmpdir(), 'mam-fakebin-'));
    const calls = path.join(bin, 'calls.log');
    for (const name of ['xdg-open', 'open']) {
      writeFileSync(path.join(bin, name), `#!/bin/sh\necho "$0 $@" >> '${calls}'\n`);
      chmodSync(path.join(bin, name), 0o755);
    }
    const [cmd, ...args] = pkg.scripts.start.split(' ');
    const child = spawn(
      path.join(repoRoot, 'node_modules', '.bin', cmd),
      [...args, '--port', '0'],
      {
        cwd: repoRoot,
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, BROWSER: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    const ready = new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer) => {
        output += d.toString();
        // vite prints its address in colour where CI=true or a terminal asks for it.
        if (/Local:\s+http/.test(stripVTControlCharacters(output))) resolve();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('exit', (code) => reject(new Error(`npm start exited ${code}: ${output}`)));
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      await ready;
      // vite calls open() inside listen(), before it prints its address. A round
      // trip through the server's event loop lets that call reach its spawn. A
      // plain file is asked for: the page itself can wait minutes for the
      // dependency optimizer on a fresh clone of a busy machine.
      const url = /Local:\s+(http\S+)/.exec(stripVTControlCharacters(output))![1];
      expect((await fetch(new URL('presets/demo-mam.json', url))).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    await exited;
    expect(existsSync(calls) ? readFileSync(calls, 'utf8') : '').toBe('');
    expect(output).not.toMatch(/ENOENT|xdg-open/);
  });

  it("the mam command's output has no tfjs banner", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mam-quiet-'));
    writeFileSync(path.join(dir, 'g.json'), saveGraph(tinyGraph()));
    writeFileSync(path.join(dir, 'x.npy'), writeNpy(new Float32Array(16 * 16), [1, 16, 16, 1]));
    const result = spawnSync(
      process.execPath,
      [
        path.join(repoRoot, 'bin', 'mam.js'),
        'run',
        'g.json',
        '--input',
        'x.npy',
        '--output',
        'y.npy',
        '--backend',
        'cpu',
      ],
      { cwd: dir, encoding: 'utf8' },
    );
    expect(result.status, result.stderr).toBe(0);
    expect(existsSync(path.join(dir, 'y.npy'))).toBe(true);
    expect(result.stdout + result.stderr).not.toContain(
      'looks like you are running TensorFlow.js in Node.js',
    );
  });
});
