#!/usr/bin/env python3
"""MONAI's DiceCELoss(to_onehot_y=True, softmax=True) (the 3D reference's loss) and its gradient.

Usage: monai_dicece_oracle.py CASE.json
CASE.json: {"shape": [B, D, H, W, K], "logits": [...] (channels last, flat), "labels": [...] (B, D, H, W)}.
Prints {"loss", "ce", "dice", "grad": [...] (d loss / d logits, channels last, flat)}, in float64.
"""
import json
import sys

import torch
from monai.losses import DiceCELoss, DiceLoss


def main():
    c = json.load(open(sys.argv[1]))
    B, D, H, W, K = c["shape"]
    z = torch.tensor(c["logits"], dtype=torch.float64).reshape(B, D, H, W, K).permute(0, 4, 1, 2, 3).contiguous()
    z.requires_grad_(True)
    y = torch.tensor(c["labels"], dtype=torch.float64).reshape(B, 1, D, H, W)
    loss = DiceCELoss(to_onehot_y=True, softmax=True)(z, y)
    loss.backward()
    with torch.no_grad():
        dice = DiceLoss(to_onehot_y=True, softmax=True)(z, y)
        ce = torch.nn.functional.cross_entropy(z, y[:, 0].long())
    g = z.grad.permute(0, 2, 3, 4, 1).reshape(-1)
    print(json.dumps({"loss": loss.item(), "ce": ce.item(), "dice": dice.item(), "grad": g.tolist()}))


if __name__ == "__main__":
    main()
