"""torch modules of the 3D node kinds (3D-MAM-SPEC.md §c): SwinUNETR's patch embedding,
3D Swin SAM/MAM blocks, patch merging, hidden-state norm and MONAI's CNN blocks; nnFormer's
stem, down-sampling, expanding step, cross-attention block and head. Parameter names are
the reference state dicts' (`swinViT.layers1.0.blocks.0.attn.qkv.weight`,
`encoder1.layer.conv1.conv.weight`, `model_down.patch_embed.proj1.conv1.weight`, …).

Volumes are NCDHW; tokens [B, L, C] with L row-major over the (D, H, W) grid; the memory of
a 3D MAM unit is q̂ in its window layout, [B, nW·N, C] over the padded, rolled grid (slot by
slot, so across the shift it is carried unaligned, as the reference does, §c.6).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .graph import NodeInfo
from .kinds3d import MERGE_OFFSETS, index_rule, triple, windows3d
from .modules import SampleRandomness, drop_path

# ---- windows (§c.3) -------------------------------------------------------------------------


def partition3d(x, w):
    """[B, D, H, W, C] → [B·nW, a·b·c, C]: windows row-major over (D, H, W) blocks, tokens
    row-major inside a window."""
    B, D, H, W, C = x.shape
    a, b, c = w
    x = x.view(B, D // a, a, H // b, b, W // c, c, C).permute(0, 1, 3, 5, 2, 4, 6, 7)
    return x.reshape(-1, a * b * c, C)


def reverse3d(xw, w, padded):
    a, b, c = w
    D, H, W = padded
    C = xw.shape[-1]
    x = xw.view(-1, D // a, H // b, W // c, a, b, c, C).permute(0, 1, 4, 2, 5, 3, 6, 7)
    return x.reshape(-1, D, H, W, C)


def shift_mask3d(padded, w, s):
    """(nW, N, N): 0 within a region of the rolled grid, −100 across regions (§c.3)."""
    labels = torch.zeros(1, *padded, 1)
    cuts = [[0, 0, 0, P] if sa == 0 else [0, P - wa, P - sa, P] for P, wa, sa in zip(padded, w, s)]
    region = 0
    for i in range(3):
        for j in range(3):
            for k in range(3):
                labels[:, cuts[0][i]:cuts[0][i + 1], cuts[1][j]:cuts[1][j + 1], cuts[2][k]:cuts[2][k + 1]] = region
                region += 1
    ids = partition3d(labels, w).squeeze(-1)
    return torch.where(ids[:, :, None] != ids[:, None, :], torch.tensor(-100.0), torch.tensor(0.0))


def relative_index3d(window, strides):
    """R[i, j] = Σ_a stride_a·(p_ia − p_ja + w_a − 1) over a window's tokens (§c.4)."""
    pos = torch.stack(torch.meshgrid(*[torch.arange(n) for n in window], indexing="ij")).flatten(1)
    rel = pos[:, :, None] - pos[:, None, :] + torch.tensor(window)[:, None, None] - 1
    return sum(st * rel[a] for a, st in enumerate(strides))


def channels_last_norm(norm, x):
    """LayerNorm over the channels of an NCDHW volume."""
    return norm(x.permute(0, 2, 3, 4, 1)).permute(0, 4, 1, 2, 3)


def tokens_to_volume(x, grid):
    B, _, C = x.shape
    return x.transpose(1, 2).reshape(B, C, *grid)


def volume_to_tokens(x):
    return x.flatten(2).transpose(1, 2)


def pad_to_multiple(x, multiple):
    """Zeros at the end of each spatial axis of an NCDHW volume, up to a multiple."""
    pads = []
    for n, m in zip(reversed(x.shape[2:]), reversed(multiple)):
        pads += [0, (-n) % m]
    return F.pad(x, pads) if any(pads) else x


# ---- attention blocks ------------------------------------------------------------------------


class Mlp3d(nn.Module):
    def __init__(self, dim, hidden, names):
        super().__init__()
        self.names = names
        self.add_module(names[0], nn.Linear(dim, hidden))
        self.add_module(names[1], nn.Linear(hidden, dim))

    def forward(self, x):
        return self._modules[self.names[1]](F.gelu(self._modules[self.names[0]](x)))


