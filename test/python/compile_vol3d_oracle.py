"""Oracles for the compiled 3D models (compile-vol3d-torch.test.ts), in float64.

Usage: compile_vol3d_oracle.py DIR CONFIG_JSON. DIR holds weights.safetensors (a state dict
our model wrote, PyTorch layout and names) and x.npy (the input, channels last). Writes
logits.npy (channels last) and, for MAM models, logits_nomem.npy (the same model with the
memory turned off), plus report.json (which of our keys the oracle used, which it lacks).

* SwinUNETR(-MAM): MONAI's own `SwinUNETR` (monai 1.6.1 from PyPI) with our weights loaded
  by name, its PatchMerging set back to the reference's (MONAI <= 1.4) sub-grid order as
  3D-MAM-SPEC.md (h) says, and for MAM its WindowAttention given the memory of c.5/c.6:
  q-hat = q + m (m reset at the start of every stage), m <- q-hat before scaling.
* nnFormer(-MAM): a functional re-implementation from 3D-MAM-SPEC.md (b.2, c.3-c.10), with
  weights read by key; the window helpers come from ops_swin3d_oracle.py (also from the spec).
"""

import json
import sys

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from ops_swin3d_oracle import index, mask, partition, reverse, window_cfg

DT = torch.float64

# ---------------------------------------------------------------------------------- SwinUNETR

# 3D-MAM-SPEC.md c.8: the reference's (MONAI 0.9-1.4) order of the 8 sub-grids (D, H, W offsets)
MERGE_ORDER_09 = [(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 0, 1), (0, 1, 0), (0, 0, 1), (1, 1, 1)]

MEMORY = {"on": False, "m": None}


def merging_09(self, x):
    b, d, h, w, c = x.shape
    x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2, 0, d % 2))
    x = torch.cat([x[:, a::2, bb::2, cc::2, :] for a, bb, cc in MERGE_ORDER_09], -1)
    return self.reduction(self.norm(x))


