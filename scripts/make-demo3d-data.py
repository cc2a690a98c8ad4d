#!/usr/bin/env python3
"""Derive the embedded 3D demo set (data/demo3d/) from Debian's mricron-data package.

The same subject, atlas and classes as the 2D demo (scripts/make-demo-data.py, whose
grouping of the AAL regions this script imports): the ch2 (Colin27) T1 brain with the
AAL atlas grouped into 7 lobar classes + background, as whole brains for the 3D
networks (SwinUNETR-MAM / nnFormer-MAM demo presets, 64^3 x 1 input).

One subject cannot be split into disjoint train and test brains, so each split is a
synthetic "subject" made from it: the whole brain warped by its own seeded, smooth
deformation (a small affine: rotations, scales and a shift; plus a displacement field
of a few low-frequency sine waves) with its own intensity gain and smooth (quadratic)
bias field, all recorded in dataset.json so a check can rebuild it, sampled on a
SPACING mm grid over the brain's box with a margin (cubic image, nearest-neighbour
label; scipy.ndimage.map_coordinates). A 64^3 crop at SPACING mm covers most of a
brain, as the 2D demo's whole slices do, and the test brain still takes more than one
sliding window. Train, val and test differ only by seed. Written as uint8 NIfTI
(sform and qform code 2) with dataset.json.

Run: .venv/bin/python scripts/make-demo3d-data.py [--templates DIR] [--out data/demo3d]
Deterministic: the same templates (and numpy/scipy) give the same bytes.
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
SPACING = 2.5  # mm, isotropic
MARGIN_MM = 8.0  # kept around the brain's box, so a deformed brain stays inside
SEEDS = {"train": 1, "val": 2, "test": 3}
ROTATE_DEG = 6.0  # at most, about each axis
SCALE = 0.06  # at most, per axis (1 +/- SCALE)
SHIFT_MM = 4.0  # at most, per axis
WAVES = 4  # sine waves per axis in the displacement field
WAVE_MM = 2.0  # each wave's amplitude, at most
WAVE_FREQ = 1.5  # its frequency per axis, at most, in cycles over the grid's extent
GAIN = 0.1  # intensity gain 1 +/- GAIN
BIAS = 0.08  # bias field: each linear and square term's coefficient, at most


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


def output_grid(ch2, grouped):
    """The SPACING mm grid over the brain's (atlas voxels') box with MARGIN_MM: (shape, affine)."""
    nz = np.nonzero(grouped)
    lo = np.array([a.min() for a in nz], dtype=np.float64)
    hi = np.array([a.max() for a in nz], dtype=np.float64)
    lo_mm = (ch2.affine @ np.append(lo, 1.0))[:3] - MARGIN_MM
    hi_mm = (ch2.affine @ np.append(hi, 1.0))[:3] + MARGIN_MM
    shape = tuple(int(np.ceil((h - l) / SPACING)) + 1 for l, h in zip(lo_mm, hi_mm))
    affine = np.diag([SPACING, SPACING, SPACING, 1.0])
    affine[:3, 3] = lo_mm
    return shape, affine


def rotation(angles):
    """R = Rz @ Ry @ Rx for rotations (degrees) about x, y, z."""
    a, b, c = np.deg2rad(angles)
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    return rz @ ry @ rx


def deformation(seed):
    """A case's deformation and intensity variation, rounded as dataset.json records them (so they rebuild it exactly)."""
    rng = np.random.default_rng(seed)
    r = lambda a, n=None, d=4: np.round(rng.uniform(-a, a, n), d).tolist()
    return {
        "seed": seed,
        "rotation_deg_xyz": r(ROTATE_DEG, 3),
        "scale_xyz": [round(1.0 + v, 4) for v in r(SCALE, 3)],
        "shift_mm_xyz": r(SHIFT_MM, 3),
        # per axis of the displacement, WAVES rows of (frequency x, y, z, amplitude mm, phase rad)
        "waves": [[r(WAVE_FREQ, 3) + r(WAVE_MM, 1) + r(np.pi, 1) for _ in range(WAVES)] for _ in range(3)],
        "gain": round(1.0 + r(GAIN, None), 4),
        "bias_linear_xyz": r(BIAS, 3),
        "bias_square_xyz": r(BIAS, 3),
    }


