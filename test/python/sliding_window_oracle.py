#!/usr/bin/env python3
"""monai.inferers.sliding_window_inference on the model and volumes the TypeScript test hands over.

Usage: sliding_window_oracle.py CASES.json
CASES.json: {"weight": [...] (K, C, 3, 3, 3 flat, PyTorch's Conv3d layout), "bias": [K], "cases":
[{"shape": [D,H,W], "channels": C, "volume": [...] (D,H,W,C flat), "roi": [d,h,w], "overlap",
"mode": "constant"|"gaussian", "sigma_scale", "sw_batch_size"}]}.
The model: tanh(conv3d(x, weight, bias, padding 1)), in float64. Prints {"logits": [[...] (D,H,W,K
flat) per case]}.
"""
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F
from monai.inferers import sliding_window_inference


def main():
    spec = json.load(open(sys.argv[1]))
    cases = spec["cases"]
    C = cases[0]["channels"]
    w = torch.tensor(spec["weight"], dtype=torch.float64).reshape(len(spec["bias"]), C, 3, 3, 3)
    b = torch.tensor(spec["bias"], dtype=torch.float64)

    def model(x):
        return torch.tanh(F.conv3d(x, w, b, padding=1))

    out = []
    for c in cases:
        D, H, W = c["shape"]
        x = torch.tensor(c["volume"], dtype=torch.float64).reshape(1, D, H, W, c["channels"]).permute(0, 4, 1, 2, 3)
        with torch.no_grad():
            y = sliding_window_inference(
                x,
                roi_size=c["roi"],
                sw_batch_size=c["sw_batch_size"],
                predictor=model,
                overlap=c["overlap"],
                mode=c["mode"],
                sigma_scale=c["sigma_scale"],
            )
        out.append(y[0].permute(1, 2, 3, 0).numpy().ravel().tolist())
    print(json.dumps({"logits": out}))


if __name__ == "__main__":
    main()
