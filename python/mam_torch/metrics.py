"""Dice and HD95 per class on whole volumes, in both conventions (MAM-SPEC §5), as
src/train/metrics.ts: "synapse" (the paper's: medpy's dc/hd95 at unit spacing, empty-mask
rules 1/0 and 0/0) and "monai" (Dice NaN when the ground truth is empty, HD95 the larger of
the two directed 95th percentiles in mm, inf when exactly one mask is empty, NaN means skipped).
"""
from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import binary_erosion, distance_transform_edt, generate_binary_structure

RULES = ("both", "predOnly", "gtOnly", "bothEmpty")


def _surface_distances(a, b, spacing):
    """medpy's __surface_distances: from ∂a to ∂b, ∂ = mask xor erode(mask, 1-connected)."""
    fp = generate_binary_structure(a.ndim, 1)
    a_border = a ^ binary_erosion(a, structure=fp, iterations=1, border_value=0)
    b_border = b ^ binary_erosion(b, structure=fp, iterations=1, border_value=0)
    dt = distance_transform_edt(~b_border, sampling=spacing)
    return dt[a_border]


def score_class(p, g, convention, spacing):
    np_, ng = int(p.sum()), int(g.sum())
    rule = "both" if np_ and ng else "predOnly" if np_ else "gtOnly" if ng else "bothEmpty"
    base = {"rule": rule, "predVoxels": np_, "gtVoxels": ng}
    if rule == "both":
        dice = 2 * int((p & g).sum()) / (np_ + ng)
        if convention == "synapse":
            from medpy.metric.binary import hd95

            return {**base, "dice": dice, "hd95": float(hd95(p, g))}
        d1 = _surface_distances(p, g, spacing)
        d2 = _surface_distances(g, p, spacing)
        return {**base, "dice": dice, "hd95": float(max(np.percentile(d1, 95), np.percentile(d2, 95)))}
    if convention == "synapse":
        return {**base, "dice": 1.0 if rule == "predOnly" else 0.0, "hd95": 0.0}
    return {**base, **{"predOnly": {"dice": math.nan, "hd95": math.inf},
                       "gtOnly": {"dice": 0.0, "hd95": math.inf},
                       "bothEmpty": {"dice": math.nan, "hd95": math.nan}}[rule]}


def evaluate_volume(pred, gt, class_names, convention="synapse", spacing=None, case_id=""):
    """pred, gt: label volumes (Z, H, W); spacing (z, y, x) mm (monai only)."""
    spacing = tuple(spacing or (1.0,) * pred.ndim) if convention == "monai" else None
    per = {}
    for c in range(1, len(class_names)):
        p, g = pred == c, gt == c
        box = np.argwhere(p | g)
        if box.size:  # outside the union box both masks are background: crop to it
            lo, hi = box.min(0), box.max(0) + 1
            sl = tuple(slice(a, b) for a, b in zip(lo, hi))
            p, g = p[sl], g[sl]
        per[class_names[c]] = score_class(p, g, convention, spacing)
    return {"convention": convention, "caseId": case_id,
            "hd95Unit": "voxel" if convention == "synapse" else "mm", "perClass": per}


def summarize(volumes):
    conv = volumes[0]["convention"]
    skip = conv == "monai"

    def mean(xs):
        ys = [x for x in xs if not (skip and math.isnan(x))]
        return (sum(ys) / len(ys) if ys else math.nan), len(ys)

    names = list(volumes[0]["perClass"])
    per = {}
    for n in names:
        scores = [v["perClass"][n] for v in volumes]
        d, nd = mean([s["dice"] for s in scores])
        h, nh = mean([s["hd95"] for s in scores])
        rules = {r: sum(s["rule"] == r for s in scores) for r in RULES}
        per[n] = {"dice": d, "hd95": h, "nDice": nd, "nHd95": nh, "rules": rules}
    return {"convention": conv, "hd95Unit": volumes[0]["hd95Unit"], "volumes": len(volumes),
            "perClass": per, "meanDice": mean([per[n]["dice"] for n in names])[0],
            "meanHd95": mean([per[n]["hd95"] for n in names])[0]}


def _csv_num(x):
    return "NaN" if math.isnan(x) else "inf" if x == math.inf else repr(float(x)) if x != int(x) else str(int(x)) if abs(x) < 1e21 else repr(x)


def metrics_csv(volumes) -> str:
    def field(s):
        return '"' + s.replace('"', '""') + '"' if any(ch in s for ch in '",\n') else s

    rows = ["convention,case,class,dice,hd95,hd95_unit,rule,pred_voxels,gt_voxels"]
    for v in volumes:
        for name, s in v["perClass"].items():
            rows.append(",".join([v["convention"], field(v["caseId"]), field(name), _csv_num(s["dice"]),
                                  _csv_num(s["hd95"]), v["hd95Unit"], s["rule"], str(s["predVoxels"]),
                                  str(s["gtVoxels"])]))
    return "\n".join(rows) + "\n"
