"""Differential-test oracle: a small Swin-Unet with memory-attention (MAM), written in
PyTorch from MAM-SPEC.md (sections 1-4), independently of our TypeScript.

usage: compile_swin_unet_oracle.py OUT_DIR CONFIG_JSON

CONFIG_JSON: {"imageSize", "inChannels", "classes", "embedDim", "depths", "heads", "window",
"patchSize", "batch", "mergeMode", "seed"}.

Module names equal our node ids + weight names (layers.0.blocks.1.attn.qkv.weight,
memory_merging.0.reduction.weight, concat_back_dim.1.weight, output.weight, ...), so the
state dict keys equal the compiled model's. For each wiring W in (ists, sts):
  OUT_DIR/W.safetensors        the state dict (fixed torch seed, random values larger than
                               the usual init so that attention, bias tables and memory matter)
  OUT_DIR/W_x.npy              the input, NHWC float32
  OUT_DIR/W_L_logits.npy       logits, NHWC float32, for memory layout L in (window, spatial)
ISTS: a memory chain per encoder and per decoder stage. STS: one chain through the encoder
(Memory Merging at the crossing) continuing through the decoder (Memory Expanding).
"""
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def partition(x, w):
    """[B, H, W, C] -> [B*nW, w*w, C]: windows row-major, tokens row-major in a window."""
    B, H, W, C = x.shape
    x = x.view(B, H // w, w, W // w, w, C).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, w * w, C)


def reverse(xw, w, H, W):
    """inverse of partition -> [B, H, W, C]"""
    C = xw.shape[-1]
    B = xw.shape[0] // ((H // w) * (W // w))
    x = xw.view(B, H // w, W // w, w, w, C).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(B, H, W, C)


def shift_mask(H, W, w, s):
    """-100 between tokens of a window whose regions of the rolled grid differ (MAM-SPEC §1)."""
    def region(p, n):
        return 0 if p < n - w else (1 if p < n - s else 2)

    labels = torch.tensor([[region(r, H) * 3 + region(c, W) for c in range(W)] for r in range(H)])
    lw = partition(labels.view(1, H, W, 1).float(), w).squeeze(-1)  # [nW, N]
    diff = lw[:, :, None] != lw[:, None, :]
    return torch.where(diff, torch.tensor(-100.0), torch.tensor(0.0))


class Attention(nn.Module):
    def __init__(self, dim, heads, w):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * w - 1) ** 2, heads))
        r = torch.arange(w * w) // w
        c = torch.arange(w * w) % w
        index = (r[:, None] - r[None, :] + w - 1) * (2 * w - 1) + (c[:, None] - c[None, :] + w - 1)
        self.register_buffer("index", index, persistent=False)

    def forward(self, xw, mask, mem_w):
        Bw, N, C = xw.shape
        h = self.heads
        d = C // h
        q, k, v = self.qkv(xw).view(Bw, N, 3, h, d).permute(2, 0, 3, 1, 4)  # each [Bw, h, N, d]
        if mem_w is not None:
            q = q + mem_w.view(Bw, N, h, d).transpose(1, 2)
        qhat = q.transpose(1, 2).reshape(Bw, N, C)
        a = (q * d ** -0.5) @ k.transpose(-2, -1)
        a = a + self.relative_position_bias_table[self.index.view(-1)].view(N, N, h).permute(2, 0, 1)
        if mask is not None:
            nW = mask.shape[0]
            a = (a.view(Bw // nW, nW, h, N, N) + mask[None, :, None]).view(Bw, h, N, N)
        y = (a.softmax(-1) @ v).transpose(1, 2).reshape(Bw, N, C)
        return self.proj(y), qhat


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class MamSwinBlock(nn.Module):
    """Swin block with memory-attention: q^ = q + m_in, m_out = q^ (MAM-SPEC §2)."""

    def __init__(self, dim, grid, heads, window, shift, layout):
        super().__init__()
        H, W = grid
        self.grid = grid
        self.w = min(window, H, W)
        self.s = 0 if min(H, W) <= window else shift
        self.layout = layout
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, self.w)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, 4 * dim)
        self.register_buffer("mask", shift_mask(H, W, self.w, self.s) if self.s else None, persistent=False)

    def roll(self, g, sign):
        return torch.roll(g, (sign * self.s, sign * self.s), (1, 2)) if self.s else g

    def forward(self, x, mem):
        B, L, C = x.shape
        H, W = self.grid
        w = self.w
        xw = partition(self.roll(self.norm1(x).view(B, H, W, C), -1), w)
        mem_w = None
        if mem is not None:
            if self.layout == "window":
                mem_w = mem.reshape(xw.shape)  # rows already in (window, slot) order
            else:
                mem_w = partition(self.roll(mem.view(B, H, W, C), -1), w)
        y, qhat = self.attn(xw, self.mask, mem_w)
        x = x + self.roll(reverse(y, w, H, W), +1).reshape(B, L, C)
        x = x + self.mlp(self.norm2(x))
        if self.layout == "window":
            mem_out = qhat.reshape(B, L, C)
        else:
            mem_out = self.roll(reverse(qhat, w, H, W), +1).reshape(B, L, C)
        return x, mem_out


