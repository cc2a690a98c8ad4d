"""One torch.nn.Module per node kind (MAM-SPEC.md §1–4), and `GraphModule`, which wires
them as the graph file says. Parameter names are the graph's weight keys
(`layers.0.blocks.1.attn.qkv.weight`): node ids are module paths, weight names are the
reference module's, so `state_dict()` is a mam-studio checkpoint and the reverse.

Tensors: the network input is NCHW, logits NCHW (volumes NCDHW: modules3d.py); inside, tokens and memory are [B, L, C]
(memory in its layout: 'window' = rows in the writing block's (window, slot) order of its
rolled grid; 'spatial' = grid order), as in src/ops/attention.ts.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .graph import Graph, NodeInfo
from .kinds import da_widths, effective_window, needs_projection

# ---- window geometry ------------------------------------------------------------------


def partition(x, w):
    """[B, H, W, C] -> [B*nW, w*w, C]: windows row-major, tokens row-major in a window."""
    B, H, W, C = x.shape
    x = x.reshape(B, H // w, w, W // w, w, C).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, w * w, C)


def reverse(xw, w, H, W):
    C = xw.shape[-1]
    B = xw.shape[0] // ((H // w) * (W // w))
    x = xw.reshape(B, H // w, W // w, w, w, C).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(B, H, W, C)


def shift_mask(H, W, w, s):
    def region(p, n):
        return 0 if p < n - w else (1 if p < n - s else 2)

    labels = torch.tensor([[region(r, H) * 3 + region(c, W) for c in range(W)] for r in range(H)],
                          dtype=torch.float32)
    lw = partition(labels.view(1, H, W, 1), w).squeeze(-1)
    diff = lw[:, :, None] != lw[:, None, :]
    return torch.where(diff, torch.tensor(-100.0), torch.tensor(0.0))


class SampleRandomness:
    """Where drop-path draws from. By default torch's global RNG; with `per_sample(seeds)` each
    sample of the batch has its own generator, so a sample's masks depend on its seed alone (not
    on the batch it shares or the process that computes it): N DDP ranks then drop what one
    process with the whole batch drops."""

    def __init__(self):
        self.generators = None

    def per_sample(self, seeds):
        self.generators = None if seeds is None else [torch.Generator().manual_seed(int(s)) for s in seeds]

    def keep_mask(self, x, keep):
        shape = (x.shape[0],) + (1,) * (x.dim() - 1)
        if self.generators is None:
            return x.new_empty(shape).bernoulli_(keep)
        if len(self.generators) != x.shape[0]:
            raise RuntimeError(f"{len(self.generators)} sample seeds for a batch of {x.shape[0]}")
        u = torch.cat([torch.rand(1, generator=g) for g in self.generators])
        return (u < keep).to(dtype=x.dtype, device=x.device).view(shape)


def drop_path(x, rate, training, rng: SampleRandomness):
    """Stochastic depth per sample (timm's rule): keep with 1 - rate, scale by 1 / (1 - rate)."""
    if not training or rate <= 0:
        return x
    keep = 1.0 - rate
    return x * rng.keep_mask(x, keep) / keep


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Attention(nn.Module):
    """Multi-head (memory-)attention on rows [Bw, N, C]; window form has the bias table."""

    def __init__(self, dim, heads, qkv_bias, window=0):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        if window:
            w = window
            self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * w - 1) ** 2, heads))
            r = torch.arange(w * w) // w
            c = torch.arange(w * w) % w
            index = (r[:, None] - r[None, :] + w - 1) * (2 * w - 1) + (c[:, None] - c[None, :] + w - 1)
            self.register_buffer("relative_position_index", index, persistent=False)

    def forward(self, x, mask=None, mem=None):
        Bw, N, C = x.shape
        h, d = self.heads, C // self.heads
        q, k, v = self.qkv(x).reshape(Bw, N, 3, h, d).permute(2, 0, 3, 1, 4)
        if mem is not None:
            q = q + mem.reshape(Bw, N, h, d).transpose(1, 2)
        qhat = q.transpose(1, 2).reshape(Bw, N, C)
        a = (q * d ** -0.5) @ k.transpose(-2, -1)
        if hasattr(self, "relative_position_bias_table"):
            bias = self.relative_position_bias_table[self.relative_position_index.view(-1)]
            a = a + bias.view(N, N, h).permute(2, 0, 1)
        if mask is not None:
            nW = mask.shape[0]
            a = (a.view(Bw // nW, nW, h, N, N) + mask[None, :, None]).view(Bw, h, N, N)
        y = (a.softmax(-1) @ v).transpose(1, 2).reshape(Bw, N, C)
        return self.proj(y), qhat


class Block(nn.Module):
    """Swin (window) or ViT (global) block; a MAM unit when `memory` is set (MAM-SPEC §2)."""

    def __init__(self, info: NodeInfo, window_form: bool, memory: bool, rng: SampleRandomness):
        super().__init__()
        self.rng = rng
        p = info.params
        t = info.in_shapes["in"]
        self.grid, c = t["grid"], t["channels"]
        self.memory = memory
        self.layout = p.get("memoryLayout", "window")
        self.rate = float(p["dropPath"])
        self.w, self.s = effective_window(self.grid, p["window"], p["shift"]) if window_form else (0, 0)
        self.norm1 = nn.LayerNorm(c)
        self.attn = Attention(c, p["heads"], p["qkvBias"], self.w)
        self.norm2 = nn.LayerNorm(c)
        self.mlp = Mlp(c, math.floor(c * p["mlpRatio"]))
        H, W = self.grid
        mask = shift_mask(H, W, self.w, self.s) if self.s else None
        self.register_buffer("attn_mask", mask, persistent=False)

    def _roll(self, g, sign):
        return torch.roll(g, (sign * self.s, sign * self.s), (1, 2)) if self.s else g

    def forward(self, x, mem=None):
        B, L, C = x.shape
        H, W = self.grid
        t = self.norm1(x)
        if self.w:
            xw = partition(self._roll(t.view(B, H, W, C), -1), self.w)
            mw = None
            if mem is not None:
                mw = (mem.reshape(xw.shape) if self.layout == "window"
                      else partition(self._roll(mem.view(B, H, W, C), -1), self.w))
            y, q = self.attn(xw, self.attn_mask, mw)
            y = self._roll(reverse(y, self.w, H, W), 1).reshape(B, L, C)
            if self.layout == "window":
                q = q.reshape(B, L, C)
            else:
                q = self._roll(reverse(q, self.w, H, W), 1).reshape(B, L, C)
        else:
            y, q = self.attn(t, None, mem)
        x = x + drop_path(y, self.rate, self.training, self.rng)
        x = x + drop_path(self.mlp(self.norm2(x)), self.rate, self.training, self.rng)
        return {"out": x, "memOut": q} if self.memory else {"out": x}


class PatchEmbed(nn.Module):
    def __init__(self, info: NodeInfo):
        super().__init__()
        img = info.in_shapes["in"]
        p, c = info.params["patchSize"], info.params["embedDim"]
        self.proj = nn.Conv2d(img["channels"], c, p, p)
        self.norm = nn.LayerNorm(c) if info.params["norm"] else None

    def forward(self, x):
        t = self.proj(x).flatten(2).transpose(1, 2)
        return {"out": self.norm(t) if self.norm is not None else t}


class PositionEmbedding(nn.Module):
    def __init__(self, info: NodeInfo):
        super().__init__()
        t = info.in_shapes["in"]
        self.pos_embed = nn.Parameter(torch.zeros(1, math.prod(t["grid"]), t["channels"]))

    def forward(self, x):
        return {"out": x + self.pos_embed}


class PatchMerging(nn.Module):
    def __init__(self, info: NodeInfo):
        super().__init__()
        self.grid = info.in_shapes["in"]["grid"]
        c = info.in_shapes["in"]["channels"]
        self.norm = nn.LayerNorm(4 * c)
        self.reduction = nn.Linear(4 * c, 2 * c, bias=False)

    def forward(self, x):
        H, W = self.grid
        B, _, C = x.shape
        g = x.view(B, H, W, C)
        cat = torch.cat([g[:, 0::2, 0::2], g[:, 1::2, 0::2], g[:, 0::2, 1::2], g[:, 1::2, 1::2]], -1)
        return {"out": self.reduction(self.norm(cat.reshape(B, -1, 4 * C)))}


def pixel_shuffle_tokens(x, grid, r):
    """[B, H*W, r*r*c] -> [B, rH*rW, c]: out[r*h+p1, r*w+p2, c] = in[h, w, (p1*r+p2)*c + c']."""
    H, W = grid
    B, _, cin = x.shape
    c = cin // (r * r)
    return x.reshape(B, H, W, r, r, c).permute(0, 1, 3, 2, 4, 5).reshape(B, r * H * r * W, c)


class Expanding(nn.Module):
    """Patch expanding (×2, C/2) and final expanding (×s, C): Linear, pixel shuffle, LN."""

    def __init__(self, info: NodeInfo, scale: int, halve: bool):
        super().__init__()
        t = info.in_shapes["in"]
        self.grid, self.scale = t["grid"], scale
        c = t["channels"]
        out_c = c // 2 if halve else c
        self.expand = nn.Linear(c, scale * scale * out_c, bias=False)
        self.norm = nn.LayerNorm(out_c)

    def forward(self, x):
        return {"out": self.norm(pixel_shuffle_tokens(self.expand(x), self.grid, self.scale))}


class _MemoryResampler(nn.Module):
    """Reads memory in its chain's layout to grid order and writes it back (resample.ts)."""

    def __init__(self, info: NodeInfo):
        super().__init__()
        m = info.in_shapes["memIn"]
        self.grid, self.layout = m["grid"], m["layout"]
        out = info.memory_window_out if info.memory_window_out is not None else m["window"]
        self.w_in = m["window"] or out
        self.w_out = out

    def to_grid(self, m):
        H, W = self.grid
        B, _, C = m.shape
        if self.layout == "spatial":
            return m.reshape(B, H, W, C)
        w = effective_window(self.grid, self.w_in, 0)[0]
        return reverse(m.reshape(-1, w * w, C), w, H, W)

    def to_memory(self, g):
        B, H, W, C = g.shape
        if self.layout == "spatial":
            return g.reshape(B, H * W, C)
        w = effective_window([H, W], self.w_out, 0)[0]
        return partition(g, w).reshape(B, H * W, C)


class MemoryMerging(_MemoryResampler):
    def __init__(self, info: NodeInfo):
        super().__init__(info)
        c = info.in_shapes["memIn"]["channels"]
        self.mode = info.params["mode"]
        k = 2 if self.mode == "conv" else 1
        self.norm = nn.LayerNorm(c)
        self.reduction = nn.Conv2d(c, 2 * c, k, k, bias=False)

    def forward(self, memIn):
        g = self.norm(self.to_grid(memIn)).permute(0, 3, 1, 2)
        if self.mode == "avg":
            g = F.avg_pool2d(g, 2)
        elif self.mode == "max":
            g = F.max_pool2d(g, 2)
        return {"memOut": self.to_memory(self.reduction(g).permute(0, 2, 3, 1))}


class MemoryExpanding(_MemoryResampler):
    def __init__(self, info: NodeInfo):
        super().__init__(info)
        c = info.in_shapes["memIn"]["channels"]
        self.expand = nn.Linear(c, 2 * c, bias=False)
        self.norm = nn.LayerNorm(c // 2)

    def forward(self, memIn):
        H, W = self.grid
        g = self.to_grid(memIn)
        B = g.shape[0]
        up = self.norm(pixel_shuffle_tokens(self.expand(g.reshape(B, H * W, -1)), self.grid, 2))
        return {"memOut": self.to_memory(up.reshape(B, 2 * H, 2 * W, -1))}


class Skip(nn.Linear):
    def __init__(self, info: NodeInfo):
        c = info.in_shapes["decoder"]["channels"]
        super().__init__(c + info.in_shapes["encoder"]["channels"], c)

    def forward(self, decoder, encoder):  # noqa: D401 - keyword ports
        return {"out": super().forward(torch.cat([decoder, encoder], -1))}


class LayerNormNode(nn.LayerNorm):
    def __init__(self, info: NodeInfo):
        super().__init__(info.in_shapes["in"]["channels"])

    def forward(self, x):
        return {"out": super().forward(x)}


class SegHead(nn.Conv2d):
    def __init__(self, info: NodeInfo):
        t = info.in_shapes["in"]
        super().__init__(t["channels"], info.params["classes"], 1, bias=False)
        self.grid = t["grid"]

    def forward(self, x):
        B, _, C = x.shape
        H, W = self.grid
        return {"out": super().forward(x.transpose(1, 2).reshape(B, C, H, W))}


# ---- DA-TransUNet kinds (DA-TRANSUNET-MAM-SPEC.md §b–c); images NCHW ------------------------


def standardize(w, eps=1e-5):
    """StdConv2d's weight: each filter minus its mean over √(biased variance + eps), every call."""
    mean = w.mean(dim=(1, 2, 3), keepdim=True)
    var = w.var(dim=(1, 2, 3), keepdim=True, unbiased=False)
    return (w - mean) / torch.sqrt(var + eps)


class StdConv2d(nn.Conv2d):
    def forward(self, x):
        return F.conv2d(x, standardize(self.weight), self.bias, self.stride, self.padding)


class BatchNorm(nn.Module):
    """BatchNorm2d with the running statistics as the only buffers (no num_batches_tracked, which
    the graph does not hold): batch statistics and a momentum update in training, the running
    ones in evaluation."""

    def __init__(self, c, eps, momentum):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))
        self.register_buffer("running_mean", torch.zeros(c))
        self.register_buffer("running_var", torch.ones(c))

    def forward(self, x):
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training, self.momentum, self.eps)


