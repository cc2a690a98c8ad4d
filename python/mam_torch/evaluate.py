"""Evaluation as src/train/evaluate.ts: every slice resized to the input (the run's rule),
predicted, argmaxed, resized back (nearest), then per-class metrics on the whole volume."""
from __future__ import annotations

import numpy as np
import torch

from .data import fit_plane, normalise, resize_plan, unfit_plane
from .metrics import RULES, evaluate_volume, metrics_csv, summarize


@torch.no_grad()
def predict_volume(model, case, size, normalisation="auto", rule="stretch", batch=8, device="cpu",
                   amp_dtype=None):
    chans = [normalise(a, normalisation, case.intensity) for a in case.channels]
    Z, h, w = chans[0].shape
    H, W = size
    plan = resize_plan((h, w), (H, W), rule)
    out = np.zeros((Z, h, w), np.uint8)
    for z0 in range(0, Z, batch):
        zs = range(z0, min(Z, z0 + batch))
        x = np.stack([np.stack([fit_plane(ch[z], plan, 3) if (h, w) != (H, W) else ch[z]
                                for ch in chans]) for z in zs]).astype(np.float32)
        xt = torch.from_numpy(x).to(device)
        with torch.autocast(device_type=torch.device(device).type, dtype=amp_dtype,
                            enabled=amp_dtype is not None):
            labels = model(xt).float().argmax(1).cpu().numpy()
        for b, z in enumerate(zs):
            out[z] = labels[b] if (h, w) == (H, W) else np.rint(unfit_plane(labels[b].astype(np.float32), plan, 0))
    return out


def score_cases(model, cases, class_names, convention, predict):
    """Per-case metrics of `predict(case, index)` (labels on the case's grid), in eval mode."""
    was = model.training
    model.eval()
    try:
        vols = [evaluate_volume(predict(c, i), c.label, class_names, convention, c.spacing, c.id)
                for i, c in enumerate(cases)]
    finally:
        model.train(was)
    summary = summarize(vols)
    rules = {r: sum(s["rule"] == r for v in vols for s in v["perClass"].values()) for r in RULES}
    return {"convention": convention, "hd95Unit": summary["hd95Unit"], "summary": summary,
            "cases": vols, "ruleCounts": rules, "csv": metrics_csv(vols)}


def evaluate_cases(model, cases, class_names, size, convention="synapse", normalisation="auto",
                   rule="stretch", batch=8, device="cpu", amp_dtype=None):
    return score_cases(model, cases, class_names, convention, lambda c, _i: predict_volume(
        model, c, size, normalisation, rule, batch, device, amp_dtype))