def synthetic_subject(ch2, grouped, shape, affine, d):
    """ch2 and its labels through deformation `d` onto the output grid: (image, label)."""
    idx = np.indices(shape, dtype=np.float64).reshape(3, -1)
    world = affine[:3, :3] @ idx + affine[:3, 3:4]
    centre = affine[:3, :3] @ ((np.array(shape, dtype=np.float64)[:, None] - 1) / 2) + affine[:3, 3:4]
    extent = SPACING * (np.array(shape, dtype=np.float64)[:, None] - 1)
    q = (world - centre) / extent  # -0.5 .. 0.5 over the grid
    disp = np.zeros_like(world)
    for axis, rows in enumerate(d["waves"]):
        for fx, fy, fz, amp, phase in rows:
            disp[axis] += amp * np.sin(2 * np.pi * (np.array([fx, fy, fz]) @ q) + phase)
    m = rotation(d["rotation_deg_xyz"]) @ np.diag(d["scale_xyz"])
    src_world = m @ (world - centre) + centre + np.array(d["shift_mm_xyz"])[:, None] + disp
    inv = np.linalg.inv(ch2.affine)
    src_vox = inv[:3, :3] @ src_world + inv[:3, 3:4]
    bias = 1.0 + np.array(d["bias_linear_xyz"]) @ q + np.array(d["bias_square_xyz"]) @ (q * q)

    src = np.asarray(ch2.dataobj, dtype=np.float64)
    img = ndimage.map_coordinates(src, src_vox, order=3, mode="constant", cval=0.0)
    lab = ndimage.map_coordinates(grouped, src_vox, order=0, mode="constant", cval=0)
    img = np.clip(np.rint(img * d["gain"] * bias), 0, 255).astype(np.uint8).reshape(shape)
    return img, lab.astype(np.uint8).reshape(shape)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--templates", default="/usr/share/mricron/templates")
    ap.add_argument("--out", default=os.path.join(HERE, "..", "data", "demo3d"))
    args = ap.parse_args()
    d2 = demo2d()
    classes = d2.CLASSES
    ch2, grouped = grouped_atlas(d2, args.templates)
    shape, affine = output_grid(ch2, grouped)

    os.makedirs(args.out, exist_ok=True)
    files, splits = {}, {}
    for split, seed in SEEDS.items():
        params = deformation(seed)
        im, lb = synthetic_subject(ch2, grouped, shape, affine, params)
        for kind, arr in (("image", im), ("label", lb)):
            nii = nib.Nifti1Image(arr, affine)
            nii.header.set_data_dtype(np.uint8)
            nii.header.set_xyzt_units("mm")
            nii.set_sform(affine, code=2)
            nii.set_qform(affine, code=2)
            name = f"{kind}_{split}.nii.gz"
            write_deterministic(nii, os.path.join(args.out, name))
            files[f"{kind}_{split}"] = name
        per_class = {classes[c]: int(np.count_nonzero(lb == c)) for c in range(1, len(classes))}
        splits[split] = {
            "shape": list(im.shape),
            "slices": int(im.shape[2]),
            "deformation": params,
            "classes_present": [c for c, v in per_class.items() if v > 0],
            "voxels_per_class": per_class,
        }

    meta = {
        "name": "mricron-ch2-aal-lobes-3d",
        "note": "single-subject demo, not a benchmark",
        "description": f"Three synthetic subjects made from the one ch2 (Colin27) T1 brain with AAL regions grouped into 7 lobar classes: each split is the whole brain at {SPACING:g} mm warped by its own seeded smooth deformation and intensity variation; train, val and test differ only by seed, so they share the subject's anatomy.",
        "classes": classes,
        "image": {
            "modality": "MRI T1",
            "dtype": "uint8",
            "channels": 1,
            "intensity": "ch2 values 0-255 after cubic resampling, times the case's gain and bias field, rounded and clipped",
        },
        "voxel_size_mm": [SPACING, SPACING, SPACING],
        "axes": "NIfTI i, j, k = RAS x, y, z (ch2's orientation); the arrays a network sees are (D, H, W) = (k, j, i)",
        "resample": f"scipy.ndimage.map_coordinates from ch2's 1 mm grid onto a {SPACING:g} mm grid over the brain's (atlas voxels') box with a {MARGIN_MM:g} mm margin, through the case's deformation; order 3 image, order 0 label",
        "deformation": (
            "each split's deformation (splits.*.deformation, drawn from numpy's default_rng(seed) and rounded as written) maps an output voxel's "
            "world point p to the ch2 world point R (p - c) + c + shift + u(p), R = Rz Ry Rx (rotation_deg_xyz) times diag(scale_xyz), c the grid's centre; "
            "u's axis a is the sum over waves[a] of amplitude * sin(2 pi f . q + phase), q = (p - c) / (the grid's extent in mm: spacing * (shape - 1)); "
            "ch2 is sampled there (order 3, outside its field of view 0) and multiplied by gain * (1 + bias_linear_xyz . q + bias_square_xyz . q^2); "
            "the label is the grouped AAL atlas at the nearest ch2 voxel"
        ),
        "intensity_range": {
            "a_min": 0,
            "a_max": 255,
            "b_min": 0.0,
            "b_max": 1.0,
            "clip": True,
            "note": "as MONAI's ScaleIntensityRanged: (x - a_min) / (a_max - a_min) * (b_max - b_min) + b_min, then clipped to [b_min, b_max]",
        },
        "files": files,
        "split_rule": f"train, val, test: the same subject under deformation seeds {SEEDS['train']}, {SEEDS['val']}, {SEEDS['test']}; each a whole brain on the same grid",
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
