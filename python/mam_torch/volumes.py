"""Volumes for graphs with a 3D input (SwinUNETR, nnFormer; 3D-MAM-SPEC.md §f), for the torch
runtime: whole NIfTI volumes (no slicing) scaled to an intensity range as the data set's
metadata says, random crops of the graph's input size centred on foreground or background as
MONAI's RandCropByPosNegLabeld(pos=1, neg=1, image_threshold=0) draws them, and validation by
MONAI's sliding_window_inference over the whole volume (the run's overlap and sw_batch, constant blending). Each crop
is then augmented as the reference does (RandShiftIntensityd, then RandAffined), the parameters
drawn as `mam train` draws them (src/data/volume-augment.ts) and applied by MONAI itself.

`--data demo3d` is data/demo3d of the repository (written by scripts/make-demo3d-data.py).
MONAI is needed here (pip install monai); 2D training does not import it.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .data import DataError, intensity_range, normalise, scale_intensity  # noqa: F401 (re-exported)


def monai_or_fail():
    try:
        import monai  # noqa: F401
    except ImportError:
        raise DataError("training a 3D graph needs MONAI (its crop sampler and sliding-window "
                        "inference): pip install monai", 2) from None


def volume_of(case, normalisation: str) -> np.ndarray:
    """(C, D, H, W) float32: each channel normalised as `mam train` does (under 'auto', by the data
    set's intensity range where it has one)."""
    return np.stack([normalise(a, normalisation, case.intensity) for a in case.channels])


def pad_to(img: np.ndarray, lbl: np.ndarray, roi):
    """SpatialPad (symmetric, zeros) of the sides below the roi, as MONAI pads before cropping."""
    pads = [(max(0, r - n) // 2, max(0, r - n) - max(0, r - n) // 2) for n, r in zip(lbl.shape, roi)]
    if not any(a or b for a, b in pads):
        return img, lbl
    return np.pad(img, [(0, 0), *pads]), np.pad(lbl, pads)


def sample_rng(seed: int, step: int, pos: int) -> np.random.RandomState:
    """A RandomState (MONAI's kind) drawn from (seed, step, place in the global batch)."""
    return np.random.RandomState(np.random.SeedSequence([seed, step, pos]).generate_state(1)[0])


def rand_crop_pos_neg(img: np.ndarray, lbl: np.ndarray, roi, rng: np.random.RandomState):
    """One crop of `roi` (RandCropByPosNegLabeld, pos 1 : neg 1, image_threshold 0): the centre is
    a random foreground voxel or a random background voxel whose image is above 0, moved so the
    crop lies inside the (padded) volume."""
    from monai.transforms.utils import generate_pos_neg_label_crop_centers, map_binary_to_indices

    img, lbl = pad_to(img, lbl, roi)
    fg, bg = map_binary_to_indices(lbl[None], img, image_threshold=0.0)
    centre = generate_pos_neg_label_crop_centers(list(roi), 1, 0.5, lbl.shape, fg, bg, rng)[0]
    starts = [int(c) - r // 2 for c, r in zip(centre, roi)]
    box = tuple(slice(s, s + r) for s, r in zip(starts, roi))
    return np.ascontiguousarray(img[(slice(None), *box)]), np.ascontiguousarray(lbl[box])


# the reference's (3D-MAM-SPEC.md §f); ranges in MONAI's axis order (NIfTI i, j, k = our x, y, z)
REFERENCE_AUGMENT = [
    {"kind": "shift-intensity", "offsets": 0.1, "prob": 0.5},
    {"kind": "affine", "prob": 1.0, "rotateRange": [0.0, 0.0, math.pi / 30], "scaleRange": [0.1, 0.1, 0.1]},
]


def draw_augmentation(specs, rng: np.random.RandomState) -> list:
    """The transforms one crop gets, drawn as MONAI's array transforms RandShiftIntensity and
    RandAffine draw: a coin rng.rand() < prob, then (when taken) the uniforms: rotations, then
    scales + 1, one per axis even where the range is 0. (RandAffined itself draws more and
    discards some; the laws are the same.)"""
    out = []
    for s in specs:
        if not rng.rand() < s["prob"]:
            continue
        if s["kind"] == "shift-intensity":
            out.append({"kind": "shift-intensity", "offset": float(rng.uniform(-s["offsets"], s["offsets"]))})
        else:
            rotate = [float(rng.uniform(-r, r)) for r in s["rotateRange"]]
            scale = [float(rng.uniform(-r, r)) + 1.0 for r in s["scaleRange"]]
            out.append({"kind": "affine", "rotate": rotate, "scale": scale})
    return out


def apply_augmentation(img: np.ndarray, lbl: np.ndarray, draws):
    """The drawn transforms on a (C, D, H, W) crop and its (D, H, W) label: MONAI's ShiftIntensity on
    the image, Affine (reflection padding; image bilinear, label nearest) on both. MONAI's spatial
    axes are NIfTI's (i, j, k), ours (z, y, x) = (k, j, i): reversed around the affine."""
    from monai.transforms import Affine, ShiftIntensity
    from monai.utils import convert_to_numpy

    for d in draws:
        if d["kind"] == "shift-intensity":
            img = convert_to_numpy(ShiftIntensity(d["offset"])(img)).astype(np.float32)
            continue
        rev = (0, 3, 2, 1)
        aff = dict(rotate_params=d["rotate"], scale_params=d["scale"], padding_mode="reflection", image_only=True)
        img = convert_to_numpy(Affine(mode="bilinear", **aff)(np.ascontiguousarray(img.transpose(rev))))
        lab = Affine(mode="nearest", **aff)(np.ascontiguousarray(lbl[None].transpose(rev).astype(np.float32)))
        img = np.ascontiguousarray(img.transpose(rev)).astype(np.float32)
        lbl = np.ascontiguousarray(np.rint(convert_to_numpy(lab)).transpose(rev)[0]).astype(lbl.dtype)
    return img, lbl


@torch.no_grad()
def predict_volume3d(model, vol: np.ndarray, roi, device="cpu", amp_dtype=None, overlap=0.5, batch=1):
    """Labels (D, H, W) of a whole (C, D, H, W) volume: MONAI's sliding window (constant blend)."""
    from monai.inferers import sliding_window_inference

    x = torch.from_numpy(vol[None]).to(device)
    with torch.autocast(device_type=torch.device(device).type, dtype=amp_dtype, enabled=amp_dtype is not None):
        logits = sliding_window_inference(x, list(roi), batch, lambda t: model(t).float(), overlap=overlap,
                                          mode="constant")
    return logits.argmax(1)[0].cpu().numpy().astype(np.uint8)


def evaluate_volumes(model, cases, vols, class_names, roi, convention, device="cpu", amp_dtype=None, overlap=0.5,
                     batch=1):
    """evaluate_cases of evaluate.py for volumes: the sliding-window prediction of each whole case."""
    from .evaluate import score_cases

    return score_cases(model, cases, class_names, convention,
                       lambda _c, i: predict_volume3d(model, vols[i], roi, device, amp_dtype, overlap, batch))
