/**
 * Both engines read a data set's dataset.json `intensity_range` by one rule
 * (issue 13): `mam train` and `mam_torch.train` refuse the same malformed
 * range in one line naming the file and the missing keys, with exit 4 (bad
 * data), and write nothing; a range is applied under `--normalise auto` only
 * (another rule named on the command line wins), and run.json records it only
 * where it was applied. Expectations by hand (the fixture's voxels are uint8;
 * its range maps 0..200 onto 0..1, clipped).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { scaleIntensityRange } from '../../src/data/volume-crops.ts';
import { spawnMam } from '../helpers/mam-cli.ts';
import { smallNnformer } from '../helpers/torch-3d-graphs.ts';
import { tinyGraph } from '../helpers/tiny-graph.ts';
import { runPython, spawnTrain, suiteTempDir } from '../helpers/torch-runtime.ts';
import { describeOracle, repoRoot } from './data-oracle.ts';

const RANGE = { a_min: 0, a_max: 200, b_min: 0, b_max: 1, clip: true };
const FLAT = { a_min: 5, a_max: 5, b_min: 1, b_max: 2, clip: true };
const FLAT_TS = { aMin: 5, aMax: 5, bMin: 1, bMax: 2, clip: true };
const lastLine = (s: string) => s.trim().split('\n').pop() ?? '';

describeOracle("dataset.json's intensity_range in mam train and mam_torch", () => {
  const dir = suiteTempDir('mam-parity-range-');
  let graph = '';
  let graph2d = '';
  let folder = '';
  const withRange = (range: unknown) =>
    writeFileSync(
      join(folder, 'dataset.json'),
      JSON.stringify({
        labels: { 0: 'background', 1: 'organ1', 2: 'organ2' },
        intensity_range: range,
      }),
    );
  beforeAll(async () => {
    graph = join(dir(), 'tiny.json');
    writeFileSync(graph, JSON.stringify(smallNnformer(32, 8, 1, true)));
    graph2d = join(dir(), 'tiny2d.json');
    writeFileSync(graph2d, JSON.stringify(tinyGraph()));
    const r = await runPython([
      join(repoRoot, 'test', 'python', 'torch_volume_fixture.py'),
      join(dir(), 'fx'),
    ]);
    expect(r.stderr + r.code).toMatch(/0$/);
    folder = join(dir(), 'fx', 'folder');
  });

  it('a range without b_max is refused by both engines alike, whatever --normalise says, for a 3D or a 2D graph', async () => {
    withRange({ a_min: 0, a_max: 200, b_min: 0 });
    const why =
      "dataset.json: intensity_range has no number for b_max (needs numbers a_min, a_max, b_min, b_max, as MONAI's ScaleIntensityRanged)";
    for (const [g, normalise] of [
      [graph, 'auto'],
      [graph, 'none'],
      [graph2d, 'auto'],
    ]) {
      const tag = `${normalise}-${g === graph ? '3d' : '2d'}`;
      // the same command line for both engines
      const args = (out: string) => [
        g,
        '--data',
        folder,
        '--steps',
        '1',
        '--normalise',
        normalise,
        '--out',
        join(dir(), out),
      ];
      const ts = await spawnMam(['train', ...args(`ts-${tag}`)], dir());
      const py = await spawnTrain(1, args(`py-${tag}`));
      expect([ts.code, py.code]).toEqual([4, 4]);
      expect(lastLine(ts.stderr)).toBe(`mam train: ${why}`);
      expect(lastLine(py.stderr)).toBe(`mam_torch.train: ${join(folder, why)}`);
      // nothing written: the run folders were never made
      expect([existsSync(join(dir(), `ts-${tag}`)), existsSync(join(dir(), `py-${tag}`))]).toEqual([
        false,
        false,
      ]);
    }
  }, 600_000);

  it("mam_torch scales volumes and slices by the range under 'auto' only, and records it only there", async () => {
    withRange(RANGE);
    const r = await runPython([
      '-c',
      `
import json, sys
from pathlib import Path
import numpy as np
from mam_torch.data import case_slices, load_data, scale_intensity
from mam_torch.volumes import volume_of
FLAT = json.loads(sys.argv[2])
root = Path(sys.argv[1])
case = load_data(str(root), 0).train[0]
raw = case.channels[0].astype(np.float64)
out = {"range": case.intensity}
# a_min = a_max: MONAI's shift x − a_min + b_min, then the clip
out["flat"] = scale_intensity(np.array([3.0, 5.0, 5.5, 9.0]), FLAT).tolist()
for mode in ("auto", "none", "uint8"):
    want = {"auto": np.minimum(raw / 200, 1), "none": raw, "uint8": raw / 255}[mode]
    slices = np.stack([img[..., 0] for img, _ in case_slices(case, mode)])  # 2D graphs: the same rule
    out[mode] = max(float(np.abs(volume_of(case, mode)[0].astype(np.float64) - want).max()),
                    float(np.abs(slices.astype(np.float64) - want).max()))
print(json.dumps(out))
`,
      folder,
      JSON.stringify(FLAT),
    ]);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.range).toEqual(RANGE);
    // by hand: 3 − 5 + 1 = −1 → 1, 1, 1.5, 5 → 2; mam train's scaling says the same
    expect(out.flat).toEqual([1, 1, 1.5, 2]);
    expect(Array.from(scaleIntensityRange([3, 5, 5.5, 9], FLAT_TS))).toEqual([1, 1, 1.5, 2]);
    expect(out.auto).toBeLessThan(1e-7);
    expect(out.none).toBe(0);
    expect(out.uint8).toBeLessThan(1e-7);

    const run = async (normalise: string) => {
      const out = join(dir(), `py-run-${normalise}`);
      const t = await spawnTrain(1, [
        graph,
        '--data',
        folder,
        '--steps',
        '1',
        '--batch',
        '1',
        '--val-every',
        '0',
        '--normalise',
        normalise,
        '--out',
        out,
      ]);
      expect(t.stderr + t.code).toMatch(/0$/);
      return JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).data;
    };
    const none = await run('none');
    expect(none.normalisation).toBe('none');
    expect(none.intensityRange).toBeUndefined();
    const auto = await run('auto');
    expect(auto.normalisation).toBe('auto');
    expect(auto.intensityRange).toEqual(RANGE);
  }, 600_000);
});
