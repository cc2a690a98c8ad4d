#!/usr/bin/env python3
"""Derive the embedded 3D demo set (data/demo3d/) from Debian's mricron-data package.

The same subject, atlas and classes as the 2D demo (scripts/make-demo-data.py, whose
grouping of the AAL regions this script imports): the ch2 (Colin27) T1 brain with the
AAL atlas grouped into 7 lobar classes + background, as whole volumes for the 3D
networks (SwinUNETR-MAM / nnFormer-MAM demo presets, 64^3 x 1 input).

Steps: resample ch2 and the grouped atlas onto a 1.5 mm isotropic grid in ch2's space
(scipy.ndimage.affine_transform: order 3 image, order 0 label; the new grid's affine is
exact); keep the box around the brain (atlas voxels) with a margin; split it in three
disjoint boxes: train is the left hemisphere (its x below the midline), val and test
are the right hemisphere cut at one z plane (the cut that leaves the most classes in
both), with GAP planes dropped at each cut so neighbouring voxels do not leak. Every
class is bilateral, so train holds all seven. Written as uint8 NIfTI with each box's
own affine (sform and qform code 2), and dataset.json.

Run: .venv/bin/python scripts/make-demo3d-data.py [--templates DIR] [--out data/demo3d]
Deterministic: the same templates give the same bytes.
"""
import argparse
import gzip
import importlib.util
import io
import json
import os

import nibabel as nib
import numpy as np
from scipy import ndimage

HERE = os.path.dirname(os.path.abspath(__file__))
SPACING = 1.5  # mm, isotropic
MARGIN = 4  # voxels kept around the brain's box
GAP = 2  # voxels dropped on each side of a cut
MIN_SIDE = 24  # a held-out box keeps at least this many z planes


