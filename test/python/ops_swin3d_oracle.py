"""PyTorch oracle for the 3D Swin block pair with memory, written from 3D-MAM-SPEC.md
(c.3 windowing, c.4 bias index rules, c.5 attention with memory, c.7 block), in float64.

For each case: block 0 (unshifted) then block 1 (shifted where the grid allows), with the
MAM memory (q-hat of block 0, in window layout, unaligned across the shift) and without it.
Inputs and weights are rounded to float32 first, so the TypeScript side sees the same
numbers. Writes <dir>/swin3d_oracle.safetensors; metadata "config" holds the cases as JSON.
"""

import json
import math
import sys

import torch
from safetensors.torch import save_file

torch.manual_seed(0)
DT = torch.float64


def f32(t):
    return t.float().double()


def window_cfg(flavour, grid, window, shift):
    if flavour == "swinunetr":  # per axis, at run time (c.3)
        w = [g if g <= window else window for g in grid]
        s = [0 if g <= window else shift for g in grid]
    else:  # one cubic window clamped to the smallest side (b.2)
        side = min(grid)
        w = [side if side <= window else window] * 3
        s = [0 if side <= window else shift] * 3
    padded = [math.ceil(g / a) * a for g, a in zip(grid, w)]
    return w, s, padded


def index(flavour, window, w_eff):
    """c.4: SwinUNETR R7 (top-left N×N used); nnFormer's non-injective rule on w_eff."""
    ww = window if flavour == "swinunetr" else w_eff[0]
    coords = torch.stack(
        torch.meshgrid(torch.arange(ww), torch.arange(ww), torch.arange(ww), indexing="ij")
    ).flatten(1)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (ww - 1)
    if flavour == "swinunetr":
        r = (2 * ww - 1)
        return rel[..., 0] * r * r + rel[..., 1] * r + rel[..., 2], r ** 3
    return rel[..., 0] * (3 * ww - 1) + rel[..., 1] * (2 * ww - 1) + rel[..., 2], (2 * ww - 1) ** 3


