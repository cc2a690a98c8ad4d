#!/usr/bin/env python3
"""Checks data/demo3d with nibabel, independently of the script that made it.

Usage: demo3d_check.py DEMO3D_DIR [TEMPLATES_DIR]
Prints one JSON object: per split the shape, dtype, affine, classes and voxel counts
read from the files, and the problems found (an empty list when all is well).
With TEMPLATES_DIR (Debian's mricron-data) it also checks the voxels against the
source: at every voxel whose centre falls on a ch2 voxel centre (even indices of the
1.5 mm grid), the label equals the AAL region's class by data/demo/dataset.json's
grouping table, and the image equals ch2 there (a cubic spline interpolates its nodes).
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
        if not np.allclose(img.affine[:3, 3], info["world_mm_first_voxel"]):
            problems.append(f"{split}: first voxel at {img.affine[:3, 3]}, dataset.json says {info['world_mm_first_voxel']}")
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
            problems.extend(check_against_source(split, im, lb, img.affine, templates, classes))
    names = list(boxes)
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            (a0, a1), (b0, b1) = boxes[names[i]], boxes[names[j]]
            if np.all(a0 <= b1) and np.all(b0 <= a1):
                problems.append(f"{names[i]} and {names[j]} overlap in world space")
    out["checked_against_source"] = bool(templates)
    print(json.dumps(out))


def check_against_source(split, im, lb, affine, templates, classes):
    ch2 = nib.load(os.path.join(templates, "ch2.nii.gz"))
    aal = nib.load(os.path.join(templates, "aal.nii.gz"))
    grouping = json.load(open(os.path.join(os.path.dirname(__file__), "..", "..", "data", "demo", "dataset.json")))["grouping"]
    lut = np.zeros(256, dtype=np.uint8)
    for row in grouping:
        lut[row["aal_index"]] = classes.index(row["class"])
    src_img = np.asarray(ch2.dataobj)
    src_lab = lut[np.asarray(aal.dataobj).astype(np.int64)]
    idx = np.stack(np.meshgrid(*[np.arange(n) for n in im.shape], indexing="ij"), -1).reshape(-1, 3)
    world = np.c_[idx, np.ones(len(idx))] @ affine.T
    src = world @ np.linalg.inv(ch2.affine).T
    on_node = np.all(np.abs(src[:, :3] - np.rint(src[:, :3])) < 1e-9, axis=1)
    s = np.rint(src[on_node, :3]).astype(int)
    v = idx[on_node]
    problems = []
    if len(v) == 0:
        return [f"{split}: no voxel falls on a ch2 voxel centre"]
    lab_ok = lb[v[:, 0], v[:, 1], v[:, 2]] == src_lab[s[:, 0], s[:, 1], s[:, 2]]
    img_ok = im[v[:, 0], v[:, 1], v[:, 2]] == src_img[s[:, 0], s[:, 1], s[:, 2]]
    if not lab_ok.all():
        problems.append(f"{split}: {int((~lab_ok).sum())} of {len(v)} labels differ from the atlas at the same world point")
    if not img_ok.all():
        problems.append(f"{split}: {int((~img_ok).sum())} of {len(v)} image voxels differ from ch2 at the same world point")
    return problems


if __name__ == "__main__":
    main()