class ConvBnRelu(nn.Module):
    """Conv k×k (padding k//2, no bias) `0` → BatchNorm `1` → ReLU."""

    def __init__(self, cin, cout, kernel, eps, momentum):
        super().__init__()
        self.add_module("0", nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False))
        self.add_module("1", BatchNorm(cout, eps, momentum))

    def forward(self, x):
        return F.relu(self._modules["1"](self._modules["0"](x)))


def _bn(info: NodeInfo):
    return float(info.params["bnEps"]), float(info.params["bnMomentum"])


def _image(info: NodeInfo, port="in"):
    return info.in_shapes[port]


class ResnetRoot(nn.Module):
    def __init__(self, info: NodeInfo):
        super().__init__()
        w = info.params["width"]
        self.conv = StdConv2d(_image(info)["channels"], w, 7, 2, 3, bias=False)
        self.gn = nn.GroupNorm(info.params["groups"], w, eps=1e-6)

    def forward(self, x):
        return {"out": F.relu(self.gn(self.conv(x)))}


class MaxPool(nn.Module):
    def __init__(self, info: NodeInfo):
        super().__init__()
        self.k, self.s, self.p = (info.params[n] for n in ("kernel", "stride", "padding"))

    def forward(self, x):
        return {"out": F.max_pool2d(x, self.k, self.s, self.p)}


