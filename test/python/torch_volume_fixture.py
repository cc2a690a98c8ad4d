"""Small labelled volumes for the torch runtime's 3D training tests, written with nibabel.

usage: torch_volume_fixture.py DIR
  DIR/folder/   a Decathlon-style NIfTI folder: imagesTr/case_00i_0000.nii.gz, labelsTr/case_00i.nii.gz
                (3 cases, 40×36×30 voxels (x, y, z), uint8 T1-like values), dataset.json with the
                labels and an intensity_range (a_min 0, a_max 200, clip)
  DIR/demo3d/   the same subject in the demo sets' layout (dataset.json "files": image_train, …),
                as data/demo3d is written
Two ellipsoid "organs" (labels 1, 2) inside a bright "body" (> 0) on a dark background (0).
"""
import json
import sys
from pathlib import Path

import nibabel as nib
import numpy as np

CLASSES = ["background", "organ1", "organ2"]
RANGE = {"a_min": 0, "a_max": 200, "b_min": 0.0, "b_max": 1.0, "clip": True}


def case(seed, shape=(40, 36, 30)):
    rng = np.random.default_rng(seed)
    x, y, z = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    c = np.array(shape) / 2
    body = ((x - c[0]) / 16) ** 2 + ((y - c[1]) / 14) ** 2 + ((z - c[2]) / 12) ** 2 < 1
    lbl = np.zeros(shape, np.uint8)
    for k, (dx, r) in enumerate([(-6, 5), (6, 4)], start=1):
        off = rng.integers(-2, 3, 3)
        e = ((x - c[0] - dx - off[0]) / r) ** 2 + ((y - c[1] - off[1]) / r) ** 2 + ((z - c[2] - off[2]) / r) ** 2 < 1
        lbl[e & body] = k
    img = np.where(body, 90, 0) + 50 * (lbl == 1) + 100 * (lbl == 2) + rng.normal(0, 5, shape) * body
    return np.clip(img, 0, 255).astype(np.uint8), lbl


def save(a, path, spacing=(1.5, 1.5, 1.5)):
    nib.save(nib.Nifti1Image(a, np.diag([*spacing, 1.0])), str(path))


def main(out):
    root = Path(out) / "folder"
    (root / "imagesTr").mkdir(parents=True)
    (root / "labelsTr").mkdir()
    for i in range(3):
        img, lbl = case(i)
        save(img, root / "imagesTr" / f"case_{i:03d}_0000.nii.gz")
        save(lbl, root / "labelsTr" / f"case_{i:03d}.nii.gz")
    (root / "dataset.json").write_text(json.dumps({
        "labels": {str(i): n for i, n in enumerate(CLASSES)}, "intensity_range": RANGE}))
    demo = Path(out) / "demo3d"
    demo.mkdir()
    files = {}
    for split, seed in (("train", 10), ("val", 11), ("test", 12)):
        img, lbl = case(seed)
        save(img, demo / f"image_{split}.nii.gz")
        save(lbl, demo / f"label_{split}.nii.gz")
        files[f"image_{split}"], files[f"label_{split}"] = f"image_{split}.nii.gz", f"label_{split}.nii.gz"
    (demo / "dataset.json").write_text(json.dumps({
        "classes": CLASSES, "note": "a test fixture", "split_rule": "one case each", "files": files,
        "intensity_range": RANGE}))


if __name__ == "__main__":
    main(sys.argv[1])
