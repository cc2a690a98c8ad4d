#!/usr/bin/env python3
"""MONAI's own transforms on volumes the TypeScript test hands over (one JSON file).

Usage: monai_crops_oracle.py CASES.json
CASES.json: {"crops": [{"shape": [D,H,W], "channels": C, "roi": [d,h,w], "image": [...] (D,H,W,C
flat), "label": [...] (D,H,W flat)}], "scale": [{"values": [...], "a_min", "a_max", "b_min",
"b_max", "clip"}]}.
Each crop case runs SpatialPadd(roi, symmetric) then RandCropByPosNegLabeld(roi, pos=1, neg=1,
num_samples=1, image_threshold=0): the cases hold one foreground voxel, or none and one
non-zero background voxel, so MONAI's draw has one outcome. Prints {"crops": [{"image",
"label"} (the crop, D,H,W,C / D,H,W flat)], "scale": [[...]]}.
"""
import json
import sys
import warnings

import numpy as np
from monai.transforms import Compose, RandCropByPosNegLabeld, ScaleIntensityRange, SpatialPadd

warnings.filterwarnings("ignore")


def main():
    spec = json.load(open(sys.argv[1]))
    out = {"crops": [], "scale": []}
    for c in spec["crops"]:
        D, H, W = c["shape"]
        C = c["channels"]
        img = np.asarray(c["image"], dtype=np.float32).reshape(D, H, W, C).transpose(3, 0, 1, 2)
        lab = np.asarray(c["label"], dtype=np.float32).reshape(1, D, H, W)
        t = Compose(
            [
                SpatialPadd(keys=["image", "label"], spatial_size=c["roi"], method="symmetric"),
                RandCropByPosNegLabeld(
                    keys=["image", "label"],
                    label_key="label",
                    spatial_size=c["roi"],
                    pos=1,
                    neg=1,
                    num_samples=1,
                    image_key="image",
                    image_threshold=0,
                ),
            ]
        )
        t.set_random_state(0)
        r = t({"image": img, "label": lab})[0]
        ci = np.asarray(r["image"]).transpose(1, 2, 3, 0)
        out["crops"].append(
            {"shape": list(ci.shape[:3]), "image": ci.ravel().tolist(), "label": np.asarray(r["label"]).ravel().astype(int).tolist()}
        )
    for s in spec["scale"]:
        f = ScaleIntensityRange(a_min=s["a_min"], a_max=s["a_max"], b_min=s["b_min"], b_max=s["b_max"], clip=s["clip"])
        out["scale"].append(np.asarray(f(np.asarray(s["values"], dtype=np.float64))).astype(float).tolist())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