def attention_with_memory(self, x, mask):
    """MONAI's WindowAttention (non-flash path) with q-hat = q + m before scaling (c.5)."""
    b, n, c = x.shape
    qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]
    if MEMORY["on"]:
        if MEMORY["m"] is not None:
            q = q + MEMORY["m"]
        MEMORY["m"] = q
    bias = self.relative_position_bias_table[self.relative_position_index[:n, :n].reshape(-1)]
    bias = bias.reshape(n, n, -1).permute(2, 0, 1)
    attn = (q * self.scale) @ k.transpose(-2, -1) + bias.unsqueeze(0)
    if mask is not None:
        nw = mask.shape[0]
        attn = attn.view(b // nw, nw, self.num_heads, n, n) + mask.unsqueeze(1).unsqueeze(0)
        attn = attn.view(-1, self.num_heads, n, n)
    x = (attn.softmax(-1) @ v).transpose(1, 2).reshape(b, n, c)
    return self.proj(x)


def permute_by_pattern(x, pattern):
    """MONAI's swin_unetr imports einops' `rearrange` only for pure axis permutations
    ("b c d h w -> b d h w c"); einops is not in .venv, so this stands in for it."""
    src, dst = (side.split() for side in pattern.split("->"))
    return x.permute(*[src.index(a) for a in dst])


def swinunetr(cfg, sd, x, memory):
    from monai.networks.nets import swin_unetr as su

    su.rearrange = permute_by_pattern
    su.PatchMerging.forward = merging_09
    su.WindowAttention.forward = attention_with_memory
    basic_forward = su.BasicLayer.forward

    def stage_forward(self, y):
        MEMORY["m"] = None  # reset per stage (c.6)
        return basic_forward(self, y)

    su.BasicLayer.forward = stage_forward
    model = su.SwinUNETR(
        in_channels=cfg["inChannels"],
        out_channels=cfg["classes"],
        feature_size=cfg["featureSize"],
        window_size=cfg["window"],
        spatial_dims=3,
    ).to(DT)
    result = model.load_state_dict({k: v.to(DT) for k, v in sd.items()}, strict=False)
    report = {"missing": list(result.missing_keys), "unexpected": list(result.unexpected_keys)}
    model.eval()
    MEMORY["on"] = memory
    with torch.no_grad():
        y = model(x.permute(0, 4, 1, 2, 3))
    MEMORY["on"] = False
    return y.permute(0, 2, 3, 4, 1), report, model.state_dict()


# ----------------------------------------------------------------------------------- nnFormer


class Weights:
    """Our state dict, read by key; records which keys the oracle used."""

    def __init__(self, sd):
        self.sd = {k: v.to(DT) for k, v in sd.items()}
        self.used = set()

    def __call__(self, key):
        self.used.add(key)
        return self.sd[key]


def ln(x, p, pre):
    return F.layer_norm(x, x.shape[-1:], p(pre + "weight"), p(pre + "bias"), 1e-5)


def lin(x, p, pre, bias=True):
    y = x @ p(pre + "weight").T
    return y + p(pre + "bias") if bias else y


def conv(x, p, pre, stride, padding=1):
    """x channels last; Conv3d with PyTorch's padding."""
    y = F.conv3d(x.permute(0, 4, 1, 2, 3), p(pre + "weight"), p(pre + "bias"), stride, padding)
    return y.permute(0, 2, 3, 4, 1)


def conv_t(x, p, pre, k):
    y = F.conv_transpose3d(x.permute(0, 4, 1, 2, 3), p(pre + "weight"), p(pre + "bias"), stride=k)
    return y.permute(0, 2, 3, 4, 1)


def attend(q, k, v, table, R, heads, mk=None):
    """c.5 steps 3-4 on (B', heads, N, hd) parts; q already holds the memory."""
    Bw, _, N, hd = q.shape
    logits = (q * hd**-0.5) @ k.transpose(-2, -1)
    logits = logits + table[R[:N, :N].reshape(-1)].reshape(N, N, heads).permute(2, 0, 1)[None]
    if mk is not None:
        nW = mk.shape[0]
        logits = (logits.view(-1, nW, heads, N, N) + mk[None, :, None]).view(-1, heads, N, N)
    return (logits.softmax(-1) @ v).transpose(1, 2).reshape(Bw, N, heads * hd)


def nn_block(x, p, pre, heads, window, shift, mem):
    """c.7 with nnFormer's windows (b.2): one cubic window clamped to the smallest side."""
    B, D, H, W, C = x.shape
    hd = C // heads
    w, s, padded = window_cfg("nnformer", [D, H, W], window, shift)
    R, _ = index("nnformer", window, w)
    u = F.pad(ln(x, p, pre + "norm1."), (0, 0, 0, padded[2] - W, 0, padded[1] - H, 0, padded[0] - D))
    shifted = any(v > 0 for v in s)
    if shifted:
        u = torch.roll(u, shifts=(-s[0], -s[1], -s[2]), dims=(1, 2, 3))
    win = partition(u, w)
    Bw, N, _ = win.shape
    qkv = lin(win, p, pre + "attn.qkv.").reshape(Bw, N, 3, heads, hd).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]
    if mem is not None:
        q = q + mem
    o = attend(q, k, v, p(pre + "attn.relative_position_bias_table"), R, heads,
               mask(padded, w, s) if shifted else None)
    y = reverse(lin(o, p, pre + "attn.proj."), w, padded, B)
    if shifted:
        y = torch.roll(y, shifts=tuple(s), dims=(1, 2, 3))
    x = x + y[:, :D, :H, :W, :]
    h = F.gelu(lin(ln(x, p, pre + "norm2."), p, pre + "mlp.fc1."))
    return x + lin(h, p, pre + "mlp.fc2."), q


def nn_kv_block(up, skip, p, pre, heads, window):
    """c.9 step 3: queries LN(up) without projection, keys/values from LN(skip), one norm1."""
    B, D, H, W, C = up.shape
    hd = C // heads
    w, _, padded = window_cfg("nnformer", [D, H, W], window, 0)
    R, _ = index("nnformer", window, w)
    pad = (0, 0, 0, padded[2] - W, 0, padded[1] - H, 0, padded[0] - D)
    s_w = partition(F.pad(ln(skip, p, pre + "norm1."), pad), w)
    u_w = partition(F.pad(ln(up, p, pre + "norm1."), pad), w)
    Bw, N, _ = s_w.shape
    kv = lin(s_w, p, pre + "attn.kv.").reshape(Bw, N, 2, heads, hd).permute(2, 0, 3, 1, 4)
    q = u_w.reshape(Bw, N, heads, hd).permute(0, 2, 1, 3)
    o = attend(q, kv[0], kv[1], p(pre + "attn.relative_position_bias_table"), R, heads)
    y = reverse(lin(o, p, pre + "attn.proj."), w, padded, B)[:, :D, :H, :W, :]
    x = up + skip + y
    h = F.gelu(lin(ln(x, p, pre + "norm2."), p, pre + "mlp.fc1."))
    return x + lin(h, p, pre + "mlp.fc2.")


