"""mam_torch's volume samples against MONAI's transforms (the reference's pipeline, §f).

usage: torch_volume_crops.py
Prints JSON: crops (draws compared), cropMismatches (draws where mam_torch's crop differs from
SpatialPadd + RandCropByPosNegLabeld(pos 1, neg 1, image_threshold 0) with the same RandomState,
voxel for voxel), positive (share of crops centred on foreground), scaleMaxDiff (max |Δ| of the
intensity range scaling against ScaleIntensityRange).
"""
import json
import os
import sys

import numpy as np
from monai.transforms import RandCropByPosNegLabeld, ScaleIntensityRange, SpatialPadd

from mam_torch.volumes import rand_crop_pos_neg, sample_rng, scale_intensity

sys.path.insert(0, os.path.dirname(__file__))
from torch_volume_fixture import RANGE, case  # noqa: E402

raw, lbl = case(0)
img = scale_intensity(raw, RANGE)[None]
ref_scale = ScaleIntensityRange(RANGE["a_min"], RANGE["a_max"], RANGE["b_min"], RANGE["b_max"], clip=True)(
    raw.astype(np.float32))
out = {"crops": 0, "cropMismatches": 0, "positive": 0.0,
       "scaleMaxDiff": float(np.abs(np.asarray(ref_scale) - img[0]).max())}
pos = 0
# a crop inside the volume, and one longer than the volume on x (padded first)
for roi in ([16, 16, 16], [48, 20, 17]):
    pad = SpatialPadd(["image", "label"], roi)
    crop = RandCropByPosNegLabeld(["image", "label"], "label", roi, pos=1, neg=1, num_samples=1,
                                  image_key="image", image_threshold=0)
    for s in range(40):
        ours = rand_crop_pos_neg(img, lbl, roi, sample_rng(7, s, 1))
        crop.set_random_state(state=sample_rng(7, s, 1))
        ref = crop(pad({"image": img, "label": lbl[None]}))[0]
        same = (np.array_equal(ours[0], np.asarray(ref["image"]))
                and np.array_equal(ours[1], np.asarray(ref["label"])[0]))
        out["crops"] += 1
        out["cropMismatches"] += not same
        pos += ours[1][tuple(r // 2 for r in roi)] > 0
out["positive"] = pos / out["crops"]
print(json.dumps(out))