class Bottleneck(nn.Module):
    """ResNetV2 unit (post-activation): ReLU(r + GN3(conv3(ReLU(GN2(conv2/s(ReLU(GN1(conv1 x)))))))),
    r = x or GN_proj(downsample/s x); StdConvs, GroupNorm eps 1e-6, GN_proj per channel eps 1e-5."""

    def __init__(self, info: NodeInfo):
        super().__init__()
        p = info.params
        cin, cout, mid, s, g = (_image(info)["channels"], p["outChannels"], p["midChannels"],
                                p["stride"], p["groups"])
        self.gn1 = nn.GroupNorm(g, mid, eps=1e-6)
        self.conv1 = StdConv2d(cin, mid, 1, bias=False)
        self.gn2 = nn.GroupNorm(g, mid, eps=1e-6)
        self.conv2 = StdConv2d(mid, mid, 3, s, 1, bias=False)
        self.gn3 = nn.GroupNorm(g, cout, eps=1e-6)
        self.conv3 = StdConv2d(mid, cout, 1, bias=False)
        if needs_projection(cin, cout, s):
            self.downsample = StdConv2d(cin, cout, 1, s, bias=False)
            self.gn_proj = nn.GroupNorm(cout, cout, eps=1e-5)
        else:
            self.downsample = None

    def forward(self, x):
        r = x if self.downsample is None else self.gn_proj(self.downsample(x))
        y = F.relu(self.gn1(self.conv1(x)))
        y = F.relu(self.gn2(self.conv2(y)))
        return {"out": F.relu(r + self.gn3(self.conv3(y)))}


