#!/usr/bin/env python3
"""Checks data/demo3d with nibabel, independently of the script that made it.

Usage: demo3d_check.py DEMO3D_DIR [TEMPLATES_DIR]
Prints one JSON object: per split the shape, dtype, affine, classes and voxel counts
read from the files, and the problems found (an empty list when all is well).
With TEMPLATES_DIR (Debian's mricron-data) it also rebuilds every case from the
source by the formula dataset.json's "deformation" states, from the parameters it
records per split, in code of its own: each voxel's world point mapped into ch2; the
label must equal the AAL region's class (by data/demo/dataset.json's grouping table)
at the nearest ch2 voxel, and the image ch2 interpolated trilinearly there (the script
uses a cubic spline) times the gain and bias field, within a few grey levels.
"""
import json
import os
import sys

import nibabel as nib
import numpy as np


def main():
    root = sys.argv[1]
    templates = sys.argv[2] if len(sys.argv) > 2 else None
    meta = json.load(open(os.path.join(root, "dataset.json")))
    classes = meta["classes"]
    problems = []
    out = {"splits": {}, "problems": problems}
    boxes = {}
    for split in ("train", "val", "test"):
        img = nib.load(os.path.join(root, meta["files"][f"image_{split}"]))
        lab = nib.load(os.path.join(root, meta["files"][f"label_{split}"]))
        im = np.asarray(img.dataobj)
        lb = np.asarray(lab.dataobj)
        info = meta["splits"][split]
        if list(im.shape) != info["shape"] or lb.shape != im.shape:
            problems.append(f"{split}: shapes {im.shape} / {lb.shape}, dataset.json says {info['shape']}")
        if im.dtype != np.uint8 or lb.dtype != np.uint8:
            problems.append(f"{split}: dtypes {im.dtype} / {lb.dtype}")
        if not np.array_equal(img.affine, lab.affine):
            problems.append(f"{split}: image and label affines differ")
        if int(img.header["sform_code"]) != 2 or int(img.header["qform_code"]) != 2:
            problems.append(f"{split}: sform/qform codes are not 2 (aligned)")
        zooms = [float(z) for z in img.header.get_zooms()]
        if not np.allclose(zooms, meta["voxel_size_mm"]) or not np.allclose(np.abs(np.diag(img.affine)[:3]), meta["voxel_size_mm"]):
            problems.append(f"{split}: voxel size {zooms}")
        present = [classes[c] for c in sorted(set(np.unique(lb).tolist()) - {0})]
        if present != info["classes_present"]:
            problems.append(f"{split}: classes {present}, dataset.json says {info['classes_present']}")
        counts = {classes[c]: int(np.count_nonzero(lb == c)) for c in range(1, len(classes))}
        if counts != info["voxels_per_class"]:
            problems.append(f"{split}: voxel counts differ from dataset.json")
        if int(lb.max()) >= len(classes):
            problems.append(f"{split}: label {int(lb.max())} beyond the {len(classes)} classes")
        # the world box the split covers: corner voxel centres through the affine
        corners = np.array([[0, 0, 0, 1], [*(np.array(im.shape) - 1), 1]], dtype=np.float64)
        w = (img.affine @ corners.T).T[:, :3]
        boxes[split] = (w.min(0), w.max(0))
        out["splits"][split] = {
            "shape": list(im.shape),
            "affine": img.affine.tolist(),
            "classes_present": present,
            "max_image": int(im.max()),
            "world_box": [w.min(0).tolist(), w.max(0).tolist()],
        }
        if templates:
            problems.extend(check_against_source(split, im, lb, img.affine, info["deformation"], templates, classes, out["splits"][split]))
    first = meta["splits"]["train"]
    for split in ("val", "test"):
        if out["splits"][split]["affine"] != out["splits"]["train"]["affine"] or out["splits"][split]["shape"] != first["shape"]:
            problems.append(f"{split}: not on train's grid (every split is the whole brain on one grid)")
    seeds = [meta["splits"][s]["deformation"]["seed"] for s in ("train", "val", "test")]
    if len(set(seeds)) != 3:
        problems.append(f"the splits' deformation seeds are not distinct: {seeds}")
    out["checked_against_source"] = bool(templates)
    print(json.dumps(out))


def rotation_xyz(deg):
    """Rz @ Ry @ Rx, angles in degrees about x, y, z."""
    cx, cy, cz = np.cos(np.radians(deg))
    sx, sy, sz = np.sin(np.radians(deg))
    rx = np.array([[1.0, 0.0, 0.0], [0.0, cx, -sx], [0.0, sx, cx]])
    ry = np.array([[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]])
    rz = np.array([[cz, -sz, 0.0], [sz, cz, 0.0], [0.0, 0.0, 1.0]])
    return rz @ ry @ rx