def partition(x, w):
    B, D, H, W, C = x.shape
    a, b, c = w
    x = x.view(B, D // a, a, H // b, b, W // c, c, C).permute(0, 1, 3, 5, 2, 4, 6, 7)
    return x.reshape(-1, a * b * c, C)


def reverse(win, w, padded, B):
    a, b, c = w
    D, H, W = padded
    C = win.shape[-1]
    x = win.view(B, D // a, H // b, W // c, a, b, c, C).permute(0, 1, 4, 2, 5, 3, 6, 7)
    return x.reshape(B, D, H, W, C)


def mask(padded, w, s):
    img = torch.zeros(1, *padded, 1, dtype=DT)
    cnt = 0
    sl = [(slice(-w[a]), slice(-w[a], -s[a]), slice(-s[a], None)) for a in range(3)]
    for d in sl[0]:
        for h in sl[1]:
            for x in sl[2]:
                img[:, d, h, x, :] = cnt
                cnt += 1
    ids = partition(img, w).squeeze(-1)
    m = ids[:, None, :] - ids[:, :, None]
    return torch.where(m != 0, torch.tensor(-100.0, dtype=DT), torch.tensor(0.0, dtype=DT))


def ln(x, p, pre):
    return torch.nn.functional.layer_norm(x, x.shape[-1:], p[pre + "weight"], p[pre + "bias"], 1e-5)


def block(x, p, heads, w, s, padded, R, mem):
    B, D, H, W, C = x.shape
    hd = C // heads
    u = ln(x, p, "norm1.")
    u = torch.nn.functional.pad(u, (0, 0, 0, padded[2] - W, 0, padded[1] - H, 0, padded[0] - D))
    shifted = any(v > 0 for v in s)
    if shifted:
        u = torch.roll(u, shifts=(-s[0], -s[1], -s[2]), dims=(1, 2, 3))
    win = partition(u, w)
    Bw, N, _ = win.shape
    qkv = win @ p["attn.qkv.weight"].T + p["attn.qkv.bias"]
    qkv = qkv.reshape(Bw, N, 3, heads, hd).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]
    if mem is not None:
        q = q + mem
    m_out = q
    logits = (q * hd ** -0.5) @ k.transpose(-2, -1)
    table = p["attn.relative_position_bias_table"]
    bias = table[R[:N, :N].reshape(-1)].reshape(N, N, heads).permute(2, 0, 1)
    logits = logits + bias[None]
    if shifted:
        mk = mask(padded, w, s)
        nW = mk.shape[0]
        logits = (logits.view(B, nW, heads, N, N) + mk[None, :, None]).view(-1, heads, N, N)
    o = (logits.softmax(-1) @ v).transpose(1, 2).reshape(Bw, N, C)
    o = o @ p["attn.proj.weight"].T + p["attn.proj.bias"]
    y = reverse(o, w, padded, B)
    if shifted:
        y = torch.roll(y, shifts=tuple(s), dims=(1, 2, 3))
    x = x + y[:, :D, :H, :W, :]
    h = ln(x, p, "norm2.")
    h = h @ p["fc1.weight"].T + p["fc1.bias"]
    h = torch.nn.functional.gelu(h)
    return x + h @ p["fc2.weight"].T + p["fc2.bias"], m_out


def params(C, heads, rows, prefix):
    g = lambda *s, std=0.3, mean=0.0: f32(mean + std * torch.randn(*s, dtype=DT))
    return {
        prefix + "norm1.weight": g(C, std=0.2, mean=1.0),
        prefix + "norm1.bias": g(C, std=0.1),
        prefix + "attn.qkv.weight": g(3 * C, C),
        prefix + "attn.qkv.bias": g(3 * C, std=0.1),
        prefix + "attn.proj.weight": g(C, C),
        prefix + "attn.proj.bias": g(C, std=0.1),
        prefix + "attn.relative_position_bias_table": g(rows, heads, std=0.5),
        prefix + "norm2.weight": g(C, std=0.2, mean=1.0),
        prefix + "norm2.bias": g(C, std=0.1),
        prefix + "fc1.weight": g(4 * C, C),
        prefix + "fc1.bias": g(4 * C, std=0.1),
        prefix + "fc2.weight": g(C, 4 * C, std=0.2),
        prefix + "fc2.bias": g(C, std=0.1),
    }


CASES = [
    # clamped and padded per axis (7,7,5), shift (3,3,0), bias = top-left 245×245 of R7
    {"name": "swinunetr", "flavour": "swinunetr", "grid": [8, 9, 5], "C": 12, "heads": 3, "window": 7},
    {"name": "nnformer", "flavour": "nnformer", "grid": [8, 8, 12], "C": 12, "heads": 3, "window": 4},
]


def main(out_dir):
    tensors = {}
    for case in CASES:
        n = case["name"]
        grid, C, heads, window = case["grid"], case["C"], case["heads"], case["window"]
        w0, s0, pad0 = window_cfg(case["flavour"], grid, window, 0)
        w1, s1, pad1 = window_cfg(case["flavour"], grid, window, window // 2)
        R, rows = index(case["flavour"], window, w1)
        case.update({"window0": w0, "padded0": pad0, "window1": w1, "shift1": s1, "padded1": pad1, "rows": rows})
        x = f32(torch.randn(2, *grid, C, dtype=DT)).requires_grad_()
        p0 = params(C, heads, rows, "b0.")
        p1 = params(C, heads, rows, "b1.")
        for v in (*p0.values(), *p1.values()):
            v.requires_grad_()
        strip = lambda p, pre: {k[len(pre):]: v for k, v in p.items()}
        y0, m0 = block(x, strip(p0, "b0."), heads, w0, [0, 0, 0], pad0, R, None)
        y1, m1 = block(y0, strip(p1, "b1."), heads, w1, s1, pad1, R, m0)
        # gradients of Σ y1·g, through the memory path into block 0 as well
        g = f32(torch.randn_like(y1))
        (y1 * g).sum().backward()
        tensors[f"{n}.g"] = g
        tensors[f"{n}.grad.x"] = x.grad
        for pre, p in (("b0.", p0), ("b1.", p1)):
            for k in ("attn.relative_position_bias_table", "attn.qkv.weight"):
                tensors[f"{n}.grad.{pre}{k}"] = p[pre + k].grad
        y1_sam, _ = block(y0, strip(p1, "b1."), heads, w1, s1, pad1, R, None)
        tensors[f"{n}.x"] = x
        for k, v in {**p0, **p1}.items():
            tensors[f"{n}.{k}"] = v
        tensors[f"{n}.y0"] = y0
        tensors[f"{n}.m0"] = m0
        tensors[f"{n}.y1"] = y1
        tensors[f"{n}.m1"] = m1
        tensors[f"{n}.y1_sam"] = y1_sam
    save_file(
        {k: v.detach().float().contiguous() for k, v in tensors.items()},
        f"{out_dir}/swin3d_oracle.safetensors",
        metadata={"config": json.dumps(CASES)},
    )


if __name__ == "__main__":
    main(sys.argv[1])
