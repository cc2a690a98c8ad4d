/**
 * `mam ablate` as a user meets it: a bad list item, a data set without a
 * test split, `--engine torch` with a Python that cannot run mam_torch and a
 * flag of the other engine are each one line naming the flag or folder, with
 * their exit codes, before anything is written.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/cli/errors.ts';
import { spawnMam } from '../helpers/mam-cli.ts';
import { niftiFolder } from '../helpers/nifti-folder.ts';
import { tinyGraph } from '../helpers/tiny-graph.ts';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'mam-ablate-cli-'));
  writeFileSync(path.join(dir, 'tiny.json'), JSON.stringify(tinyGraph()));
  niftiFolder(path.join(dir, 'good'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('bad input: one line naming the flag or folder, its own exit code, nothing written', async () => {
  const ablate = (...extra: string[]) =>
    spawnMam(['ablate', 'tiny.json', '--data', 'good', '--out', 'abl', ...extra], dir);
  const [badItem, torch, noTest, nproc, backend] = await Promise.all([
    ablate('--variants', 'sam,sts-foo'),
    ablate('--engine', 'torch', '--python', path.join(dir, 'no-python')),
    ablate('--variants', 'sam'),
    ablate('--nproc', '2'),
    ablate('--engine', 'torch', '--backend', 'cpu'),
  ]);
  expect(badItem.code).toBe(EXIT_CODES.usage);
  expect(badItem.stderr.trim()).toBe(
    "mam ablate: --variants: 'sts-foo' is not one of sam, ists-enc, ists-encdec, sts-enc, sts-encdec",
  );
  expect(torch.code).toBe(EXIT_CODES.usage);
  expect(torch.stderr.trim().split('\n')).toHaveLength(1);
  expect(torch.stderr).toMatch(
    new RegExp(`^mam ablate: --python ${path.join(dir, 'no-python')}: cannot import mam_torch`),
  );
  expect(nproc.code).toBe(EXIT_CODES.usage);
  expect(nproc.stderr.trim()).toBe('mam ablate: --nproc applies to --engine torch only');
  expect(backend.code).toBe(EXIT_CODES.usage);
  expect(backend.stderr.trim()).toBe('mam ablate: --backend applies to --engine local only');
  expect(noTest.code).toBe(EXIT_CODES.emptyData);
  expect(noTest.stderr).toMatch(/good has no test split/);
  expect(existsSync(path.join(dir, 'abl'))).toBe(false);
}, 300_000);