def trilinear(vol, pts):
    """vol at fractional voxel points pts (N, 3), 0 outside."""
    base = np.floor(pts).astype(np.int64)
    frac = pts - base
    out = np.zeros(len(pts))
    for corner in np.ndindex(2, 2, 2):
        idx = base + np.array(corner)
        w = np.prod(np.where(np.array(corner) == 1, frac, 1 - frac), axis=1)
        inside = np.all((idx >= 0) & (idx < np.array(vol.shape)), axis=1)
        out[inside] += w[inside] * vol[idx[inside, 0], idx[inside, 1], idx[inside, 2]]
    return out


def check_against_source(split, im, lb, affine, d, templates, classes, report):
    ch2 = nib.load(os.path.join(templates, "ch2.nii.gz"))
    aal = nib.load(os.path.join(templates, "aal.nii.gz"))
    grouping = json.load(open(os.path.join(os.path.dirname(__file__), "..", "..", "data", "demo", "dataset.json")))["grouping"]
    lut = np.zeros(256, dtype=np.uint8)
    for row in grouping:
        lut[row["aal_index"]] = classes.index(row["class"])
    src_img = np.asarray(ch2.dataobj, dtype=np.float64)
    src_lab = lut[np.asarray(aal.dataobj).astype(np.int64)]
    problems = []
    # the grid holds the whole brain: the atlas's world box lies inside it
    nz = np.argwhere(src_lab > 0)
    atlas_world = np.c_[np.array([nz.min(0), nz.max(0)]), np.ones(2)] @ ch2.affine.T
    corners = np.array([[0, 0, 0, 1], [*(np.array(im.shape) - 1), 1]], dtype=np.float64) @ affine.T
    if np.any(atlas_world[0, :3] < corners[0, :3]) or np.any(atlas_world[1, :3] > corners[1, :3]):
        problems.append(f"{split}: the grid {corners[:, :3].tolist()} does not hold the atlas's box {atlas_world[:, :3].tolist()}")

    shape = np.array(im.shape, dtype=np.float64)
    idx = np.stack(np.meshgrid(*[np.arange(n) for n in im.shape], indexing="ij"), -1).reshape(-1, 3).astype(np.float64)
    p = np.c_[idx, np.ones(len(idx))] @ affine.T
    p = p[:, :3]
    c = (np.append((shape - 1) / 2, 1.0) @ affine.T)[:3]
    q = (p - c) / (np.abs(np.diag(affine)[:3]) * (shape - 1))
    u = np.zeros_like(p)
    for axis in range(3):
        for fx, fy, fz, amp, phase in d["waves"][axis]:
            u[:, axis] += amp * np.sin(2 * np.pi * (q @ np.array([fx, fy, fz])) + phase)
    m = rotation_xyz(d["rotation_deg_xyz"]) * np.array(d["scale_xyz"])[None, :]
    world_src = (p - c) @ m.T + c + np.array(d["shift_mm_xyz"]) + u
    src = np.c_[world_src, np.ones(len(p))] @ np.linalg.inv(ch2.affine).T
    src = src[:, :3]

    # labels: nearest ch2 voxel (0 outside), skipping points within 1e-6 of a rounding tie
    near = np.rint(src).astype(np.int64)
    inside = np.all((near >= 0) & (near < np.array(src_lab.shape)), axis=1)
    want = np.zeros(len(src), dtype=np.uint8)
    want[inside] = src_lab[near[inside, 0], near[inside, 1], near[inside, 2]]
    tie = np.any(np.abs(np.abs(src - np.floor(src)) - 0.5) < 1e-6, axis=1)
    bad = (lb.reshape(-1) != want) & ~tie
    report["label_mismatches"] = int(bad.sum())
    if bad.any():
        problems.append(f"{split}: {int(bad.sum())} of {len(src)} labels differ from the atlas at the deformed point")

    # image: trilinear ch2 times gain and bias field, against the script's cubic
    bias = 1.0 + q @ np.array(d["bias_linear_xyz"]) + (q * q) @ np.array(d["bias_square_xyz"])
    ref = np.clip(trilinear(src_img, src) * d["gain"] * bias, 0, 255)
    diff = np.abs(im.reshape(-1).astype(np.float64) - ref)
    brain = want > 0
    report["image_mean_abs_diff_in_brain"] = round(float(diff[brain].mean()), 3)
    report["image_p99_abs_diff_in_brain"] = round(float(np.percentile(diff[brain], 99)), 3)
    report["image_corr_in_brain"] = round(float(np.corrcoef(im.reshape(-1)[brain], ref[brain])[0, 1]), 5)
    if report["image_mean_abs_diff_in_brain"] > 3 or report["image_corr_in_brain"] < 0.98:
        problems.append(f"{split}: the image is not ch2 at the deformed points (mean |difference| {report['image_mean_abs_diff_in_brain']}, correlation {report['image_corr_in_brain']})")
    return problems


if __name__ == "__main__":
    main()
