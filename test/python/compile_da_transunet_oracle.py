"""Differential-test oracle: DA-TransUNet (SAM) and DA-TransUNet-MAM (RecA-S), written in
PyTorch from DA-TRANSUNET-MAM-SPEC.md (sections a-c, h), independently of our TypeScript.

usage: compile_da_transunet_oracle.py OUT_DIR CONFIG_JSON

CONFIG_JSON: {"imageSize", "inChannels", "classes", "width", "units", "groups", "hidden",
"heads", "layers", "mlpRatio", "headChannels", "decoderChannels", "daReduction", "batch",
"seed", "steps", "lr"}.

The module tree is the reference's (transformer.embeddings.hybrid_model.root.conv, ...,
decoder.blocks.i.conv1.0, segmentation_head.0), including what the reference builds but never
runs: every decoder block's three DA heads (only blocks.0.da3 and blocks.1.da2 run) and each
DA head's conv6/conv7 side branches (computed and discarded). Weights are random and perturbed:
every gamma, BatchNorm running statistic and norm affine is non-trivial.

Writes, for M in (sam, mam):
  OUT_DIR/M.safetensors          the full state dict (buffers included, as torch saves it)
  OUT_DIR/x.npy                  the input, NHWC float32
  OUT_DIR/labels.npy             integer labels [B, H, W] for the training steps
  OUT_DIR/M_logits.npy           eval-mode logits, NHWC
  OUT_DIR/M_trained.safetensors  the state dict after `steps` SGD steps (lr, no momentum) on mean
                                 cross-entropy in training mode (BatchNorm batch statistics and
                                 running-statistic updates; dropout rates set to 0)
  OUT_DIR/M_train_logits.npy     training-mode logits of the first step, NHWC
"""
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn


class StdConv2d(nn.Conv2d):
    """Weight standardisation on every forward: (W - mean) / sqrt(var + 1e-5) per filter."""

    def forward(self, x):
        w = self.weight
        m = w.mean(dim=(1, 2, 3), keepdim=True)
        v = ((w - m) ** 2).mean(dim=(1, 2, 3), keepdim=True)
        return F.conv2d(x, (w - m) / torch.sqrt(v + 1e-5), None, self.stride, self.padding)


class Unit(nn.Module):
    """ResNetV2 bottleneck (post-activation): stride on conv2 and the projection."""

    def __init__(self, cin, cout, cmid, stride, groups):
        super().__init__()
        self.gn1 = nn.GroupNorm(groups, cmid, eps=1e-6)
        self.conv1 = StdConv2d(cin, cmid, 1, bias=False)
        self.gn2 = nn.GroupNorm(groups, cmid, eps=1e-6)
        self.conv2 = StdConv2d(cmid, cmid, 3, stride, 1, bias=False)
        self.gn3 = nn.GroupNorm(groups, cout, eps=1e-6)
        self.conv3 = StdConv2d(cmid, cout, 1, bias=False)
        self.proj = stride != 1 or cin != cout
        if self.proj:
            self.downsample = StdConv2d(cin, cout, 1, stride, bias=False)
            self.gn_proj = nn.GroupNorm(cout, cout, eps=1e-5)

    def forward(self, x):
        r = self.gn_proj(self.downsample(x)) if self.proj else x
        y = F.relu(self.gn1(self.conv1(x)))
        y = F.relu(self.gn2(self.conv2(y)))
        y = self.gn3(self.conv3(y))
        return F.relu(r + y)


class Root(nn.Module):
    def __init__(self, cin, width, groups):
        super().__init__()
        self.conv = StdConv2d(cin, width, 7, 2, 3, bias=False)
        self.gn = nn.GroupNorm(groups, width, eps=1e-6)

    def forward(self, x):
        return F.relu(self.gn(self.conv(x)))