def demo2d():
    """The 2D demo's script, for its class list and grouping (one source of truth)."""
    spec = importlib.util.spec_from_file_location("make_demo_data", os.path.join(HERE, "make-demo-data.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def grouped_atlas(d2, templates):
    ch2 = nib.load(os.path.join(templates, "ch2.nii.gz"))
    aal = nib.load(os.path.join(templates, "aal.nii.gz"))
    if aal.shape != ch2.shape or not np.allclose(aal.affine, ch2.affine):
        raise SystemExit("aal.nii.gz is not on ch2's grid (the 2D demo's script resamples; this one expects the packaged files)")
    names = d2.read_aal_names(os.path.join(templates, "aal.nii.txt"))
    lut = np.zeros(max(names) + 1, dtype=np.uint8)
    for idx, name in names.items():
        lut[idx] = d2.CLASSES.index(d2.group_of(name)[0])
    lab = np.asarray(aal.dataobj).astype(np.int64)
    unknown = sorted(set(np.unique(lab).tolist()) - set(names) - {0})
    if unknown:
        raise SystemExit(f"AAL volume holds labels without names: {unknown}")
    return ch2, lut[lab]


def resample(ch2, grouped):
    """ch2 and labels on a SPACING grid covering ch2's field of view; returns (image, label, affine)."""
    src = np.asarray(ch2.dataobj, dtype=np.float64)
    shape = tuple(int(np.floor((n - 1) / SPACING)) + 1 for n in src.shape)
    # new voxel v sits at ch2 voxel SPACING * v (both grids start at ch2's voxel 0)
    matrix = np.full(3, SPACING)
    img = ndimage.affine_transform(src, matrix, 0.0, output_shape=shape, order=3, mode="constant", cval=0.0)
    lab = ndimage.affine_transform(grouped, matrix, 0.0, output_shape=shape, order=0, mode="constant", cval=0)
    affine = ch2.affine @ np.diag([SPACING, SPACING, SPACING, 1.0])
    return np.clip(np.rint(img), 0, 255).astype(np.uint8), lab.astype(np.uint8), affine


def classes_in(lab, n):
    return [c for c in range(1, n) if np.any(lab == c)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--templates", default="/usr/share/mricron/templates")
    ap.add_argument("--out", default=os.path.join(HERE, "..", "data", "demo3d"))
    args = ap.parse_args()
    d2 = demo2d()
    classes = d2.CLASSES
    ch2, grouped = grouped_atlas(d2, args.templates)
    img, lab, affine = resample(ch2, grouped)

    # the brain's box with a margin, in the 1.5 mm grid
    nz = np.nonzero(lab)
    lo = [max(0, int(a.min()) - MARGIN) for a in nz]
    hi = [min(n, int(a.max()) + 1 + MARGIN) for a, n in zip(nz, lab.shape)]

    # the midline: world x = 0 (ch2 is RAS: the left hemisphere has x < 0)
    inv = np.linalg.inv(affine)
    mid = int(round((inv @ np.array([0.0, 0.0, 0.0, 1.0]))[0]))
    left = (slice(lo[0], mid - GAP), slice(lo[1], hi[1]), slice(lo[2], hi[2]))
    right_x = slice(mid + GAP, hi[0])

    # the z cut of the right hemisphere: most classes in the poorer half, then in both, then balanced
    best = None
    for cut in range(lo[2] + MIN_SIDE + GAP, hi[2] - MIN_SIDE - GAP + 1):
        lower = lab[right_x, lo[1] : hi[1], lo[2] : cut - GAP]
        upper = lab[right_x, lo[1] : hi[1], cut + GAP : hi[2]]
        a, b = len(classes_in(lower, len(classes))), len(classes_in(upper, len(classes)))
        score = (min(a, b), a + b, -abs((cut - lo[2]) - (hi[2] - cut)))
        if best is None or score > best[0]:
            best = (score, cut)
    cut = best[1]
    boxes = {
        "train": left,
        "val": (right_x, slice(lo[1], hi[1]), slice(lo[2], cut - GAP)),
        "test": (right_x, slice(lo[1], hi[1]), slice(cut + GAP, hi[2])),
    }

    os.makedirs(args.out, exist_ok=True)
    files, splits = {}, {}
    for split, box in boxes.items():
        start = np.array([s.start for s in box], dtype=np.float64)
        box_affine = affine.copy()
        box_affine[:3, 3] = (affine @ np.append(start, 1.0))[:3]
        im, lb = img[box], lab[box]
        for kind, arr in (("image", im), ("label", lb)):
            nii = nib.Nifti1Image(arr, box_affine)
            nii.header.set_data_dtype(np.uint8)
            nii.header.set_xyzt_units("mm")
            nii.set_sform(box_affine, code=2)
            nii.set_qform(box_affine, code=2)
            name = f"{kind}_{split}.nii.gz"
            write_deterministic(nii, os.path.join(args.out, name))
            files[f"{kind}_{split}"] = name
        per_class = {classes[c]: int(np.count_nonzero(lb == c)) for c in range(1, len(classes))}
        splits[split] = {
            "shape": list(im.shape),
            "slices": int(im.shape[2]),
            "box_in_grid": [[int(s.start), int(s.stop)] for s in box],
            "world_mm_first_voxel": [float(v) for v in box_affine[:3, 3]],
            "classes_present": [c for c, v in per_class.items() if v > 0],
            "voxels_per_class": per_class,
        }

    meta = {
        "name": "mricron-ch2-aal-lobes-3d",
        "note": "single-subject demo, not a benchmark",
        "description": "Whole-volume boxes of the ch2 (Colin27) T1 brain at 1.5 mm with AAL regions grouped into 7 lobar classes: train the left hemisphere, val and test the right hemisphere below and above one axial cut.",
        "classes": classes,
        "image": {
            "modality": "MRI T1",
            "dtype": "uint8",
            "channels": 1,
            "intensity": "ch2 values 0-255 after cubic resampling, rounded and clipped",
        },
        "voxel_size_mm": [SPACING, SPACING, SPACING],
        "axes": "NIfTI i, j, k = RAS x, y, z (ch2's orientation); the arrays a network sees are (D, H, W) = (k, j, i)",
        "resample": "scipy.ndimage.affine_transform onto a 1.5 mm grid starting at ch2's voxel 0; order 3 image, order 0 label",
        "intensity_range": {
            "a_min": 0,
            "a_max": 255,
            "b_min": 0.0,
            "b_max": 1.0,
            "clip": True,
            "note": "as MONAI's ScaleIntensityRanged: (x - a_min) / (a_max - a_min) * (b_max - b_min) + b_min, then clipped to [b_min, b_max]",
        },
        "files": files,
        "split_rule": f"train: the left hemisphere (x below the midline); val/test: the right hemisphere below/above the axial plane k={cut} of the 1.5 mm grid; {GAP} voxels dropped on each side of each cut; the brain's box kept with a {MARGIN}-voxel margin",
        "splits": splits,
        # the same source files and licence as the 2D demo
        "source": {**source_of_2d_demo(), "version": d2.debian_version()},
        "grouping": "as data/demo/dataset.json (scripts/make-demo-data.py)",
        "script": "scripts/make-demo3d-data.py",
    }
    with open(os.path.join(args.out, "dataset.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(args.out, v)) for v in files.values())
    for split, s in splits.items():
        print(f"{split}: {'x'.join(map(str, s['shape']))}, classes {s['classes_present']}")
    print(f"total {total / 1e6:.2f} MB in {args.out}")


def source_of_2d_demo():
    with open(os.path.join(HERE, "..", "data", "demo", "dataset.json")) as f:
        return json.load(f)["source"]


def write_deterministic(nii, path):
    """gzip without a timestamp or file name, so the same input gives the same bytes."""
    raw = nii.to_bytes()
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as g:
        g.write(raw)
    with open(path, "wb") as f:
        f.write(buf.getvalue())


if __name__ == "__main__":
    main()
