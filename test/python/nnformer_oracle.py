"""A whole nnFormer(-MAM) written from 3D-MAM-SPEC.md (§c.3–c.10) with plain tensors and
torch.nn.functional, weights read by key, float64; against mam_torch's GraphModule.

usage: nnformer_oracle.py GRAPH_SAM GRAPH_MAM SIZE
The windows, shift mask, index rule and the (memory) block are ops_swin3d_oracle.py's (the
3D block-pair oracle); the stem, down-sampling, expanding step, cross-attention block and
head are here. Prints JSON: sam / mam (max|ours − oracle| / max|oracle|), memory (what the
memory path moves our logits: max|MAM − SAM| / max|SAM|), oracleMemory (the same for the
oracle), samIntoMam (a SAM checkpoint loads into the MAM module: tensors matched), indexSkipped /
indexMismatch (the index buffers of a reference-like state dict, by the spec's rule: skipped as
equal to ours, or differing).
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from ops_swin3d_oracle import block, index, partition, reverse, window_cfg  # noqa: E402

from mam_torch import GraphModule, load_graph  # noqa: E402
from mam_torch.state_import import import_state_dict  # noqa: E402

torch.set_num_threads(2)
DT = torch.float64


def ln(x, p, key):
    return F.layer_norm(x, x.shape[-1:], p[key + ".weight"], p[key + ".bias"], 1e-5)


def ln_channels(x, p, key):  # NCDHW, normalised over C
    return ln(x.permute(0, 2, 3, 4, 1), p, key).permute(0, 4, 1, 2, 3)


def conv(x, p, key, stride):
    return F.conv3d(x, p[key + ".weight"], p[key + ".bias"], stride, 1)


def convt(x, p, key, k):
    return F.conv_transpose3d(x, p[key + ".weight"], p[key + ".bias"], stride=k)


def sub(p, prefix, keep_mlp=False):
    """The weights under `prefix.`; the MLP's keys as the block oracle names them (fc1, fc2)."""
    out = {k[len(prefix) + 1:]: v for k, v in p.items() if k.startswith(prefix + ".")}
    return out if keep_mlp else {k.replace("mlp.", ""): v for k, v in out.items()}


def kv_block(x_up, skip, p, heads, w, padded):
    """§c.9 step 3: k, v from LN(skip), q = LN(x_up) split into heads (no projection), one norm1,
    never shifted; x = x_up + skip + attention; then the MLP."""
    B, D, H, W, C = x_up.shape
    hd = C // heads
    pad = (0, 0, 0, padded[2] - W, 0, padded[1] - H, 0, padded[0] - D)
    s_n = partition(F.pad(ln(skip, p, "norm1"), pad), w)
    u_n = partition(F.pad(ln(x_up, p, "norm1"), pad), w)
    Bw, N, _ = u_n.shape
    kv = (s_n @ p["attn.kv.weight"].T + p["attn.kv.bias"]).reshape(Bw, N, 2, heads, hd).permute(2, 0, 3, 1, 4)
    q = u_n.reshape(Bw, N, heads, hd).transpose(1, 2)
    R, _ = index("nnformer", w[0], w)
    bias = p["attn.relative_position_bias_table"][R[:N, :N].reshape(-1)].reshape(N, N, heads).permute(2, 0, 1)
    a = ((q * hd ** -0.5) @ kv[0].transpose(-2, -1) + bias[None]).softmax(-1)
    o = (a @ kv[1]).transpose(1, 2).reshape(Bw, N, C) @ p["attn.proj.weight"].T + p["attn.proj.bias"]
    x = x_up + skip + reverse(o, w, padded, B)[:, :D, :H, :W]
    h = F.gelu(ln(x, p, "norm2") @ p["mlp.fc1.weight"].T + p["mlp.fc1.bias"])
    return x + h @ p["mlp.fc2.weight"].T + p["mlp.fc2.bias"]