class Hybrid(nn.Module):
    def __init__(self, c):
        super().__init__()
        w, g = c["width"], c["groups"]
        self.root = Root(c["inChannels"], w, g)
        self.body = nn.Module()
        cin = w
        for s, n in enumerate(c["units"]):
            block = nn.Module()
            cout, cmid = w * 4 * 2 ** s, w * 2 ** s
            for u in range(1, n + 1):
                stride = 2 if (u == 1 and s > 0) else 1
                setattr(block, f"unit{u}", Unit(cin, cout, cmid, stride, g))
                cin = cout
            setattr(self.body, f"block{s + 1}", block)
        self.n_units = c["units"]
        self.size = c["imageSize"]

    def forward(self, x):
        feats = []
        x = self.root(x)
        feats.append(x)
        x = F.max_pool2d(x, 3, 2, 0)
        for s, n in enumerate(self.n_units):
            block = getattr(self.body, f"block{s + 1}")
            for u in range(1, n + 1):
                x = getattr(block, f"unit{u}")(x)
            if s < len(self.n_units) - 1:
                right = self.size // 4 // (s + 1)
                if x.shape[-1] != right:  # zero-pad bottom/right (spec b.4b)
                    feat = torch.zeros(x.shape[0], x.shape[1], right, right, dtype=x.dtype)
                    feat[:, :, : x.shape[2], : x.shape[3]] = x
                else:
                    feat = x
                feats.append(feat)
        return x, feats[::-1]


def cbr(cin, cout, eps, momentum):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout, eps=eps, momentum=momentum),
        nn.ReLU(),
    )