def memory_to_grid(m, grid, layout, w):
    """memory in its layout -> [B, H, W, C]; window layout: reverse the partition, keep the shift."""
    H, W = grid
    B, L, C = m.shape
    if layout == "spatial":
        return m.view(B, H, W, C)
    return reverse(m.reshape(-1, w * w, C), w, H, W)


def grid_to_memory(g, layout, w):
    B, H, W, C = g.shape
    if layout == "spatial":
        return g.reshape(B, H * W, C)
    return partition(g, w).reshape(B, H * W, C)


class MemoryMerging(nn.Module):
    """LN(C), Conv 2x2 s2 C->2C no bias (or pool + 1x1 conv) (MAM-SPEC §3)."""

    def __init__(self, dim, mode):
        super().__init__()
        self.mode = mode
        self.norm = nn.LayerNorm(dim)
        k = 2 if mode == "conv" else 1
        self.reduction = nn.Conv2d(dim, 2 * dim, k, k, bias=False)

    def forward(self, m, grid, layout, w_in, w_out):
        g = self.norm(memory_to_grid(m, grid, layout, w_in)).permute(0, 3, 1, 2)  # NCHW
        if self.mode == "avg":
            g = F.avg_pool2d(g, 2)
        elif self.mode == "max":
            g = F.max_pool2d(g, 2)
        return grid_to_memory(self.reduction(g).permute(0, 2, 3, 1), layout, w_out)


def pixel_shuffle_tokens(x, grid, r):
    """[B, H*W, r*r*c] -> [B, rH*rW, c]: out[r*h+p1, r*w+p2, c] = in[h, w, (p1*r+p2)*c' + c]."""
    H, W = grid
    B, L, Cin = x.shape
    c = Cin // (r * r)
    return x.view(B, H, W, r, r, c).permute(0, 1, 3, 2, 4, 5).reshape(B, r * H * r * W, c)


class Expanding(nn.Module):
    """Linear(C, r*r*C/.. no bias), pixel shuffle r x r, LN: patch expanding (r=2, C/2) and final (r=p, C)."""

    def __init__(self, dim, r, out_dim):
        super().__init__()
        self.r = r
        self.expand = nn.Linear(dim, r * r * out_dim, bias=False)
        self.norm = nn.LayerNorm(out_dim)

    def forward(self, x, grid):
        return self.norm(pixel_shuffle_tokens(self.expand(x), grid, self.r))


