"""What mam_torch makes of data, for test/unit/torch-data.test.ts to compare with our TypeScript.

usage: torch_runtime_data.py DIR
  DIR/folder/          a NIfTI data folder → DIR/data.json: split ids, class names, slice count,
                       the normalised first training slice (auto normalisation) and the data
                       fingerprint
  DIR/kinds/           a NIfTI folder of int16 scaled, 2D uint8 and float64 files → DIR/kinds.json
  (the demo set)       → DIR/demo.json: its data fingerprint
  DIR/pred.npy, gt.npy label volumes (Z, H, W) → DIR/metrics.json: per class dice/hd95 in both
                       conventions (monai with the spacing in DIR/spacing.json, (z, y, x) mm)
  DIR/synapse/         the Synapse layout → DIR/synapse.json: the same as data.json, plus the test
                       volume's label
  DIR/slice.npy        a (H, W, 1) float32 image and DIR/slice_label.npy (H, W) → DIR/resized_{rule}.npy
                       (32×32, image then label as a (32, 32, 2) array) for rule in stretch, pad
"""
import json
import math
import sys

import numpy as np

from mam_torch.data import case_slices, data_fingerprint, fit_sample, load_data
from mam_torch.metrics import evaluate_volume

d = sys.argv[1]


def describe(folder, out):
    ds = load_data(folder, 7)
    first = case_slices(ds.train[0], "auto")
    json.dump({"train": [c.id for c in ds.train], "val": [c.id for c in ds.val],
               "test": [c.id for c in ds.test], "classNames": ds.class_names,
               "slices": sum(len(case_slices(c, "auto")) for c in ds.train),
               "first": first[0][0][..., 0].ravel().tolist(), "firstLabel": first[0][1].ravel().tolist(),
               "testLabel": ds.test[0].label.ravel().tolist() if ds.test else [],
               "fingerprint": data_fingerprint(ds.all_cases())}, open(out, "w"))


describe(f"{d}/folder", f"{d}/data.json")
describe(f"{d}/synapse", f"{d}/synapse.json")
describe(f"{d}/kinds", f"{d}/kinds.json")
json.dump({"fingerprint": data_fingerprint(load_data("demo", 7).all_cases())}, open(f"{d}/demo.json", "w"))

pred, gt = np.load(f"{d}/pred.npy"), np.load(f"{d}/gt.npy")
spacing = json.load(open(f"{d}/spacing.json"))
names = ["background", "organ1", "organ2"]
enc = lambda x: "NaN" if math.isnan(x) else ("inf" if x == math.inf else x)  # noqa: E731
out = {}
for conv in ("synapse", "monai"):
    v = evaluate_volume(pred, gt, names, conv, spacing)
    out[conv] = {n: {"dice": enc(s["dice"]), "hd95": enc(s["hd95"]), "rule": s["rule"]} for n, s in v["perClass"].items()}
json.dump(out, open(f"{d}/metrics.json", "w"))

img, lbl = np.load(f"{d}/slice.npy"), np.load(f"{d}/slice_label.npy")
for rule in ("stretch", "pad"):
    a, b = fit_sample(img, lbl, (32, 32), rule)
    np.save(f"{d}/resized_{rule}.npy", np.concatenate([a, b[..., None].astype(np.float32)], -1))
