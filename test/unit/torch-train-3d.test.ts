/**
 * Training 3D graphs with the torch runtime (CPU, gloo):
 * - volume samples are the reference's: intensity range scaling as MONAI's
 *   ScaleIntensityRange, crops voxel for voxel as SpatialPadd +
 *   RandCropByPosNegLabeld(pos 1, neg 1) with the same random state;
 * - `torchrun --nproc_per_node=2` on a tiny nnFormer-MAM (32³) and a NIfTI
 *   folder takes the same 2 steps as one process with the same global batch;
 *   validation by sliding window over whole volumes; the run folder says how;
 * - `--data demo3d` reads the demo sets' layout (data/demo3d) and its
 *   intensity range, and says clearly when the set is not there.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readSafetensors, toFloat32 } from '../../src/compile/io/safetensors.ts';
import { TEST_CLASSES, smallNnformer } from '../helpers/torch-3d-graphs.ts';
import { runPython, spawnTrain, trainedSchedule } from '../helpers/torch-runtime.ts';
import { describeOracle, repoRoot } from './data-oracle.ts';

const CLASSES = TEST_CLASSES;
/** nnFormer-MAM at 32³: grids 16×8×8 (window 4, shifted), 8×4×4, 4×2×2, 2×1×1 (clamped). */
const tinyGraph = () => smallNnformer(32, 8, 1, true);

const weights = (f: string) => readSafetensors(new Uint8Array(readFileSync(f))).tensors;