def nnformer(x, p, cfg, memory):
    """§c.10 stem → encoder (memory blocks.0 → blocks.1 per stage) → §c.9 decoder → head."""
    patch = cfg["patch"]
    x = F.pad(x, [v for n, a in zip(reversed(x.shape[2:]), reversed(patch)) for v in (0, (-n) % a)])
    x = ln_channels(F.gelu(conv(x, p, "model_down.patch_embed.proj1.conv1", 2)), p, "model_down.patch_embed.proj1.norm1")
    x = ln_channels(F.gelu(conv(x, p, "model_down.patch_embed.proj1.conv2", 1)), p, "model_down.patch_embed.proj1.norm2")
    x = ln_channels(F.gelu(conv(x, p, "model_down.patch_embed.proj2.conv1", [a // 2 for a in patch])), p,
                    "model_down.patch_embed.proj2.norm1")
    x = conv(x, p, "model_down.patch_embed.proj2.conv2", 1).permute(0, 2, 3, 4, 1)  # B, S, H, W, C
    x = ln(x, p, "model_down.patch_embed.norm")
    skips = []
    n = len(cfg["heads"])
    for i in range(n):
        grid = list(x.shape[1:4])
        mem = None
        for j in range(2):
            w, s, padded = window_cfg("nnformer", grid, cfg["windows"][i], 0 if j == 0 else cfg["windows"][i] // 2)
            R, _ = index("nnformer", cfg["windows"][i], w)
            x, q = block(x, sub(p, f"model_down.layers.{i}.blocks.{j}"), cfg["heads"][i], w, s, padded, R,
                         mem if memory else None)
            mem = q
        skips.append(ln(x, p, f"model_down.norm{i}"))
        if i < n - 1:
            key = f"model_down.layers.{i}.downsample"
            y = ln(F.gelu(x), p, key + ".norm").permute(0, 4, 1, 2, 3)
            x = F.conv3d(y, p[key + ".reduction.weight"], p[key + ".reduction.bias"], stride=2,
                         padding=1).permute(0, 2, 3, 4, 1)
    x = skips[-1]
    for k in range(n - 2, -1, -1):
        key = f"decoder.layers.{k}"
        up = convt(ln(x, p, key + ".Upsample.norm").permute(0, 4, 1, 2, 3), p, key + ".Upsample.up", 2)
        up = up.permute(0, 2, 3, 4, 1)
        grid = list(up.shape[1:4])
        w, _, padded = window_cfg("nnformer", grid, cfg["windows"][k], 0)
        x = kv_block(up, skips[k], sub(p, key + ".blocks.0", keep_mlp=True), cfg["heads"][k], w, padded)
        w, s, padded = window_cfg("nnformer", grid, cfg["windows"][k], cfg["windows"][k] // 2)
        R, _ = index("nnformer", cfg["windows"][k], w)
        x, _ = block(x, sub(p, key + ".blocks.1"), cfg["heads"][k], w, s, padded, R, None)
    return convt(x.permute(0, 4, 1, 2, 3), p, "final.0.up", patch)


def config(graph_file):
    nodes = {n["id"]: n["params"] for n in json.load(open(graph_file))["nodes"]}
    stages = sorted({int(k.split(".")[2]) for k in nodes if k.startswith("model_down.layers.")})
    return {"patch": [int(v) for v in nodes["model_down.patch_embed"]["patch"].split(",")],
            "heads": [nodes[f"model_down.layers.{i}.blocks.0"]["heads"] for i in stages],
            "windows": [nodes[f"model_down.layers.{i}.blocks.0"]["window"] for i in stages]}


def randomised(model):
    """Random weights of the model's names and shapes, as §i randomises: norms off 1/0, biases and
    tables off 0, matrices and kernels normal with unit gain."""
    g = torch.Generator().manual_seed(3)
    out = {}
    for k, v in model.state_dict().items():
        r = torch.randn(v.shape, generator=g, dtype=DT)
        if "relative_position_bias_table" in k:
            v = 0.5 * r
        elif "norm" in k and k.endswith("weight"):
            v = 1 + 0.2 * r
        elif k.endswith("bias"):
            v = 0.1 * r
        else:  # kernels and matrices: unit gain for their fan-in
            v = r / v[0].numel() ** 0.5
        out[k] = v
    return out


def rel(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


def main():
    sam_file, mam_file, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    cfg = config(sam_file)
    sam = GraphModule(load_graph(sam_file), seed=0).double().eval()
    p = randomised(sam)
    # as the reference's state dict: every block's relative_position_index, by the spec's rule (§c.4)
    reference = dict(p)
    for node in json.load(open(sam_file))["nodes"]:
        if node["type"] in ("swin3d-block", "nnformer-kv-block"):
            stage = int(node["id"].split(".")[2])
            grid = list(sam.graph.nodes[node["id"]].in_shapes["in"]["grid"])
            w, _, _ = window_cfg("nnformer", grid, node["params"]["window"], 0)
            n = w[0] ** 3
            reference[f"{node['id']}.attn.relative_position_index"] = index("nnformer", cfg["windows"][stage], w)[0][:n, :n]
    report = import_state_dict(sam, reference)
    mam = GraphModule(load_graph(mam_file), seed=1).double().eval()
    mam_report = import_state_dict(mam, sam.state_dict())
    x = torch.randn(1, 1, size, size, size, generator=torch.Generator().manual_seed(4), dtype=DT)
    with torch.no_grad():
        ref_sam, ref_mam = nnformer(x, p, cfg, False), nnformer(x, p, cfg, True)
        ours_sam, ours_mam = sam(x), mam(x)
    print(json.dumps({"sam": rel(ours_sam, ref_sam), "mam": rel(ours_mam, ref_mam),
                      "memory": rel(ours_mam, ours_sam), "oracleMemory": rel(ref_mam, ref_sam),
                      "samIntoMam": len(mam_report.matched) if mam_report.complete else 0,
                      "indexSkipped": len(report.skipped), "indexMismatch": report.index_mismatch}))


if __name__ == "__main__":
    main()
