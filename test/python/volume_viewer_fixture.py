"""A one-case NIfTI volume folder for the editor's volume viewer test, written by nibabel.

  make DIR   writes DIR/images/vol01.nii.gz (float32, 24×20×12 voxels of 1.0 × 1.5 × 3.0 mm,
             voxel (i, j, k) = (7i + 13j + 29k) mod 64), DIR/labels/vol01.nii.gz (uint8: class 2
             in the box i 2..7, j 3..8, k 2..5, class 1 in i 14..19, j 12..17, k 7..10),
             DIR/classes.json, and DIR/expected.json: the dims and zooms nibabel reads back.
"""
import json
import os
import sys

import numpy as np
import nibabel as nib


def make(d):
    os.makedirs(f"{d}/images", exist_ok=True)
    os.makedirs(f"{d}/labels", exist_ok=True)
    shape = (24, 20, 12)
    zooms = (1.0, 1.5, 3.0)
    i, j, k = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    image = ((7 * i + 13 * j + 29 * k) % 64).astype(np.float32)
    label = np.zeros(shape, np.uint8)
    label[2:8, 3:9, 2:6] = 2
    label[14:20, 12:18, 7:11] = 1
    affine = np.diag([*zooms, 1.0])
    affine[:3, 3] = [-12, -15, -18]
    for folder, data in (("images", image), ("labels", label)):
        img = nib.Nifti1Image(data, affine)
        img.set_sform(affine, code=1)
        nib.save(img, f"{d}/{folder}/vol01.nii.gz")
    back = nib.load(f"{d}/images/vol01.nii.gz")
    with open(f"{d}/classes.json", "w") as f:
        json.dump(["background", "spleen", "kidney"], f)
    with open(f"{d}/expected.json", "w") as f:
        json.dump(
            {"dims": list(back.shape), "zooms": [float(z) for z in back.header.get_zooms()[:3]]}, f
        )


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "make":
        sys.exit(__doc__)
    make(sys.argv[2])