class WindowAttention3d(nn.Module):
    """§c.5: q̂ = q + m (before the scaling), logits + bias (+ mask), softmax, ·v, proj.
    `cross`: keys and values from `attn.kv` of the skip, queries the input itself (§c.9)."""

    def __init__(self, dim, heads, qkv_bias, rows, index, cross=False):
        super().__init__()
        self.heads, self.cross = heads, cross
        self.relative_position_bias_table = nn.Parameter(torch.zeros(rows, heads))
        if cross:
            self.kv = nn.Linear(dim, 2 * dim, bias=qkv_bias)
        else:
            self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        self.register_buffer("relative_position_index", index, persistent=False)

    def forward(self, x, mask=None, mem=None, skip=None):
        Bw, N, C = x.shape
        h, d = self.heads, C // self.heads
        if self.cross:
            k, v = self.kv(skip).reshape(Bw, N, 2, h, d).permute(2, 0, 3, 1, 4)
            q = x.reshape(Bw, N, h, d).transpose(1, 2)
        else:
            q, k, v = self.qkv(x).reshape(Bw, N, 3, h, d).permute(2, 0, 3, 1, 4)
        if mem is not None:
            q = q + mem.reshape(Bw, N, h, d).transpose(1, 2)
        a = (q * d ** -0.5) @ k.transpose(-2, -1)
        index = self.relative_position_index[:N, :N].reshape(-1)
        a = a + self.relative_position_bias_table[index].view(N, N, h).permute(2, 0, 1)
        if mask is not None:
            nW = mask.shape[0]
            a = (a.view(Bw // nW, nW, h, N, N) + mask[None, :, None].to(a.dtype)).view(Bw, h, N, N)
        y = (a.softmax(-1) @ v).transpose(1, 2).reshape(Bw, N, C)
        return self.proj(y), q.transpose(1, 2).reshape(Bw, N, C)


class Block3d(nn.Module):
    """3D Swin block of SwinUNETR or nnFormer (§c.7): a MAM unit when `memory` is set; nnFormer's
    decoder cross-attention block 0 when `cross` is set (then shift 0, a skip input, §c.9)."""

    def __init__(self, info: NodeInfo, memory: bool, rng: SampleRandomness, cross=False):
        super().__init__()
        p = info.params
        t = info.in_shapes["in"]
        self.grid, c = list(t["grid"]), t["channels"]
        self.memory, self.cross, self.rng = memory, cross, rng
        self.rate = float(p["dropPath"])
        win = windows3d(p["flavour"], self.grid, p["window"], 0 if cross else p["shift"])
        self.w, self.s, self.padded = win.window, win.shift, win.padded
        built_for, strides, rows = index_rule(p["flavour"], p["window"], win.window)
        self.norm1 = nn.LayerNorm(c)
        self.attn = WindowAttention3d(c, p["heads"], p["qkvBias"], rows,
                                      relative_index3d(built_for, strides), cross)
        self.norm2 = nn.LayerNorm(c)
        hidden = math.floor(c * p["mlpRatio"])
        fc = ("fc1", "fc2") if p["flavour"] == "nnformer" else ("linear1", "linear2")
        self.mlp = Mlp3d(c, hidden, fc)
        self.shifted = any(self.s)
        self.register_buffer("attn_mask", shift_mask3d(self.padded, self.w, self.s) if self.shifted else None,
                             persistent=False)

    def _windows(self, u):
        """Normed tokens → padded, rolled, partitioned windows."""
        B, _, C = u.shape
        g = u.view(B, *self.grid, C)
        g = F.pad(g, (0, 0, *[x for n, P in zip(reversed(self.grid), reversed(self.padded)) for x in (0, P - n)]))
        if self.shifted:
            g = torch.roll(g, [-s for s in self.s], (1, 2, 3))
        return partition3d(g, self.w)

    def _unwindow(self, y, B):
        g = reverse3d(y, self.w, self.padded)
        if self.shifted:
            g = torch.roll(g, list(self.s), (1, 2, 3))
        D, H, W = self.grid
        return g[:, :D, :H, :W].reshape(B, D * H * W, -1)

    def forward(self, x, second=None):
        """(tokens, memory) for SAM/MAM blocks, (up-sampled tokens, skip) for the cross block."""
        B = x.shape[0]
        if self.cross:
            skip = second
            y, _ = self.attn(self._windows(self.norm1(x)), skip=self._windows(self.norm1(skip)))
            x = x + skip
        else:
            mem = second
            y, q = self.attn(self._windows(self.norm1(x)), self.attn_mask,
                             None if mem is None else mem.reshape(-1, math.prod(self.w), x.shape[-1]))
        x = x + drop_path(self._unwindow(y, B), self.rate, self.training, self.rng)
        x = x + drop_path(self.mlp(self.norm2(x)), self.rate, self.training, self.rng)
        if self.memory:
            return {"out": x, "memOut": q.reshape(B, -1, q.shape[-1])}
        return {"out": x}


class PatchMerging3d(nn.Module):
    """§c.8 SwinUNETR: odd sides padded, 8 sub-grids concatenated in the named order, LN, Linear."""

    def __init__(self, info: NodeInfo):
        super().__init__()
        t = info.in_shapes["in"]
        self.grid, c = list(t["grid"]), t["channels"]
        self.offsets = MERGE_OFFSETS[info.params["order"]]
        self.norm = nn.LayerNorm(8 * c)
        self.reduction = nn.Linear(8 * c, 2 * c, bias=False)

    def forward(self, x):
        B, _, C = x.shape
        g = x.view(B, *self.grid, C)
        D, H, W = self.grid
        g = F.pad(g, (0, 0, 0, W % 2, 0, H % 2, 0, D % 2))
        cat = torch.cat([g[:, a::2, b::2, c::2] for a, b, c in self.offsets], -1)
        return {"out": self.reduction(self.norm(cat.reshape(B, -1, 8 * C)))}


# ---- convolutional kinds ---------------------------------------------------------------------


def _holder(**modules):
    """An nn.Module holding `modules` by name (MONAI's `conv1.conv`, TS ids' inner paths)."""
    m = nn.Module()
    for name, sub in modules.items():
        m.add_module(name, sub)
    return m


def _int3(info, name):
    return [int(v) for v in triple(info.params, name)]


class Conv3dNode(nn.Conv3d):
    def __init__(self, info: NodeInfo):
        p = info.params
        super().__init__(info.in_shapes["in"]["channels"], p["outChannels"], _int3(info, "kernel"),
                         _int3(info, "stride"), _int3(info, "padding"), bias=p["bias"])

    def forward(self, x):
        return {"out": super().forward(x)}


class ConvTranspose3dNode(nn.ConvTranspose3d):
    """Kernel = stride; on tokens (nnFormer's head) the input is the token grid as a volume."""

    def __init__(self, info: NodeInfo):
        p, t = info.params, info.in_shapes["in"]
        k = _int3(info, "kernel")
        super().__init__(t["channels"], p["outChannels"], k, k, bias=p["bias"])
        self.tokens_grid = list(t["grid"]) if t["kind"] == "tokens" else None

    def forward(self, x):
        if self.tokens_grid is not None:
            x = tokens_to_volume(x, self.tokens_grid)
        return {"out": super().forward(x)}


class NnformerHead(nn.Module):
    def __init__(self, info: NodeInfo):
        super().__init__()
        self.up = ConvTranspose3dNode(info)

    def forward(self, x):
        return self.up(x)


def _instance_norm(x):
    return F.instance_norm(x, eps=1e-5)


class ResBlock(nn.Module):
    """MONAI's UnetResBlock (§c.11): LReLU(IN(conv2 LReLU(IN(conv1 x))) + r), r = IN(conv3 x) or x."""

    # MONAI's LeakyReLU; the differential test (test/python/torch_runtime_diff.py) steps at 1
    negative_slope = 0.01

    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = _holder(conv=nn.Conv3d(cin, cout, 3, 1, 1, bias=False))
        self.conv2 = _holder(conv=nn.Conv3d(cout, cout, 3, 1, 1, bias=False))
        self.conv3 = _holder(conv=nn.Conv3d(cin, cout, 1, bias=False)) if cin != cout else None

    def forward(self, x):
        a = F.leaky_relu(_instance_norm(self.conv1.conv(x)), self.negative_slope)
        b = _instance_norm(self.conv2.conv(a))
        r = x if self.conv3 is None else _instance_norm(self.conv3.conv(x))
        return F.leaky_relu(b + r, self.negative_slope)


class UnetResBlockNode(ResBlock):
    def __init__(self, info: NodeInfo):
        super().__init__(info.in_shapes["in"]["channels"], info.params["outChannels"])

    def forward(self, x):
        return {"out": super().forward(x)}


class UnetrBasicBlock(nn.Module):
    def __init__(self, info: NodeInfo):
        super().__init__()
        self.layer = ResBlock(info.in_shapes["in"]["channels"], info.params["outChannels"])

    def forward(self, x):
        return {"out": self.layer(x)}


class UnetrUpBlock(nn.Module):
    """ConvT 2³ stride 2 without bias, concat (up, skip), residual block (§c.11)."""

    def __init__(self, info: NodeInfo):
        super().__init__()
        cin, o = info.in_shapes["in"]["channels"], info.params["outChannels"]
        self.transp_conv = _holder(conv=nn.ConvTranspose3d(cin, o, 2, 2, bias=False))
        self.conv_block = ResBlock(o + info.in_shapes["skip"]["channels"], o)

    def forward(self, x, skip):
        return {"out": self.conv_block(torch.cat([self.transp_conv.conv(x), skip], 1))}


class HiddenNorm3d(nn.Module):
    """§c.2: LayerNorm over the channels without weights; tokens → NCDHW volume."""

    def __init__(self, info: NodeInfo):
        super().__init__()
        self.grid = list(info.in_shapes["in"]["grid"])

    def forward(self, x):
        return {"out": tokens_to_volume(F.layer_norm(x, x.shape[-1:]), self.grid)}


class PatchEmbed3d(nn.Module):
    """§c.1: ends zero-padded to a multiple of the patch, conv kernel = stride = patch, bias."""

    def __init__(self, info: NodeInfo):
        super().__init__()
        p = info.params["patch"]
        self.patch = [p, p, p]
        self.proj = nn.Conv3d(info.in_shapes["in"]["channels"], info.params["embedDim"], p, p)

    def forward(self, x):
        return {"out": volume_to_tokens(self.proj(pad_to_multiple(x, self.patch)))}


class NnformerStem(nn.Module):
    """§c.10: proj1 = conv(s2) → GELU → LN → conv → GELU → LN; proj2 = conv(s patch/2) → GELU →
    LN → conv; tokens → LN. Every conv 3³ with padding 1 on both sides, with bias."""

    def __init__(self, info: NodeInfo):
        super().__init__()
        cin, e = info.in_shapes["in"]["channels"], info.params["embedDim"]
        self.patch = _int3(info, "patch")
        h = e // 2
        conv = lambda i, o, s=1: nn.Conv3d(i, o, 3, s, 1)  # noqa: E731
        self.proj1 = _holder(conv1=conv(cin, h, 2), conv2=conv(h, h), norm1=nn.LayerNorm(h),
                             norm2=nn.LayerNorm(h))
        self.proj2 = _holder(conv1=conv(h, e, [a // 2 for a in self.patch]), conv2=conv(e, e),
                             norm1=nn.LayerNorm(e))
        self.norm = nn.LayerNorm(e)

    def forward(self, x):
        p1, p2 = self.proj1, self.proj2
        x = pad_to_multiple(x, self.patch)
        x = channels_last_norm(p1.norm1, F.gelu(p1.conv1(x)))
        x = channels_last_norm(p1.norm2, F.gelu(p1.conv2(x)))
        x = channels_last_norm(p2.norm1, F.gelu(p2.conv1(x)))
        return {"out": self.norm(volume_to_tokens(p2.conv2(x)))}


class NnformerMerging(nn.Module):
    """§c.8 nnFormer: GELU → LN → conv 3³ stride 2 padding 1, C → 2C, bias."""

    def __init__(self, info: NodeInfo):
        super().__init__()
        t = info.in_shapes["in"]
        self.grid, c = list(t["grid"]), t["channels"]
        self.norm = nn.LayerNorm(c)
        self.reduction = nn.Conv3d(c, 2 * c, 3, 2, 1)

    def forward(self, x):
        y = tokens_to_volume(self.norm(F.gelu(x)), self.grid)
        return {"out": volume_to_tokens(self.reduction(y))}


class NnformerExpanding(nn.Module):
    """§c.9 step 1: LN → ConvT 2³ stride 2, C → C/2, bias."""

    def __init__(self, info: NodeInfo):
        super().__init__()
        t = info.in_shapes["in"]
        self.grid, c = list(t["grid"]), t["channels"]
        self.norm = nn.LayerNorm(c)
        self.up = nn.ConvTranspose3d(c, c // 2, 2, 2)

    def forward(self, x):
        return {"out": volume_to_tokens(self.up(tokens_to_volume(self.norm(x), self.grid)))}


FACTORIES_3D = {
    "conv3d": Conv3dNode,
    "conv-transpose-3d": ConvTranspose3dNode,
    "unetr-basic-block": UnetrBasicBlock,
    "unet-res-block": UnetResBlockNode,
    "unetr-up-block": UnetrUpBlock,
    "hidden-norm-3d": HiddenNorm3d,
    "patch-embed-3d": PatchEmbed3d,
    "swin3d-block": lambda i, rng: Block3d(i, False, rng),
    "mam-swin3d-block": lambda i, rng: Block3d(i, True, rng),
    "nnformer-kv-block": lambda i, rng: Block3d(i, False, rng, cross=True),
    "patch-merging-3d": PatchMerging3d,
    "nnformer-stem": NnformerStem,
    "nnformer-merging": NnformerMerging,
    "nnformer-expanding": NnformerExpanding,
    "nnformer-head": NnformerHead,
}
