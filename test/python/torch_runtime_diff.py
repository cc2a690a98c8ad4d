"""Differential check of mam_torch against weights and inputs written by our TypeScript model.

usage: torch_runtime_diff.py GRAPH DIR STEPS LR [eval|train]
DIR holds w0.safetensors (the TS model's initial weights), x.npy (NHWC float32; NDHWC for a
volume) and y.npy (labels, int32). Writes DIR/torch_logits.npy (NHWC / NDHWC, before any step), DIR/torch_losses.json
and DIR/torch_w{STEPS}.safetensors after STEPS SGD steps (momentum 0.9, weight decay 1e-4,
poly lr from LR over STEPS steps, drop-path off), in float32 on the CPU. The steps run in
evaluation mode, or with `train` in training mode (BatchNorm on batch statistics, updating its
running statistics; the graph's dropout must be 0 for the two sides to agree).
"""
import json
import sys

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from mam_torch import GraphModule, load_graph
from mam_torch.loss import segmentation_loss

torch.set_num_threads(2)
graph_file, d, steps, lr = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
mode = sys.argv[5] if len(sys.argv) > 5 else "eval"
model = GraphModule(load_graph(graph_file), seed=None)
model.load_state_dict(load_file(f"{d}/w0.safetensors"), strict=True)
model.eval()  # drop-path off: the TS side runs with training=false too
x = torch.from_numpy(np.load(f"{d}/x.npy"))
x = x.movedim(-1, 1).contiguous()  # NHWC → NCHW (NDHWC → NCDHW for a volume)
y = torch.from_numpy(np.load(f"{d}/y.npy").astype(np.int64))
with torch.no_grad():
    np.save(f"{d}/torch_logits.npy", model(x).movedim(1, -1).contiguous().numpy())
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
save_file({k: v.contiguous() for k, v in model.state_dict().items()}, f"{d}/torch_w{steps}.safetensors")
json.dump(losses, open(f"{d}/torch_losses.json", "w"))