class MemoryExpanding(Expanding):
    def __init__(self, dim):
        super().__init__(dim, 2, dim // 2)

    def forward(self, m, grid, layout, w_in, w_out):
        H, W = grid
        g = memory_to_grid(m, grid, layout, w_in)
        up = super().forward(g.reshape(g.shape[0], H * W, -1), grid)
        return grid_to_memory(up.view(up.shape[0], 2 * H, 2 * W, -1), layout, w_out)


class PatchMerging(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm = nn.LayerNorm(4 * dim)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x, grid):
        H, W = grid
        B, L, C = x.shape
        g = x.view(B, H, W, C)
        # neighbours in (row, col) order (0,0), (1,0), (0,1), (1,1)
        cat = torch.cat([g[:, 0::2, 0::2], g[:, 1::2, 0::2], g[:, 0::2, 1::2], g[:, 1::2, 1::2]], -1)
        return self.reduction(self.norm(cat.view(B, -1, 4 * C)))


class PatchEmbed(nn.Module):
    def __init__(self, cin, dim, p):
        super().__init__()
        self.proj = nn.Conv2d(cin, dim, p, p)
        self.norm = nn.LayerNorm(dim)

    def forward(self, img):  # NCHW
        return self.norm(self.proj(img).flatten(2).transpose(1, 2))


class Stage(nn.Module):
    def __init__(self, dim, grid, depth, heads, window, layout, resample=None, resample_name=None):
        super().__init__()
        self.blocks = nn.ModuleList(
            MamSwinBlock(dim, grid, heads, window, 0 if j % 2 == 0 else window // 2, layout) for j in range(depth)
        )
        if resample_name:
            setattr(self, resample_name, resample)

    def forward(self, x, mem):
        for b in self.blocks:
            x, mem = b(x, mem)
        return x, mem


class SwinUnetMam(nn.Module):
    def __init__(self, cfg, wiring, layout):
        super().__init__()
        self.cfg, self.wiring = cfg, wiring
        n = len(cfg["depths"])
        C0, p, w = cfg["embedDim"], cfg["patchSize"], cfg["window"]
        g0 = cfg["imageSize"] // p
        self.grids = [(g0 >> i, g0 >> i) for i in range(n)]
        self.dims = [C0 * 2**i for i in range(n)]
        self.weff = [min(w, *g) for g in self.grids]
        self.patch_embed = PatchEmbed(cfg["inChannels"], C0, p)
        self.layers = nn.ModuleList(
            Stage(
                self.dims[i], self.grids[i], cfg["depths"][i], cfg["heads"][i], w, layout,
                PatchMerging(self.dims[i]) if i < n - 1 else None, "downsample" if i < n - 1 else None,
            )
            for i in range(n)
        )
        self.norm = nn.LayerNorm(self.dims[-1])
        up = [Expanding(self.dims[-1], 2, self.dims[-1] // 2)]
        for k in range(1, n):
            s = n - 1 - k
            up.append(
                Stage(
                    self.dims[s], self.grids[s], cfg["depths"][s], cfg["heads"][s], w, layout,
                    Expanding(self.dims[s], 2, self.dims[s] // 2) if k < n - 1 else None,
                    "upsample" if k < n - 1 else None,
                )
            )
        self.layers_up = nn.ModuleList(up)
        self.concat_back_dim = nn.ModuleList(
            [nn.Identity()] + [nn.Linear(2 * self.dims[n - 1 - k], self.dims[n - 1 - k]) for k in range(1, n)]
        )
        if wiring == "sts":
            self.memory_merging = nn.ModuleList(MemoryMerging(self.dims[i], cfg["mergeMode"]) for i in range(n - 1))
            self.memory_expanding = nn.ModuleList(
                [nn.Identity()] + [MemoryExpanding(self.dims[n - k]) for k in range(1, n)]
            )
        self.norm_up = nn.LayerNorm(C0)
        self.up = Expanding(C0, p, C0)
        self.output = nn.Conv2d(C0, cfg["classes"], 1, bias=False)

    def set_layout(self, layout):
        for m in self.modules():
            if isinstance(m, MamSwinBlock):
                m.layout = layout
        self.layout = layout

    def forward(self, img):  # NCHW
        n = len(self.dims)
        sts = self.wiring == "sts"
        x = self.patch_embed(img)
        skips, mem = [], None
        for i in range(n):
            skips.append(x)
            if i > 0:
                mem = (
                    self.memory_merging[i - 1](mem, self.grids[i - 1], self.layout, self.weff[i - 1], self.weff[i])
                    if sts else None
                )
            x, mem = self.layers[i](x, mem)
            if i < n - 1:
                x = self.layers[i].downsample(x, self.grids[i])
        x = self.layers_up[0](self.norm(x), self.grids[-1])
        for k in range(1, n):
            s = n - 1 - k
            x = self.concat_back_dim[k](torch.cat([x, skips[s]], -1))
            mem = (
                self.memory_expanding[k](mem, self.grids[s + 1], self.layout, self.weff[s + 1], self.weff[s])
                if sts else None
            )
            x, mem = self.layers_up[k](x, mem)
            if k < n - 1:
                x = self.layers_up[k].upsample(x, self.grids[s])
        x = self.up(self.norm_up(x), self.grids[0])
        size = self.cfg["imageSize"]
        return self.output(x.transpose(1, 2).reshape(x.shape[0], -1, size, size))


def randomize(model):
    """LN scales 1 +- 0.2, vectors +- 0.2, bias tables +- 0.5, matrices 0.8/sqrt(fan_in)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("relative_position_bias_table"):
                p.copy_(0.5 * torch.randn_like(p))
            elif p.dim() == 1:
                is_ln_scale = name.endswith("weight")
                p.copy_((1.0 if is_ln_scale else 0.0) + 0.2 * torch.randn_like(p))
            else:
                p.copy_(0.8 / (p[0].numel() ** 0.5) * torch.randn_like(p))


def main(out_dir, cfg):
    from safetensors.torch import save_file

    torch.set_default_dtype(torch.float64)  # the oracle in float64; files hold float32
    for wiring in ("ists", "sts"):
        torch.manual_seed(cfg["seed"])
        model = SwinUnetMam(cfg, wiring, "window").eval()
        randomize(model)
        with torch.no_grad():
            for p in model.parameters():  # float32-exact values, so both sides see the same weights
                p.copy_(p.float().double())
        state = {k: v.float().contiguous() for k, v in model.state_dict().items()}
        save_file(state, f"{out_dir}/{wiring}.safetensors")
        x = torch.randn(cfg["batch"], cfg["inChannels"], cfg["imageSize"], cfg["imageSize"]).float().double()
        np.save(f"{out_dir}/{wiring}_x.npy", x.permute(0, 2, 3, 1).float().numpy())
        for layout in ("window", "spatial"):
            model.set_layout(layout)
            with torch.no_grad():
                y = model(x)
            np.save(f"{out_dir}/{wiring}_{layout}_logits.npy", y.permute(0, 2, 3, 1).float().numpy())


if __name__ == "__main__":
    main(sys.argv[1], json.loads(sys.argv[2]))
