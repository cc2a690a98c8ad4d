"""Training throughput and memory of the paper's models with the torch runtime on one GPU:
images/s and peak memory at batch 24 (the paper's), in fp32 and in bf16 autocast, for
swin-unet-mam (ISTS) and, with --preset, any preset (da-transunet, da-transunet-mam, ...).

On a GPU machine, from the repository root (mam_torch installed, or PYTHONPATH=python):

    python bench/gpu/swin_unet_mam.py                      # cuda, batch 24, fp32 and bf16
    python bench/gpu/swin_unet_mam.py --preset swin-unet-mam-ists da-transunet da-transunet-mam
    python bench/gpu/swin_unet_mam.py --device cpu --batch 2 --steps 2 --warmup 1   # smoke test

Each setting: --warmup steps, then --steps timed steps (SGD, the paper's loss, drop-path on,
BatchNorm on batch statistics), synchronised; images/s is batch·steps / time. Prints a table per
graph and writes --out (bench/out/gpu-torch.json): one entry per graph.
"""
import argparse
import json
import platform
import time
from pathlib import Path

import torch

from mam_torch import GraphModule, load_graph
from mam_torch.loss import segmentation_loss

ROOT = Path(__file__).resolve().parents[2]


def measure(graph, device, batch, steps, warmup, amp):
    torch.manual_seed(0)
    model = GraphModule(graph, seed=0).to(device).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.05 * batch / 24, momentum=0.9, weight_decay=1e-4)
    c, h, w = graph.input_shape
    k = len(graph.class_names)
    x = torch.rand(batch, c, h, w, device=device)
    y = torch.randint(0, k, (batch, h, w), device=device)
    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=amp):
            logits = model(x)
        loss, _, _ = segmentation_loss(logits.float(), y)
        loss.backward()
        opt.step()
        return loss

    for _ in range(warmup):
        step()
    if cuda:
        torch.cuda.synchronize(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        loss = step()
    if cuda:
        torch.cuda.synchronize(device)
    dt = time.perf_counter() - t0
    if not torch.isfinite(loss):
        raise RuntimeError("the loss is not finite")
    return {
        "precision": "bf16" if amp else "fp32",
        "imagesPerSec": batch * steps / dt,
        "secPerStep": dt / steps,
        "peakMemoryGiB": torch.cuda.max_memory_allocated(device) / 2**30 if cuda else None,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", nargs="+", default=["swin-unet-mam-ists"],
                   help="presets/NAME.json to measure, one after the other")
    p.add_argument("--graph", nargs="+", help="graph files to measure instead of --preset")
    p.add_argument("--out", default=str(ROOT / "bench" / "out" / "gpu-torch.json"))
    p.add_argument("--device", default="cuda")
    p.add_argument("--batch", type=int, default=24)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--precision", choices=["fp32", "bf16", "both"], default="both")
    a = p.parse_args()
    device = torch.device(a.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device here (use --device cpu for a smoke test)")
    torch.backends.cuda.matmul.allow_tf32 = False  # fp32 means fp32
    files = [Path(g) for g in a.graph] if a.graph else [ROOT / "presets" / f"{n}.json" for n in a.preset]
    for f in files:
        if not f.is_file():
            raise SystemExit(f"{f}: no such graph file (--preset names a file of presets/, without .json)")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu"
    runs = []
    for f in files:
        graph = load_graph(str(f))
        rows = [measure(graph, device, a.batch, a.steps, a.warmup, amp)
                for amp in ([False, True] if a.precision == "both" else [a.precision == "bf16"])]
        print(f"{f.name} on {name}, batch {a.batch}, {a.steps} timed steps after {a.warmup}")
        print(f"{'precision':<10}{'images/s':>12}{'s/step':>10}{'peak GiB':>10}")
        for r in rows:
            mem = f"{r['peakMemoryGiB']:.2f}" if r["peakMemoryGiB"] is not None else "-"
            print(f"{r['precision']:<10}{r['imagesPerSec']:>12.1f}{r['secPerStep']:>10.3f}{mem:>10}")
        if len(rows) == 2:
            print(f"bf16 / fp32 images/s: {rows[1]['imagesPerSec'] / rows[0]['imagesPerSec']:.2f}x")
        runs.append({"graph": f.name, "results": rows})
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "device": name, "batch": a.batch, "steps": a.steps, "warmup": a.warmup,
        "torch": torch.__version__, "runs": runs}, indent=2) + "\n")

if __name__ == "__main__":
    main()
