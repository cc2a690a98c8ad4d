"""The PyTorch side of `npm run bench -- peer`: the Swin-Unet-MAM of the test oracle
(test/python/compile_swin_unet_oracle.py, written from MAM-SPEC.md) trained in eager mode
with the paper's loss (0.4*CE + 0.6*Dice over the whole batch) and AdamW, float32.

usage: peer_torch.py CONFIG_JSON

CONFIG_JSON: the oracle's config ({"imageSize", "inChannels", "classes", "embedDim", "depths",
"heads", "window", "patchSize", "mergeMode", "seed"}) plus "batch" and "lr".

Reads commands from stdin, one a line, and answers each with one JSON line on stdout:
  threads N   torch.set_num_threads(N)             -> {"threads": N}
  steps N     N training steps on random batches   -> {"ms": [per-step wall ms], "cpuMs": [CPU ms]}
  quit
so that the JS side can interleave its own steps with these in one run.
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "test", "python"))
from compile_swin_unet_oracle import SwinUnetMam  # noqa: E402


def loss_fn(logits, labels, classes):
    """0.4 * cross-entropy + 0.6 * Dice (background included, sums over the batch), as src/train/loss.ts."""
    ce = F.cross_entropy(logits, labels)
    p = logits.softmax(1)
    g = F.one_hot(labels, classes).permute(0, 3, 1, 2).float()
    dims = (0, 2, 3)
    inter = (p * g).sum(dims)
    dice = 1 - (2 * inter + 1e-5) / ((p * p).sum(dims) + (g * g).sum(dims) + 1e-5)
    return 0.4 * ce + 0.6 * dice.mean()


def main(cfg):
    torch.manual_seed(cfg["seed"])
    model = SwinUnetMam(cfg, "ists", "window")
    model.set_layout("window")
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    B, C, S, K = cfg["batch"], cfg["inChannels"], cfg["imageSize"], cfg["classes"]

    def step():
        x = torch.randn(B, C, S, S)
        y = torch.randint(0, K, (B, S, S))
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y, K)
        loss.backward()
        opt.step()
        return float(loss)

    for line in sys.stdin:
        cmd, *args = line.split()
        if cmd == "threads":
            torch.set_num_threads(int(args[0]))
            out = {"threads": torch.get_num_threads()}
        elif cmd == "steps":
            ms, cpu_ms = [], []
            for _ in range(int(args[0])):
                t0, c0 = time.perf_counter(), time.process_time()
                step()
                ms.append((time.perf_counter() - t0) * 1000)
                cpu_ms.append((time.process_time() - c0) * 1000)
            out = {"ms": ms, "cpuMs": cpu_ms}
        elif cmd == "quit":
            return
        else:
            out = {"error": f"unknown command {cmd}"}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