class PAM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.query_conv = nn.Conv2d(c, c // 8, 1)
        self.key_conv = nn.Conv2d(c, c // 8, 1)
        self.value_conv = nn.Conv2d(c, c, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        B, C, H, W = x.shape
        q = self.query_conv(x).view(B, -1, H * W).permute(0, 2, 1)
        k = self.key_conv(x).view(B, -1, H * W)
        a = torch.softmax(torch.bmm(q, k), dim=-1)
        v = self.value_conv(x).view(B, -1, H * W)
        o = torch.bmm(v, a.permute(0, 2, 1)).view(B, C, H, W)
        return self.gamma * o + x


class CAM(nn.Module):
    def __init__(self):
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        B, C, H, W = x.shape
        q = x.view(B, C, -1)
        e = torch.bmm(q, q.permute(0, 2, 1))
        e = torch.max(e, -1, keepdim=True)[0].expand_as(e) - e
        a = torch.softmax(e, dim=-1)
        return self.gamma * torch.bmm(a, q).view(B, C, H, W) + x


class DAHead(nn.Module):
    """DANetHead(C, C), inner c = C // reduction; conv6/conv7 are computed and discarded."""

    def __init__(self, C, reduction, drop):
        super().__init__()
        c = C // reduction
        self.conv5a = cbr(C, c, 1e-3, 0.95)
        self.conv5c = cbr(C, c, 1e-3, 0.95)
        self.sa = PAM(c)
        self.sc = CAM()
        self.conv51 = cbr(c, c, 1e-3, 0.95)
        self.conv52 = cbr(c, c, 1e-3, 0.95)
        self.conv6 = nn.Sequential(nn.Dropout2d(drop), nn.Conv2d(c, C, 1), nn.ReLU())
        self.conv7 = nn.Sequential(nn.Dropout2d(drop), nn.Conv2d(c, C, 1), nn.ReLU())
        self.conv8 = nn.Sequential(nn.Dropout2d(drop), nn.Conv2d(c, C, 1), nn.ReLU())

    def forward(self, x):
        p = self.conv51(self.sa(self.conv5a(x)))
        self.conv6(p)  # discarded (spec h4)
        q = self.conv52(self.sc(self.conv5c(x)))
        self.conv7(q)  # discarded
        return self.conv8(p + q)


class Attention(nn.Module):
    def __init__(self, D, heads):
        super().__init__()
        self.h = heads
        self.query = nn.Linear(D, D)
        self.key = nn.Linear(D, D)
        self.value = nn.Linear(D, D)
        self.out = nn.Linear(D, D)

    def forward(self, x, memory, use_memory):
        B, N, D = x.shape
        q = self.query(x)
        if use_memory:
            q = q + (memory if memory is not None else torch.zeros_like(q))
        mem_out = q
        split = lambda t: t.view(B, N, self.h, D // self.h).permute(0, 2, 1, 3)
        s = split(q) @ split(self.key(x)).transpose(-1, -2) / (D // self.h) ** 0.5
        ctx = (torch.softmax(s, -1) @ split(self.value(x))).permute(0, 2, 1, 3).reshape(B, N, D)
        return self.out(ctx), mem_out


class Block(nn.Module):
    def __init__(self, D, heads, hidden, drop):
        super().__init__()
        self.attention_norm = nn.LayerNorm(D, eps=1e-6)
        self.ffn_norm = nn.LayerNorm(D, eps=1e-6)
        self.ffn = nn.Module()
        self.ffn.fc1 = nn.Linear(D, hidden)
        self.ffn.fc2 = nn.Linear(hidden, D)
        self.attn = Attention(D, heads)
        self.drop = nn.Dropout(drop)

    def forward(self, x, memory, use_memory):
        a, m = self.attn(self.attention_norm(x), memory, use_memory)
        x = x + a
        h = self.drop(F.gelu(self.ffn.fc1(self.ffn_norm(x))))
        return x + self.drop(self.ffn.fc2(h)), m


class DecoderBlock(nn.Module):
    def __init__(self, cin, skip, cout, heads_of, reduction, drop):
        super().__init__()
        self.conv1 = cbr(cin + skip, cout, 1e-5, 0.1)
        self.conv2 = cbr(cout, cout, 1e-5, 0.1)
        # the reference builds all three heads in every block (spec h2)
        for name, C in heads_of.items():
            setattr(self, name, DAHead(C, reduction, drop))

    def forward(self, x, skip, da):
        x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)
        if skip is not None:
            if da is not None:
                skip = getattr(self, da)(skip)
            x = torch.cat([x, skip], 1)
        return self.conv2(self.conv1(x))


class DATransUNet(nn.Module):
    def __init__(self, c, memory, drop=0.1):
        super().__init__()
        D = c["hidden"]
        self.memory = memory
        self.transformer = nn.Module()
        emb = nn.Module()
        emb.hybrid_model = Hybrid(c)
        w = c["width"]
        emb.patch_embeddings = nn.Conv2d(w * 4 * 2 ** (len(c["units"]) - 1), D, 1)
        emb.DAblock1 = DAHead(D, c["daReduction"], drop / 2)
        g = c["imageSize"] // 16
        emb.position_embeddings = nn.Parameter(torch.zeros(1, g * g, D))
        self.transformer.embeddings = emb
        enc = nn.Module()
        enc.layer = nn.ModuleList(
            [Block(D, c["heads"], int(D * c["mlpRatio"]), drop) for _ in range(c["layers"])]
        )
        enc.encoder_norm = nn.LayerNorm(D, eps=1e-6)
        self.transformer.encoder = enc
        self.emb_drop = nn.Dropout(drop)
        self.decoder = nn.Module()
        self.decoder.conv_more = cbr(D, c["headChannels"], 1e-5, 0.1)
        dec = c["decoderChannels"]
        ins = [c["headChannels"]] + dec[:-1]
        skips = [w * 8, w * 4, w, 0]  # S1, S2, S3, none
        heads_of = {"da": 64, "da2": w * 4, "da3": w * 8}
        self.decoder.blocks = nn.ModuleList(
            [DecoderBlock(ins[i], skips[i], dec[i], heads_of, c["daReduction"], drop / 2) for i in range(4)]
        )
        self.segmentation_head = nn.Sequential(nn.Conv2d(dec[-1], c["classes"], 3, padding=1), nn.Identity())

    def forward(self, x):
        emb = self.transformer.embeddings
        y, feats = emb.hybrid_model(x)
        y = emb.DAblock1(emb.patch_embeddings(y))
        B, D, h, w = y.shape
        t = self.emb_drop(y.flatten(2).transpose(1, 2) + emb.position_embeddings)
        m = None
        for blk in self.transformer.encoder.layer:
            t, m = blk(t, m, self.memory)
        t = self.transformer.encoder.encoder_norm(t)
        y = self.decoder.conv_more(t.transpose(1, 2).reshape(B, D, h, w))
        for i, blk in enumerate(self.decoder.blocks):
            skip = feats[i] if i < 3 else None
            y = blk(y, skip, ["da3", "da2", None, None][i])
        return self.segmentation_head(y)


def perturb(model, gen):
    """Random values everywhere; norm affines near 1, running stats and gammas non-trivial."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.numel() == 0:
                continue
            leaf = name.rsplit(".", 1)[-1]
            if name.endswith("gamma"):
                p.copy_(0.5 + 0.3 * torch.randn(p.shape, generator=gen))
            elif leaf == "weight" and p.dim() == 1:  # GN / BN / LN scale
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=gen))
            elif leaf == "bias" or p.dim() == 1:
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            elif "position_embeddings" in name:
                p.copy_(0.5 * torch.randn(p.shape, generator=gen))
            elif "hybrid_model" in name:
                # StdConv: the forward ignores the raw scale, the gradient scales as 1/std, so
                # unit-std raw weights keep SGD's relative steps as small as elsewhere
                p.copy_(torch.randn(p.shape, generator=gen))
            else:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=gen) / fan_in ** 0.5)
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(0.3 * torch.randn(b.shape, generator=gen))
            elif name.endswith("running_var"):
                b.copy_(0.5 + torch.rand(b.shape, generator=gen))


def nhwc(t):
    return t.detach().permute(0, 2, 3, 1).contiguous().numpy().astype(np.float32)


def main():
    out, c = sys.argv[1], json.loads(sys.argv[2])
    torch.manual_seed(c["seed"])
    gen = torch.Generator().manual_seed(c["seed"])
    S, B = c["imageSize"], c["batch"]
    x = torch.randn(B, c["inChannels"], S, S, generator=gen)
    labels = torch.randint(0, c["classes"], (B, S, S), generator=gen)
    np.save(f"{out}/x.npy", nhwc(x))
    np.save(f"{out}/labels.npy", labels.numpy().astype(np.int32))
    base = DATransUNet(c, memory=False)
    perturb(base, gen)
    state = {k: v.clone() for k, v in base.state_dict().items()}
    for name, memory in (("sam", False), ("mam", True)):
        model = DATransUNet(c, memory=memory)
        model.load_state_dict(state)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, f"{out}/{name}.safetensors")
        model.eval()
        with torch.no_grad():
            np.save(f"{out}/{name}_logits.npy", nhwc(model(x)))
        if c["steps"] == 0:
            continue
        # training: dropout off (its draws are not comparable), BatchNorm in batch-statistics mode
        trained = DATransUNet(c, memory=memory, drop=0.0)
        trained.load_state_dict(state)
        trained.train()
        opt = torch.optim.SGD(trained.parameters(), lr=c["lr"])
        for step in range(c["steps"]):
            opt.zero_grad()
            logits = trained(x)
            if step == 0:
                np.save(f"{out}/{name}_train_logits.npy", nhwc(logits))
            F.cross_entropy(logits, labels).backward()
            opt.step()
        save_file(
            {k: v.contiguous() for k, v in trained.state_dict().items()},
            f"{out}/{name}_trained.safetensors",
        )


if __name__ == "__main__":
    main()
