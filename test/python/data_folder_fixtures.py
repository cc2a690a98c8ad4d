"""A NIfTI data folder (images/ + labels/ + classes.json) written by nibabel, for the
editor's and the session's data-opening tests, with what an independent reader finds.

  make DIR [--classes N] [--mismatch ID] [--label ID=V]
      writes DIR/images/<id>.nii.gz (float32, a rotated sform, anisotropic voxels),
      DIR/labels/<id>.nii.gz (uint8) and DIR/classes.json, for ids case01..case03, and
      DIR/expected.json: per case its dims, zooms, affine and the label values numpy finds.
      --mismatch ID gives that case's label one voxel more along the first axis;
      --label ID=V puts label value V into one voxel of that case's label.
      --kinds 1 stores the three cases as the readers meet them less often: case01 as int16
      (uncompressed .nii) scaled by scl_slope 0.5 and scl_inter 3, case02 as one 2D uint8
      slice (image and label), case03 as float64.
"""
import json
import sys

import numpy as np
import nibabel as nib

CLASS_NAMES = ["background", "frontal", "limbic", "occipital", "parietal", "deep grey", "temporal", "cerebellum"]


def affine_for(k):
    t = 0.2 * (k + 1)
    r = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
    a = np.eye(4)
    a[:3, :3] = r @ np.diag([0.9, 1.1, 2.5])
    a[:3, 3] = [-20 + k, 10, 4 * k]
    return a


def store_kinds(d):
    """Rewrites the cases written by make() as other stored types (see --kinds)."""
    import os

    img = nib.load(f"{d}/images/case01.nii.gz")
    raw = np.round(np.asarray(img.dataobj)).astype(np.int16)
    out = nib.Nifti1Image(raw, img.affine)
    out.set_data_dtype(np.int16)
    nib.save(out, f"{d}/images/case01.nii")
    os.remove(f"{d}/images/case01.nii.gz")
    with open(f"{d}/images/case01.nii", "r+b") as f:  # scl_slope, scl_inter: bytes 112-119
        f.seek(112)
        f.write(np.array([0.5, 3.0], "<f4").tobytes())
    for name, kind in (("images", np.uint8), ("labels", np.uint8)):
        a = np.asarray(nib.load(f"{d}/{name}/case02.nii.gz").dataobj)[:, :, 1]
        nib.save(nib.Nifti1Image(np.clip(a, 0, 255).astype(kind), np.eye(4)), f"{d}/{name}/case02.nii.gz")
    img = nib.load(f"{d}/images/case03.nii.gz")
    nib.save(nib.Nifti1Image(np.asarray(img.dataobj, np.float64) / 3, img.affine), f"{d}/images/case03.nii.gz")


def make(d, n_classes, mismatch, extra):
    import os

    os.makedirs(f"{d}/images", exist_ok=True)
    os.makedirs(f"{d}/labels", exist_ok=True)
    rng = np.random.default_rng(11)
    expected = {}
    shape = (40, 36, 3)
    for k, cid in enumerate(["case01", "case02", "case03"]):
        a = affine_for(k)
        x, y = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
        image = np.zeros(shape, np.float32)
        label = np.zeros(shape, np.uint8)
        for z in range(shape[2]):
            r2 = (x - 20 - k) ** 2 + (y - 18 + z) ** 2
            label[:, :, z] = np.minimum((r2 < 60).astype(np.uint8) * (1 + (x // 8) % (n_classes - 1)), n_classes - 1)
            image[:, :, z] = 100 + 40 * label[:, :, z] + rng.normal(0, 5, shape[:2])
        if extra and extra.split("=")[0] == cid:
            label[3, 4, 1] = int(extra.split("=")[1])
        lshape = shape
        if mismatch == cid:
            lshape = (shape[0] + 1, shape[1], shape[2])
            label = np.concatenate([label, np.zeros((1, shape[1], shape[2]), np.uint8)], axis=0)
        img = nib.Nifti1Image(image, a)
        img.set_sform(a, code=1)
        nib.save(img, f"{d}/images/{cid}.nii.gz")
        lab = nib.Nifti1Image(label, a)
        lab.set_sform(a, code=1)
        nib.save(lab, f"{d}/labels/{cid}.nii.gz")
        back = nib.load(f"{d}/images/{cid}.nii.gz")
        expected[cid] = {
            "dims": list(back.shape),
            "labelDims": list(lshape),
            "zooms": [float(z) for z in back.header.get_zooms()[:3]],
            "affine": back.affine.tolist(),
            "labelValues": [int(v) for v in np.unique(nib.load(f"{d}/labels/{cid}.nii.gz").get_fdata())],
        }
    with open(f"{d}/classes.json", "w") as f:
        json.dump(CLASS_NAMES[:n_classes] if n_classes <= len(CLASS_NAMES) else [f"c{i}" for i in range(n_classes)], f)
    with open(f"{d}/expected.json", "w") as f:
        json.dump(expected, f)


if __name__ == "__main__":
    args = sys.argv[1:]
    if not args or args[0] != "make":
        sys.exit(__doc__)
    opts = {"--classes": "8", "--mismatch": None, "--label": None, "--kinds": None}
    i = 2
    while i < len(args):
        opts[args[i]] = args[i + 1]
        i += 2
    make(args[1], int(opts["--classes"]), opts["--mismatch"], opts["--label"])
    if opts["--kinds"]:
        store_kinds(args[1])