class ZeroPad(nn.Module):
    def __init__(self, info: NodeInfo):
        super().__init__()
        self.bottom, self.right = info.params["bottom"], info.params["right"]

    def forward(self, x):
        return {"out": F.pad(x, (0, self.right, 0, self.bottom))}


class Conv2dNode(nn.Conv2d):
    def __init__(self, info: NodeInfo):
        p = info.params
        super().__init__(_image(info)["channels"], p["outChannels"], p["kernel"], p["stride"],
                         p["padding"], bias=p["bias"])
        self.standardize = p["standardize"]

    def forward(self, x):
        w = standardize(self.weight) if self.standardize else self.weight
        return {"out": F.conv2d(x, w, self.bias, self.stride, self.padding)}


class ConvBnReluNode(ConvBnRelu):
    def __init__(self, info: NodeInfo):
        super().__init__(_image(info)["channels"], info.params["outChannels"], info.params["kernel"],
                         *_bn(info))

    def forward(self, x):
        return {"out": super().forward(x)}


class PositionAttention(nn.Module):
    """PAM: A = softmax_j(Σ_k Q[k,i]K[k,j]) (no 1/√d), O = V·Aᵀ, out = γ·O + F."""

    def __init__(self, c, d):
        super().__init__()
        self.query_conv = nn.Conv2d(c, d, 1)
        self.key_conv = nn.Conv2d(c, d, 1)
        self.value_conv = nn.Conv2d(c, c, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        B, C, H, W = x.shape
        q = self.query_conv(x).flatten(2)  # [B, d, N]
        k = self.key_conv(x).flatten(2)
        v = self.value_conv(x).flatten(2)  # [B, C, N]
        a = torch.softmax(q.transpose(1, 2) @ k, dim=-1)  # [B, N, N]
        return self.gamma * (v @ a.transpose(1, 2)).view(B, C, H, W) + x


class ChannelAttention(nn.Module):
    """CAM: E = X·Xᵀ, A = softmax(max_b E − E), out = γ·(A·X) + F."""

    def __init__(self):
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        B, C, H, W = x.shape
        f = x.flatten(2)
        e = f @ f.transpose(1, 2)
        a = torch.softmax(e.amax(-1, keepdim=True) - e, dim=-1)
        return self.gamma * (a @ f).view(B, C, H, W) + x


class DaHead(nn.Module):
    """ReLU(conv8(Dropout2d(P + Q))), P = CBR(PAM(CBR x)), Q = CBR(CAM(CBR x)); no residual, no
    side branches conv6/conv7 (the reference discards them)."""

    def __init__(self, info: NodeInfo):
        super().__init__()
        C = _image(info)["channels"]
        c, d = da_widths(C, info.params["reduction"])
        bn = _bn(info)
        self.rate = float(info.params["dropout"])
        self.conv5a = ConvBnRelu(C, c, 3, *bn)
        self.conv5c = ConvBnRelu(C, c, 3, *bn)
        self.sa = PositionAttention(c, d)
        self.sc = ChannelAttention()
        self.conv51 = ConvBnRelu(c, c, 3, *bn)
        self.conv52 = ConvBnRelu(c, c, 3, *bn)
        self.conv8 = nn.Module()
        self.conv8.add_module("1", nn.Conv2d(c, C, 1))

    def forward(self, x):
        p = self.conv51(self.sa(self.conv5a(x)))
        q = self.conv52(self.sc(self.conv5c(x)))
        s = F.dropout2d(p + q, self.rate, self.training)
        return {"out": F.relu(self.conv8._modules["1"](s))}


class PositionEmbeddingMap(nn.Module):
    """The map flattened to tokens (row-major), plus the position table, then dropout."""

    def __init__(self, info: NodeInfo):
        super().__init__()
        img = _image(info)
        self.rate = float(info.params["dropout"])
        self.position_embeddings = nn.Parameter(torch.zeros(1, math.prod(img["spatial"]), img["channels"]))

    def forward(self, x):
        return {"out": F.dropout(x.flatten(2).transpose(1, 2) + self.position_embeddings, self.rate,
                                 self.training)}


class TransUnetAttention(nn.Module):
    def __init__(self, c, heads, qkv_bias):
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(c, c, bias=qkv_bias)
        self.key = nn.Linear(c, c, bias=qkv_bias)
        self.value = nn.Linear(c, c, bias=qkv_bias)
        self.out = nn.Linear(c, c)

    def forward(self, u, mem):
        B, N, C = u.shape
        h, d = self.heads, C // self.heads
        q = self.query(u)
        if mem is not None:
            q = q + mem
        split = lambda t: t.view(B, N, h, d).transpose(1, 2)  # noqa: E731
        a = torch.softmax((split(q) * d ** -0.5) @ split(self.key(u)).transpose(-2, -1), dim=-1)
        return self.out((a @ split(self.value(u))).transpose(1, 2).reshape(B, N, C)), q


class TransUnetBlock(nn.Module):
    """TransUNet's pre-LN ViT block (LN eps 1e-6, exact GELU, MLP dropout); a MAM unit when
    `memory` is set: q̂ = q + m_in on the full-width query, m_out = q̂ (spec §c.5)."""

    def __init__(self, info: NodeInfo, memory: bool):
        super().__init__()
        p = info.params
        c = info.in_shapes["in"]["channels"]
        self.memory = memory
        self.rate = float(p["dropout"])
        self.attention_norm = nn.LayerNorm(c, eps=1e-6)
        self.attn = TransUnetAttention(c, p["heads"], p["qkvBias"])
        self.ffn_norm = nn.LayerNorm(c, eps=1e-6)
        self.ffn = Mlp(c, math.floor(c * p["mlpRatio"]))

    def forward(self, x, mem=None):
        y, q = self.attn(self.attention_norm(x), mem)
        x = x + y
        h = F.dropout(F.gelu(self.ffn.fc1(self.ffn_norm(x))), self.rate, self.training)
        x = x + F.dropout(self.ffn.fc2(h), self.rate, self.training)
        return {"out": x, "memOut": q} if self.memory else {"out": x}


class TokensToMap(nn.LayerNorm):
    def __init__(self, info: NodeInfo):
        t = info.in_shapes["in"]
        super().__init__(t["channels"], eps=1e-6)
        self.grid = t["grid"]

    def forward(self, x):
        B, _, C = x.shape
        return {"out": super().forward(x).transpose(1, 2).reshape(B, C, *self.grid)}


class CupBlock(nn.Module):
    """Bilinear ×2 (align_corners), concat [up, skip], two Conv3×3 → BN → ReLU."""

    def __init__(self, info: NodeInfo):
        super().__init__()
        skip = info.in_shapes.get("skip")
        cin = _image(info)["channels"] + (skip["channels"] if skip else 0)
        o = info.params["outChannels"]
        self.conv1 = ConvBnRelu(cin, o, 3, *_bn(info))
        self.conv2 = ConvBnRelu(o, o, 3, *_bn(info))

    def forward(self, x, skip=None):
        up = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)
        if skip is not None:
            up = torch.cat([up, skip], 1)
        return {"out": self.conv2(self.conv1(up))}


