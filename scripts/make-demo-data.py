#!/usr/bin/env python3
"""Derive the embedded demo data set (data/demo/) from Debian's mricron-data package.

Source: /usr/share/mricron/templates/ch2.nii.gz (Colin27 "ch2" single-subject T1) and
aal.nii.gz + aal.nii.txt (AAL atlas, 116 regions), package mricron-data, BSD-3-Clause
(Copyright 2006-2010 Chris Rorden; see /usr/share/doc/mricron-data/copyright).

Steps: group the AAL regions into 7 lobar classes + background by name; take axial
slices; pad each to a square field of view (zeros), resize to 128x128 with
scipy.ndimage.zoom (order 3 image, order 0 label, grid_mode=False); keep slices with
brain; split by contiguous z slabs (with a gap between splits so neighbouring slices do
not leak); write data/demo/{image,label}_{train,val,test}.nii.gz and dataset.json.

Run: .venv/bin/python scripts/make-demo-data.py [--templates DIR] [--out data/demo]
"""
import argparse
import json
import os
import re

import nibabel as nib
import numpy as np
from scipy import ndimage

CLASSES = ["background", "frontal", "limbic", "occipital", "parietal", "deep grey", "temporal", "cerebellum"]

# AAL name (without the _L/_R suffix) -> class; first matching pattern wins.
GROUPING = [
    (r"^(Precentral|Frontal_.*|Rolandic_Oper|Supp_Motor_Area|Olfactory|Rectus|Paracentral_Lobule)$", "frontal"),
    (r"^(Insula|Cingulum_.*|Hippocampus|ParaHippocampal|Amygdala)$", "limbic"),
    (r"^(Calcarine|Cuneus|Lingual|Occipital_.*)$", "occipital"),
    (r"^(Postcentral|Parietal_.*|SupraMarginal|Angular|Precuneus)$", "parietal"),
    (r"^(Caudate|Putamen|Pallidum|Thalamus)$", "deep grey"),
    (r"^(Heschl|Temporal_.*|Fusiform)$", "temporal"),
    (r"^(Cerebelum_.*|Vermis_.*)$", "cerebellum"),
]
NOTES = {
    "Fusiform": "ventral temporo-occipital; grouped with temporal",
    "Paracentral_Lobule": "mostly motor (precentral) cortex; grouped with frontal",
    "Postcentral": "somatosensory cortex; grouped with parietal",
    "Rolandic_Oper": "grouped with frontal",
}
SIZE = 128
MIN_BRAIN_VOXELS = 200  # at 128x128: a slice must hold some brain
SPLIT_FRACTIONS = {"train": 0.70, "val": 0.15, "test": 0.15}
GAP = 2  # slices dropped between slabs
MIN_TRAIN_SHARE = 0.4  # every class keeps at least this share of its slices in train


def read_aal_names(path):
    names = {}
    for line in open(path):
        parts = line.split()
        if len(parts) >= 2 and parts[0].isdigit():
            names[int(parts[0])] = parts[1]
    return names


