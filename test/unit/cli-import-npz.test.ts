/**
 * `mam import <DA-TransUNet graph> R50+ViT-B_16.npz --npz`: a synthetic npz
 * with the JAX release's real key names and shapes (test/python/r50_vit_npz_fixture.py,
 * numpy) maps as DA-TRANSUNET-MAM-SPEC.md §f says: 353 tensors matched, cls /
 * head / pre_logits ignored, and every mapped tensor's sampled values equal
 * the fixture's own numpy mapping (HWIO → OIHW, q/k/v/out reshape + transpose,
 * Dense transposes, GN flatten, the 197 → 196 class-token drop). The zoom for
 * another grid equals scipy.ndimage.zoom(order=1). Skipped without .venv.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readNpy } from '../../src/compile/io/npy.ts';
import { readSafetensors, toFloat32 } from '../../src/compile/io/safetensors.ts';
import { positionTable } from '../../src/compile/npz-r50-vit.ts';
import { parseNpz } from '../../src/data/npy.ts';
import { repoRoot, spawnMam } from '../helpers/mam-cli.ts';
import { relErr } from '../reference/math.ts';
import { describeOracle, venvPython as PY } from './data-oracle.ts';

describeOracle('mam import --npz (R50+ViT-B_16)', () => {
  let dir = '';
  const npzPath = () => join(dir, 'R50+ViT-B_16.npz');

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mam-npz-'));
    execFileSync(PY, ['test/python/r50_vit_npz_fixture.py', dir], { stdio: 'pipe' });
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('maps all 353 tensors onto da-transunet-mam, reports the ignored entries, and the values follow spec §f', async () => {
    const out = join(dir, 'w.safetensors');
    const r = await spawnMam(
      ['import', 'presets/da-transunet-mam.json', npzPath(), '--npz', '--out', out, '--json'],
      repoRoot,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.matched).toHaveLength(353);
    expect(report.unexpected).toEqual([]);
    expect(report.wrongShape).toEqual([]);
    expect([...report.npzIgnored].sort()).toEqual([
      'cls',
      'head/bias',
      'head/kernel',
      'pre_logits/bias',
      'pre_logits/kernel',
    ]);
    expect(report.npzUnknown).toEqual([]);
    // not in the npz: the DA heads, the decoder, the head and the BN running statistics
    expect(report.missing).toContain('transformer.embeddings.DAblock1.sa.gamma');
    expect(report.missing).toContain('segmentation_head.0.weight');
    expect(report.missing.some((k: string) => k.startsWith('transformer.encoder.layer'))).toBe(
      false,
    );

    const probes: Record<string, [number, number][]> = JSON.parse(
      readFileSync(join(dir, 'probes.json'), 'utf8'),
    );
    const shapes: Record<string, number[]> = JSON.parse(
      readFileSync(join(dir, 'shapes.json'), 'utf8'),
    );
    expect(Object.keys(probes)).toHaveLength(353);
    const ckpt = readSafetensors(new Uint8Array(readFileSync(out)));
    for (const [key, samples] of Object.entries(probes)) {
      const t = ckpt.tensors.get(key);
      expect(t, key).toBeDefined();
      expect(t!.shape, key).toEqual(shapes[key]);
      const v = toFloat32(t!);
      for (const [i, want] of samples) expect(v[i], `${key}[${i}]`).toBeCloseTo(want, 6);
    }
  });

  it('without --npz an .npz is refused in one line that says to pass --npz', async () => {
    const r = await spawnMam(
      ['import', 'presets/da-transunet.json', npzPath(), '--out', join(dir, 'x.safetensors')],
      repoRoot,
    );
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('needs --npz');
  });

  it('a 14×14 table resampled to 16×16 equals scipy.ndimage.zoom(order=1)', () => {
    const arrays = parseNpz(new Uint8Array(readFileSync(npzPath())));
    expect(arrays.ok).toBe(true);
    if (!arrays.ok) return;
    const t = positionTable(arrays.value['Transformer/posembed_input/pos_embedding'], 256);
    expect(t.shape).toEqual([1, 256, 768]);
    const want = readNpy(new Uint8Array(readFileSync(join(dir, 'pos_zoom16.npy'))));
    expect(relErr(toFloat32(t), want.data as Float32Array)).toBeLessThanOrEqual(1e-6);
  });
});
