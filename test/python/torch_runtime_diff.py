"""Differential check of mam_torch against weights and inputs written by our TypeScript model.

usage: torch_runtime_diff.py GRAPH DIR STEPS LR [eval|train] [f64] [leaky-slope=S]
DIR holds w0.safetensors (the TS model's initial weights), x.npy (NHWC float32; NDHWC for a
volume) and y.npy (labels, int32). Writes DIR/torch_logits.npy (NHWC / NDHWC, before any step;
STEPS 0: only that), DIR/torch_losses.json
and DIR/torch_w{STEPS}.safetensors after STEPS SGD steps (momentum 0.9, weight decay 1e-4,
poly lr from LR over STEPS steps, drop-path off), in float32 on the CPU. The steps run in
evaluation mode, or with `train` in training mode (BatchNorm on batch statistics, updating its
running statistics; the graph's dropout must be 0 for the two sides to agree). With `f64` the
same steps run once more in float64, from the same weights, into DIR/torch64_w{STEPS}.safetensors:
the reference that tells float32 rounding from a difference of the two implementations.
With `leaky-slope=S` the steps (not the logits) run with the LeakyReLUs of MONAI's residual
blocks at slope S (the test takes SwinUNETR's steps at 1, where they have no kink).
"""
import json
import sys

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from mam_torch import GraphModule, load_graph
from mam_torch.loss import segmentation_loss
from mam_torch.modules3d import ResBlock

torch.set_num_threads(2)
graph_file, d, steps, lr = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
mode = sys.argv[5] if len(sys.argv) > 5 else "eval"
flags = sys.argv[6:]
also_f64 = "f64" in flags
slopes = [float(f.split("=", 1)[1]) for f in flags if f.startswith("leaky-slope=")]
# NHWC → NCHW (NDHWC → NCDHW for a volume)
x32 = torch.from_numpy(np.load(f"{d}/x.npy")).movedim(-1, 1).contiguous()
y = torch.from_numpy(np.load(f"{d}/y.npy").astype(np.int64))


def model_at_w0(dtype):
    model = GraphModule(load_graph(graph_file), seed=None)
    model.load_state_dict(load_file(f"{d}/w0.safetensors"), strict=True)
    return model.to(dtype)


def sgd_steps(model, x):
    """STEPS SGD steps on (x, y); the losses."""
    model.train(mode == "train")
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=1e-4)
    losses = []
    for t in range(steps):
        for group in opt.param_groups:
            group["lr"] = lr * (1 - t / steps) ** 0.9
        opt.zero_grad()
        loss, _, _ = segmentation_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def save_state(model, path):
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, path)


model = model_at_w0(torch.float32)
model.eval()  # drop-path off: the TS side runs with training=false too
with torch.no_grad():
    np.save(f"{d}/torch_logits.npy", model(x32).movedim(1, -1).contiguous().numpy())
if steps == 0:  # the logits only
    sys.exit(0)
if slopes:
    ResBlock.negative_slope = slopes[0]
losses = sgd_steps(model, x32)
save_state(model, f"{d}/torch_w{steps}.safetensors")
json.dump(losses, open(f"{d}/torch_losses.json", "w"))
if also_f64:
    model64 = model_at_w0(torch.float64)
    sgd_steps(model64, x32.double())
    save_state(model64, f"{d}/torch64_w{steps}.safetensors")