def group_of(name):
    base = re.sub(r"_[LR]$", "", name)
    for pattern, cls in GROUPING:
        if re.match(pattern, base):
            return cls, base
    raise SystemExit(f"AAL region {name} matches no group")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--templates", default="/usr/share/mricron/templates")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "data", "demo"))
    args = ap.parse_args()
    ch2 = nib.load(os.path.join(args.templates, "ch2.nii.gz"))
    aal = nib.load(os.path.join(args.templates, "aal.nii.gz"))
    img = np.asarray(ch2.dataobj, dtype=np.float64)
    lab = np.asarray(aal.dataobj).astype(np.int32)
    if lab.shape != img.shape or not np.allclose(aal.affine, ch2.affine):
        # AAL voxel -> ch2 voxel mapping, nearest neighbour
        m = np.linalg.inv(aal.affine) @ ch2.affine
        lab = ndimage.affine_transform(lab, m[:3, :3], m[:3, 3], output_shape=img.shape, order=0, mode="constant", cval=0)

    names = read_aal_names(os.path.join(args.templates, "aal.nii.txt"))
    table = []
    lut = np.zeros(max(names) + 1, dtype=np.uint8)
    for idx in sorted(names):
        cls, base = group_of(names[idx])
        lut[idx] = CLASSES.index(cls)
        row = {"aal_index": idx, "aal_name": names[idx], "class": cls}
        if base in NOTES:
            row["note"] = NOTES[base]
        table.append(row)
    present = np.unique(lab)
    unknown = [int(v) for v in present if v != 0 and v not in names]
    if unknown:
        raise SystemExit(f"AAL volume holds labels without names: {unknown}")
    grouped = lut[lab]

    # axial slices: ch2 is RAS with x fastest; pad x and y to a square field of view
    nx, ny, nz = img.shape
    side = max(nx, ny)
    px, py = (side - nx) // 2, (side - ny) // 2
    step = (side - 1) / (SIZE - 1)  # zoom's grid_mode=False spacing in input voxels
    slices_img, slices_lab, zs = [], [], []
    for z in range(nz):
        a = np.zeros((side, side))
        a[px : px + nx, py : py + ny] = img[:, :, z]
        b = np.zeros((side, side), dtype=np.uint8)
        b[px : px + nx, py : py + ny] = grouped[:, :, z]
        ra = ndimage.zoom(a, SIZE / side, order=3)
        rb = ndimage.zoom(b, SIZE / side, order=0)
        assert ra.shape == (SIZE, SIZE) and rb.shape == (SIZE, SIZE)
        if np.count_nonzero(rb) < MIN_BRAIN_VOXELS:
            continue
        slices_img.append(np.clip(np.rint(ra), 0, 255).astype(np.uint8))
        slices_lab.append(rb)
        zs.append(z)
    zs = np.array(zs)
    assert np.all(np.diff(zs) == 1), "brain slices should be contiguous in z"

    # Contiguous slabs with GAP slices dropped around each held-out slab. A plain
    # train | val | test stack leaves whole classes (cerebellum, deep grey) out of some
    # split, so search the positions of the val and test slabs: every class must keep
    # MIN_TRAIN_SHARE of its slices in train, then maximise the classes the held-out slabs cover.
    n = len(zs)
    n_val = int(round(SPLIT_FRACTIONS["val"] * n))
    n_test = int(round(SPLIT_FRACTIONS["test"] * n))
    has = np.array([[np.any(s == c) for c in range(1, len(CLASSES))] for s in slices_lab])

    def layout(v0, t0):
        held = set(range(v0, v0 + n_val)) | set(range(t0, t0 + n_test))
        near = set()
        for a, b in ((v0, v0 + n_val), (t0, t0 + n_test)):
            near |= set(range(a - GAP, a)) | set(range(b, b + GAP))
        train = [i for i in range(n) if i not in held and i not in near]
        return train, list(range(v0, v0 + n_val)), list(range(t0, t0 + n_test))

    best = None
    for v0 in range(GAP, n - n_val - GAP):
        for t0 in range(v0 + n_val + GAP, n - n_test - GAP + 1):
            tr, va, te = layout(v0, t0)
            cv, ct = (int(has[i].any(0).sum()) for i in (va, te))
            # the least-represented class's share of its slices that stay in train
            share = float((has[tr].sum(0) / np.maximum(has.sum(0), 1)).min())
            score = (share >= MIN_TRAIN_SHARE, min(cv, ct), cv + ct, share)
            if best is None or score > best[0]:
                best = (score, v0, t0)
    train_i, val_i, test_i = layout(best[1], best[2])
    split_index = {"train": train_i, "val": val_i, "test": test_i}

    os.makedirs(args.out, exist_ok=True)
    files = {}
    splits = {}
    for split, idx in split_index.items():
        im = np.stack([slices_img[i] for i in idx], axis=-1)  # (x, y, k)
        lb = np.stack([slices_lab[i] for i in idx], axis=-1)
        # voxel (i, j, k) -> ch2 voxel (i*step - px, j*step - py, z_k). Train is several
        # slabs: its affine is exact for the first slab; z_ranges in dataset.json are exact.
        z_of = [int(zs[i]) for i in idx]
        vox = np.array(
            [[step, 0, 0, -px], [0, step, 0, -py], [0, 0, 1, z_of[0]], [0, 0, 0, 1]], dtype=np.float64
        )
        affine = ch2.affine @ vox
        for kind, arr in (("image", im), ("label", lb)):
            nii = nib.Nifti1Image(arr, affine)
            nii.header.set_data_dtype(np.uint8)
            nii.set_sform(affine, code=2)
            nii.set_qform(affine, code=2)
            name = f"{kind}_{split}.nii.gz"
            nib.save(nii, os.path.join(args.out, name))
            files[f"{kind}_{split}"] = name
        per_class = {CLASSES[c]: int(np.count_nonzero(lb == c)) for c in range(1, len(CLASSES))}
        splits[split] = {
            "slices": len(idx),
            "z_ranges": ranges(z_of),
            "classes_present": [c for c, v in per_class.items() if v > 0],
            "voxels_per_class": per_class,
            "slices_per_class": {
                CLASSES[c]: int(np.count_nonzero((lb == c).any(axis=(0, 1)))) for c in range(1, len(CLASSES))
            },
        }

    meta = {
        "name": "mricron-ch2-aal-lobes",
        "note": "single-subject demo, not a benchmark",
        "description": "Axial 128x128 slices of the ch2 (Colin27) T1 brain with AAL regions grouped into 7 lobar classes.",
        "classes": CLASSES,
        "image": {"modality": "MRI T1", "dtype": "uint8", "channels": 1, "intensity": "ch2 values 0-255 after cubic resize, rounded and clipped"},
        "size": [SIZE, SIZE],
        "axis": "axial (NIfTI k); each file stacks one split's slices along k, x fastest",
        "voxel_size_mm": [step, step, 1.0],
        "resize": "scipy.ndimage.zoom grid_mode=False after zero-padding to a square field of view; order 3 image, order 0 label",
        "files": files,
        "split_rule": f"contiguous z slabs of {n_val} (val) and {n_test} (test) slices, {GAP} slices dropped on each side of them, train the rest; slab positions chosen so train keeps >= {MIN_TRAIN_SHARE:.0%} of each class's slices and the held-out slabs cover the most classes",
        "splits": splits,
        "grouping": table,
        "source": {
            "package": "mricron-data (Debian)",
            "version": debian_version(),
            "files": ["/usr/share/mricron/templates/ch2.nii.gz", "/usr/share/mricron/templates/aal.nii.gz", "/usr/share/mricron/templates/aal.nii.txt"],
            "license": "BSD-3-Clause",
            "copyright": "Copyright 2006-2010, Chris Rorden (MRIcron); see /usr/share/doc/mricron-data/copyright",
            "atlas_reference": "Tzourio-Mazoyer et al. 2002, NeuroImage 15:273-289 (AAL); Holmes et al. 1998 (Colin27 / ch2)",
        },
        "script": "scripts/make-demo-data.py",
    }
    with open(os.path.join(args.out, "dataset.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(args.out, v)) for v in files.values())
    for split, s in splits.items():
        print(f"{split}: {s['slices']} slices, z {s['z_ranges']}, classes {s['classes_present']}")
    print(f"total {total / 1e6:.2f} MB in {args.out}")


def ranges(zs):
    out = []
    start = prev = zs[0]
    for z in zs[1:]:
        if z != prev + 1:
            out.append([start, prev])
            start = z
        prev = z
    out.append([start, prev])
    return out


def debian_version():
    try:
        import subprocess

        return subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "mricron-data"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except Exception:
        return "unknown"


if __name__ == "__main__":
    main()