class ImageInput(nn.Module):
    """The network input (NCHW, or NCDHW for a volume); a 1-channel image is repeated to the
    channels the graph takes."""

    def __init__(self, info: NodeInfo):
        super().__init__()
        self.channels = info.params["channels"]

    def forward(self, feed):
        if feed.shape[1] == 1 and self.channels != 1:
            feed = feed.expand(-1, self.channels, *feed.shape[2:])
        return {"out": feed}


FACTORIES = {
    "image-input": ImageInput,
    "patch-embed": PatchEmbed,
    "position-embedding": PositionEmbedding,
    "swin-block": lambda i, rng: Block(i, True, False, rng),
    "mam-swin-block": lambda i, rng: Block(i, True, True, rng),
    "vit-block": lambda i, rng: Block(i, False, False, rng),
    "mam-vit-block": lambda i, rng: Block(i, False, True, rng),
    "patch-merging": PatchMerging,
    "patch-expanding": lambda i: Expanding(i, 2, True),
    "final-expanding": lambda i: Expanding(i, i.params["scale"], False),
    "memory-merging": MemoryMerging,
    "memory-expanding": MemoryExpanding,
    "skip": Skip,
    "layer-norm": LayerNormNode,
    "seg-head": SegHead,
    "resnet-root": ResnetRoot,
    "max-pool": MaxPool,
    "bottleneck": Bottleneck,
    "zero-pad": ZeroPad,
    "conv2d": Conv2dNode,
    "conv-bn-relu": ConvBnReluNode,
    "da-head": DaHead,
    "position-embedding-map": PositionEmbeddingMap,
    "transunet-block": lambda i, _rng: TransUnetBlock(i, False),
    "mam-transunet-block": lambda i, _rng: TransUnetBlock(i, True),
    "tokens-to-map": TokensToMap,
    "cup-block": CupBlock,
}