def nnformer(cfg, sd, x, memory):
    p = Weights(sd)
    patch = cfg["patch"]
    heads, windows, depths = cfg["heads"], cfg["windows"], cfg["depths"]
    B, D, H, W, _ = x.shape
    x = F.pad(x, (0, 0, 0, -W % patch[2], 0, -H % patch[1], 0, -D % patch[0]))
    # c.10 stem
    s1 = [patch[0], patch[1] // 2, patch[2] // 2]
    s2 = [patch[0] // 2, patch[1] // 2, patch[2] // 2]
    pe = "model_down.patch_embed."
    y = ln(F.gelu(conv(x, p, pe + "proj1.conv1.", s1)), p, pe + "proj1.norm1.")
    y = ln(F.gelu(conv(y, p, pe + "proj1.conv2.", 1)), p, pe + "proj1.norm2.")
    y = ln(F.gelu(conv(y, p, pe + "proj2.conv1.", s2)), p, pe + "proj2.norm1.")
    y = ln(conv(y, p, pe + "proj2.conv2.", 1), p, pe + "norm.")
    skips = []
    for i, depth in enumerate(depths):
        mem = None
        for j in range(depth):
            pre = f"model_down.layers.{i}.blocks.{j}."
            y, q = nn_block(y, p, pre, heads[i], windows[i], windows[i] // 2 if j % 2 else 0, mem)
            mem = q if memory else None
        skips.append(ln(y, p, f"model_down.norm{i}."))
        if i < len(depths) - 1:  # c.8: GELU before the norm, conv 3^3 stride 2
            pre = f"model_down.layers.{i}.downsample."
            y = conv(ln(F.gelu(y), p, pre + "norm."), p, pre + "reduction.", 2)
    y = skips[-1]
    for k in range(len(depths) - 2, -1, -1):  # c.9, decoder.layers.k from the deepest
        pre = f"decoder.layers.{k}."
        up = conv_t(ln(y, p, pre + "Upsample.norm."), p, pre + "Upsample.up.", 2)
        y = nn_kv_block(up, skips[k], p, pre + "blocks.0.", heads[k], windows[k])
        y, _ = nn_block(y, p, pre + "blocks.1.", heads[k], windows[k], windows[k] // 2, None)
    out = conv_t(y, p, "final.0.up.", tuple(patch))
    report = {"missing": [], "unexpected": sorted(set(sd) - p.used)}
    # the reference's state dict holds each attention block's index buffer (c.4, d) beside the weights
    ref = dict(sd)
    for key in sd:
        if key.endswith("attn.relative_position_bias_table"):
            stage = key.split(".")
            k = int(stage[2])
            grid = [n // (p_ * 2**k) for n, p_ in zip((D, H, W), patch)]
            w, _, _ = window_cfg("nnformer", grid, windows[k], 0)
            R, _ = index("nnformer", windows[k], w)
            ref[key.replace("bias_table", "index")] = R.to(torch.int64).contiguous()
    return out[:, :D, :H, :W, :], report, ref


def main(out_dir, cfg):
    sd = load_file(f"{out_dir}/weights.safetensors")
    x = torch.from_numpy(np.load(f"{out_dir}/x.npy")).to(DT)
    run = swinunetr if cfg["family"] == "swinunetr" else nnformer
    y, report, ref = run(cfg, sd, x, cfg["memory"])
    np.save(f"{out_dir}/logits.npy", y.float().numpy())
    # the reference's state dict of our weights (MONAI's own for SwinUNETR), for `mam import`
    save_file(
        {k: (v.float() if v.is_floating_point() else v).contiguous() for k, v in ref.items()},
        f"{out_dir}/reference.safetensors",
    )
    if cfg["memory"]:
        y0, _, _ = run(cfg, sd, x, False)
        np.save(f"{out_dir}/logits_nomem.npy", y0.float().numpy())
    with open(f"{out_dir}/report.json", "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    torch.set_num_threads(1)
    main(sys.argv[1], json.loads(sys.argv[2]))