describeOracle('torch runtime: training on volumes', () => {
  let dir = '';
  let graph = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mam-torch-train3d-'));
    graph = join(dir, 'tiny.json');
    writeFileSync(graph, JSON.stringify(tinyGraph()));
    const r = await runPython([
      join(repoRoot, 'test', 'python', 'torch_volume_fixture.py'),
      join(dir, 'fx'),
    ]);
    expect(r.stderr + r.code).toMatch(/0$/);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('scales and crops volumes as MONAI does (ScaleIntensityRange, SpatialPadd + RandCropByPosNegLabeld)', async () => {
    const r = await runPython([join(repoRoot, 'test', 'python', 'torch_volume_crops.py')]);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.crops).toBe(80);
    expect(out.cropMismatches).toBe(0);
    expect(out.scaleMaxDiff).toBe(0);
    // pos 1 : neg 1 — about half the crops are centred on foreground
    expect(out.positive).toBeGreaterThan(0.25);
    expect(out.positive).toBeLessThan(0.75);
  });

  it("the loss on volumes is MONAI's DiceCELoss (Dice per sample), value and gradient, in float64", async () => {
    const r = await runPython([
      '-c',
      `
import json
import numpy as np, torch
from monai.losses import DiceCELoss
from mam_torch.loss import dice_ce_loss
from mam_torch.train import distributed_loss
rng = np.random.default_rng(5)
# two samples whose classes differ, so pooling the batch would give another Dice
z = rng.normal(size=(2, 3, 4, 5, 6)) * 2
y = rng.integers(0, 3, size=(2, 4, 5, 6))
y[1][y[1] == 2] = 0
zt = torch.from_numpy(z).requires_grad_(True)
ref = DiceCELoss(to_onehot_y=True, softmax=True)(zt, torch.from_numpy(y)[:, None].double())
ref.backward()
g_ref = zt.grad.clone()
zt.grad = None
ours = dice_ce_loss(zt, torch.from_numpy(y))[0]
ours.backward()
dist = distributed_loss(torch.from_numpy(z), torch.from_numpy(y), 1, (1, 1), per_sample=True)[1]
print(json.dumps([ref.item(), ours.item(), (zt.grad - g_ref).abs().max().item(), g_ref.abs().max().item(), dist]))
`,
    ]);
    expect(r.stderr).toBe('');
    const [ref, ours, gradDiff, gradMax, dist] = JSON.parse(r.stdout) as number[];
    expect(Math.abs(ours - ref)).toBeLessThan(1e-6);
    expect(gradDiff).toBeLessThan(1e-6 * gradMax);
    expect(Math.abs(dist - ref)).toBeLessThan(1e-6); // the training loop's loss, in float32
  });

  it('2 DDP processes take the same 2 steps as 1 process with the same global batch', async () => {
    const common = [
      graph,
      ...['--data', join(dir, 'fx', 'folder'), '--steps', '2', '--batch', '2'],
      ...['--optimizer', 'sgd', '--lr', '0.5'],
    ];
    const one = await spawnTrain(1, [...common, '--out', join(dir, 'one')]);
    expect(one.stderr + one.code).toMatch(/0$/);
    const two = await spawnTrain(2, [...common, '--out', join(dir, 'two')]);
    expect(two.code, two.stderr).toBe(0);
    const init = await spawnTrain(1, [...common, '--lr', '0', '--out', join(dir, 'init')]);
    expect(init.code, init.stderr).toBe(0);
    const [a, b, w0] = ['one', 'two', 'init'].map((r) =>
      weights(join(dir, r, 'checkpoint', 'weights.safetensors')),
    );
    let diff = 0;
    let change = 0;
    for (const [key, t] of a) {
      const [x, y, x0] = [t, b.get(key)!, w0.get(key)!].map(toFloat32);
      for (let i = 0; i < x.length; i++) {
        diff = Math.max(diff, Math.abs(x[i] - y[i]));
        change = Math.max(change, Math.abs(x[i] - x0[i]));
      }
    }
    console.info(
      `torch-train-3d: DDP vs one process after 2 steps: max |Δw| ${diff.toExponential(2)}, ${(diff / change).toExponential(2)} of the largest change`,
    );
    expect(change).toBeGreaterThan(1e-3);
    expect(diff / change).toBeLessThan(1e-5);
    const run = JSON.parse(readFileSync(join(dir, 'two', 'run.json'), 'utf8'));
    expect(run.data.trainVolumes).toBe(2);
    expect(run.data.intensityRange).toEqual({
      a_min: 0,
      a_max: 200,
      b_min: 0,
      b_max: 1,
      clip: true,
    });
    expect(run.data.resize).toMatchObject({ rule: 'crop', input: [32, 32, 32] });
    // a 3D graph that names no augmentation gets the reference's (3D-MAM-SPEC.md §f), drawn per crop
    // and the reference's sliding windows: validation overlap 0.25 × 2 per pass, test 0.5 × 4
    expect(run.settings.validationWindow).toEqual({ overlap: 0.25, batchSize: 2 });
    expect(run.settings.testWindow).toEqual({ overlap: 0.5, batchSize: 4 });
    expect(run.data.resize.validation).toBe('sliding window, overlap 0.25, sw_batch 2, constant');
    expect(run.settings.augment).toBe(true);
    expect(run.settings.volumeAugment).toEqual([
      { kind: 'shift-intensity', offsets: 0.1, prob: 0.5 },
      { kind: 'affine', prob: 1, rotateRange: [0, 0, Math.PI / 30], scaleRange: [0.1, 0.1, 0.1] },
    ]);
    expect(one.stderr).toMatch(
      /augmentation of volumes: random crops, then RandShiftIntensity \(±0\.1, p 0\.5\), RandAffine \(p 1, rotation ±0\/0\/0\.1047, scale ±0\.1\/0\.1\/0\.1\)/,
    );
    expect(one.stderr).toMatch(/2 volumes \(random 32×32×32 crops, pos 1 : neg 1\)/);
    expect(one.stderr).toMatch(/loss 1·CE \+ 1·Dice \(DiceCE, Dice per volume\)/);
    expect(one.stdout + one.stderr).toMatch(/validation at step 2: mean Dice/);
    // the global batch is 2 crops of ONE volume a step, split over the ranks; an epoch (2 steps) takes
    // each of the 2 training volumes once, the same volume at each step in 1 and 2 processes
    expect(run.data.sampling).toMatchObject({
      volumesPerStep: 1,
      cropsPerVolume: 2,
      stepsPerEpoch: 2,
    });
    const drawn = (r: string) =>
      (
        JSON.parse(readFileSync(join(dir, r, 'checkpoint', 'state.json'), 'utf8')).history as {
          volume: string;
          crops: number;
        }[]
      ).map((h) => [h.volume, h.crops]);
    expect(drawn('one').map(([, crops]) => crops)).toEqual([2, 2]);
    expect(
      drawn('one')
        .map(([v]) => v)
        .sort(),
    ).toEqual([...run.data.split.train].sort());
    expect(drawn('two')).toEqual(drawn('one'));
    const history = readFileSync(join(dir, 'two', 'history.csv'), 'utf8')
      .trim()
      .split('\n');
    expect(history).toHaveLength(3);
  }, 600_000);

  it("the learning rate stays constant over a 3D graph's steps (the reference has no scheduler), as `mam train`", async () => {
    const r = await trainedSchedule(
      [
        graph,
        ...['--data', join(dir, 'fx', 'folder'), '--steps', '3', '--batch', '1'],
        ...['--optimizer', 'adamw', '--lr', '0.0001'],
      ],
      join(dir, 'constant-lr'),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/adamw lr 0\.0001, constant schedule/);
    expect(r.schedule).toBe('constant');
    expect(r.lrs).toEqual([1e-4, 1e-4, 1e-4]);
  }, 600_000);

  it('--init-weights takes a SAM state dict with the reference index buffers into the MAM graph, reporting what it skips', async () => {
    const sam = join(dir, 'sam.json');
    writeFileSync(sam, JSON.stringify(smallNnformer(32, 8, 1, false)));
    const file = join(dir, 'sam.safetensors');
    const w = await runPython([
      '-c',
      `
import sys, torch
from safetensors.torch import save_file
from mam_torch import GraphModule, load_graph
m = GraphModule(load_graph(sys.argv[1]), seed=3)
state = {k: v.contiguous() for k, v in m.state_dict().items()}
# a reference state dict also holds every block's index buffer (3D-MAM-SPEC §d)
state.update({k: v.contiguous() for k, v in m.named_buffers() if k.endswith("relative_position_index")})
save_file(state, sys.argv[2])
print(sum(k.endswith("relative_position_index") for k in state))
`,
      sam,
      file,
    ]);
    expect(w.stderr).toBe('');
    expect(Number(w.stdout)).toBe(14);
    const r = await spawnTrain(1, [
      graph,
      ...['--data', join(dir, 'fx', 'folder'), '--steps', '1', '--batch', '2'],
      ...[
        '--optimizer',
        'sgd',
        '--lr',
        '0',
        '--init-weights',
        file,
        '--out',
        join(dir, 'sam-init'),
      ],
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/--init-weights: 232 tensors matched by name/);
    expect(
      r.stderr.match(/--init-weights: skipped: \S+relative_position_index \(index buffer/g),
    ).toHaveLength(14);
    expect(r.stderr).not.toMatch(/missing:|unexpected:|wrong shape:/);
    const [got, want] = [join(dir, 'sam-init', 'checkpoint', 'weights.safetensors'), file].map(
      weights,
    );
    for (const [key, t] of got) expect(toFloat32(t), key).toEqual(toFloat32(want.get(key)!));
  }, 300_000);

  it('an interrupted run resumes to the weights of the uninterrupted one; 2D slices are refused in one line', async () => {
    const common = [
      graph,
      // 8 steps: the SIGINT after step 1's checkpoint lands well before the end, even under load
      ...['--data', join(dir, 'fx', 'folder'), '--steps', '8', '--batch', '2'],
      ...['--optimizer', 'sgd', '--lr', '0.5', '--checkpoint-every', '1', '--val-every', '0'],
    ];
    const whole = await spawnTrain(1, [...common, '--out', join(dir, 'whole')]);
    expect(whole.code, whole.stderr).toBe(0);
    let sent = false;
    const cut = await spawnTrain(1, [...common, '--out', join(dir, 'cut')], (line, child) => {
      if (!sent && /^checkpoint: step 1 saved/.test(line)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    expect(cut.code, cut.stderr).toBe(130);
    const resumed = await spawnTrain(1, [...common, '--out', join(dir, 'cut'), '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming .* at step [1-7] of 8/);
    const [a, b] = ['whole', 'cut'].map((r) =>
      weights(join(dir, r, 'checkpoint', 'weights.safetensors')),
    );
    for (const [key, t] of a) expect(toFloat32(b.get(key)!), key).toEqual(toFloat32(t));

    // a NIfTI folder of single slices is not volumes: one line naming the flag and the file
    const flat = join(dir, 'flat');
    const w = await runPython([
      '-c',
      `
import sys, numpy as np, nibabel as nib
from pathlib import Path
root = Path(sys.argv[1])
for d in ("imagesTr", "labelsTr"):
    (root / d).mkdir(parents=True)
for i in range(2):
    nib.save(nib.Nifti1Image(np.full((40, 36, 1), 50, np.uint8), np.eye(4)), str(root / "imagesTr" / f"s{i}_0000.nii.gz"))
    nib.save(nib.Nifti1Image(np.ones((40, 36, 1), np.uint8), np.eye(4)), str(root / "labelsTr" / f"s{i}.nii.gz"))
`,
      flat,
    ]);
    expect(w.stderr).toBe('');
    const r = await spawnTrain(1, [
      graph,
      '--data',
      flat,
      '--steps',
      '1',
      '--out',
      join(dir, 'flat-run'),
    ]);
    expect(r.code).toBe(4);
    expect(r.stderr.trim().split('\n').pop()).toMatch(
      /^mam_torch\.train: --data \S+flat: \S+s0_0000\.nii\.gz is one slice \(36×40\) but tiny\.json takes volumes \(32×32×32\): give it NIfTI volumes$/,
    );
  }, 600_000);

  it('--data demo3d reads the demo layout and its intensity range, or says the set is missing', async () => {
    const r = await runPython(
      [
        '-c',
        `
import json, os, sys
from pathlib import Path
from mam_torch import data
from mam_torch.volumes import intensity_range
ds = data.load_data("demo3d", 0)
out = {"source": ds.source, "classes": ds.class_names, "sizes": [len(ds.train), len(ds.val), len(ds.test)],
       "shape": list(ds.train[0].channels[0].shape), "range": intensity_range(data.data_root("demo3d"))}
os.environ.pop("MAM_STUDIO_DEMO3D")
data.__file__ = "/nowhere/python/mam_torch/data.py"  # no repository beside it
os.chdir(sys.argv[1])
try:
    data.load_data("demo3d", 0)
except data.DataError as e:
    out["missing"] = [str(e), e.code]
print(json.dumps(out))
`,
        dir,
      ],
      {
        env: {
          ...process.env,
          PYTHONPATH: join(repoRoot, 'python'),
          MAM_STUDIO_DEMO3D: join(dir, 'fx', 'demo3d'),
        },
      },
    );
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.source).toBe('demo3d (data/demo3d)');
    expect(out.classes).toEqual(CLASSES);
    expect(out.sizes).toEqual([1, 1, 1]);
    expect(out.shape).toEqual([30, 36, 40]); // (D, H, W) = NIfTI (k, j, i)
    expect(out.range).toMatchObject({ a_min: 0, a_max: 200 });
    expect(out.missing[1]).toBe(2);
    expect(out.missing[0]).toMatch(
      /^--data demo3d: the 3D demo set \(written by scripts\/make-demo3d-data\.py\) \(data\/demo3d of the mam-studio repository\) was not found; .*MAM_STUDIO_DEMO3D/,
    );
  });
});