# the 3D kinds' modules (SwinUNETR, nnFormer) live beside these, in modules3d.py
from .modules3d import FACTORIES_3D  # noqa: E402

FACTORIES.update(FACTORIES_3D)


class GraphModule(nn.Module):
    """The graph as one module: node modules placed at their ids' paths, run in graph order."""

    def __init__(self, graph: Graph, seed: int | None = 0):
        super().__init__()
        self.graph = graph
        self._node_modules: dict[str, nn.Module] = {}
        self.sample_rng = SampleRandomness()
        for nid in graph.order:
            info = graph.nodes[nid]
            if info.kind.role == "output":
                continue
            make = FACTORIES[info.type]
            self._place(nid, make(info, self.sample_rng) if info.kind.role in ("attention", "memory-unit")
                        else make(info))
        self._check_names()
        if seed is not None:
            init_weights(self, seed)

    def _place(self, nid: str, module: nn.Module):
        parts = nid.split(".")
        if any(p == "" for p in parts):
            raise ValueError(f"node '{nid}': an id with an empty path segment cannot name a module")
        parent = self
        for p in parts[:-1]:
            child = parent._modules.get(p)
            if child is None:
                child = nn.Module()
                parent.add_module(p, child)
            parent = child
        last = parts[-1]
        existing = parent._modules.get(last)
        if existing is not None:  # a container made for deeper ids: its children move in
            for name, sub in existing.named_children():
                if hasattr(module, name):
                    raise ValueError(f"node '{nid}': its weights clash with node ids under it ('{nid}.{name}')")
                module.add_module(name, sub)
        if last in parent.__dict__ or last in parent._parameters:
            raise ValueError(f"node '{nid}': its id clashes with a weight of another node")
        parent.add_module(last, module)
        self._node_modules[nid] = module

    def _check_names(self):
        want = {k for k, _ in self.graph.weight_specs()}
        have = set(self.state_dict().keys())
        if want != have:
            raise ValueError(f"internal: module weights differ from the graph's: missing "
                             f"{sorted(want - have)[:3]}, extra {sorted(have - want)[:3]}")

    def forward(self, x):
        """NCHW image → NCHW logits (NCDHW → NCDHW for a volume)."""
        values: dict[tuple, torch.Tensor] = {}
        g = self.graph
        for nid in g.order:
            info = g.nodes[nid]
            if info.kind.role == "output":
                src = info.inputs["logits"]
                return values[src]
            if info.kind.role == "input":
                args = [x]
            else:  # ports in the kind's order; an unconnected optional port (memIn) is None
                args = [values[info.inputs[p.name]] if p.name in info.inputs else None
                        for p in info.kind.inputs]
            for port, t in self._node_modules[nid](*args).items():
                values[(nid, port)] = t
        raise RuntimeError("the graph has no output")


def init_weights(model: GraphModule, seed: int):
    """MAM-SPEC §5: trunc-normal(0.02, ±2 absolute), zeros, ones, uniform ±1/√fan_in (convs)."""
    gen = torch.Generator().manual_seed(seed)
    params = {**dict(model.named_buffers()), **dict(model.named_parameters())}
    with torch.no_grad():
        for key, w in model.graph.weight_specs():
            p = params[key]
            if w.init == "zeros":
                p.zero_()
            elif w.init == "ones":
                p.fill_(1.0)
            elif w.init == "trunc-normal":
                v = torch.randn(p.shape, generator=gen) * 0.02
                bad = v.abs() > 2
                while bad.any():
                    v[bad] = torch.randn(int(bad.sum()), generator=gen) * 0.02
                    bad = v.abs() > 2
                p.copy_(v)
            else:
                bound = 1.0 / math.sqrt(w.fan_in or 1)
                p.copy_((torch.rand(p.shape, generator=gen) * 2 - 1) * bound)
