#!/usr/bin/env python3
"""MONAI's ShiftIntensity and Affine on crops the TypeScript test hands over, and the torch
runtime's augmentation (python/mam_torch/volumes.py) on the same crops and parameters.

Usage: monai_augment_oracle.py CASES.json
CASES.json: {"cases": [{"shape": [D,H,W], "channels": C, "image": [...] (D,H,W,C flat),
"label": [...] (D,H,W flat), "offset": number or null, "rotate": [ri,rj,rk], "scale": [si,sj,sk]}],
"draws": N}.
Each case: ShiftIntensity(offset) (when given) then Affine(rotate_params, scale_params,
padding_mode reflection; image bilinear, label nearest), in MONAI's layout (C, i, j, k) = our
(C, x, y, z). Prints {"monai": [{"image", "label"}], "torch": [{"image", "label"}], "draws":
{"shifted", "offset", "rotate", "scale"}}: mam_torch's draws of the reference's augmentation
(RandShiftIntensity offsets 0.10 p 0.5, RandAffine p 1, rotation (0, 0, π/30), scale 0.1 per axis)
from RandomStates 0..N−1.
"""
import json
import sys
import warnings

import numpy as np
from monai.transforms import Affine, ShiftIntensity

from mam_torch.volumes import REFERENCE_AUGMENT, apply_augmentation, draw_augmentation

warnings.filterwarnings("ignore")


def monai_case(c):
    D, H, W = c["shape"]
    C = c["channels"]
    img = np.asarray(c["image"], dtype=np.float32).reshape(D, H, W, C).transpose(3, 2, 1, 0)
    lab = np.asarray(c["label"], dtype=np.float32).reshape(D, H, W).transpose(2, 1, 0)[None]
    if c.get("offset") is not None:
        img = np.asarray(ShiftIntensity(c["offset"])(img))
    kw = dict(rotate_params=c["rotate"], scale_params=c["scale"], padding_mode="reflection", image_only=True)
    oi = np.asarray(Affine(mode="bilinear", **kw)(img))
    ol = np.asarray(Affine(mode="nearest", **kw)(lab))
    return {"image": oi.transpose(3, 2, 1, 0).ravel().tolist(),
            "label": np.rint(ol[0]).transpose(2, 1, 0).astype(int).ravel().tolist()}


def torch_case(c):
    D, H, W = c["shape"]
    C = c["channels"]
    img = np.asarray(c["image"], dtype=np.float32).reshape(D, H, W, C).transpose(3, 0, 1, 2)
    lab = np.asarray(c["label"], dtype=np.uint8).reshape(D, H, W)
    draws = ([{"kind": "shift-intensity", "offset": c["offset"]}] if c.get("offset") is not None else []) + [
        {"kind": "affine", "rotate": c["rotate"], "scale": c["scale"]}]
    oi, ol = apply_augmentation(img, lab, draws)
    return {"image": oi.transpose(1, 2, 3, 0).ravel().tolist(), "label": ol.astype(int).ravel().tolist()}


def draws_check(n):
    """mam_torch's draws of the reference's augmentation from n RandomStates, as columns."""
    cols = {"shifted": 0, "offset": [], "rotate": [[], [], []], "scale": [[], [], []]}
    for s in range(n):
        for d in draw_augmentation(REFERENCE_AUGMENT, np.random.RandomState(s)):
            if d["kind"] == "shift-intensity":
                cols["shifted"] += 1
                cols["offset"].append(d["offset"])
            else:
                for a in range(3):
                    cols["rotate"][a].append(d["rotate"][a])
                    cols["scale"][a].append(d["scale"][a])
    return cols


def main():
    spec = json.load(open(sys.argv[1]))
    out = {"monai": [monai_case(c) for c in spec["cases"]], "torch": [torch_case(c) for c in spec["cases"]],
           "draws": draws_check(spec.get("draws", 0))}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
