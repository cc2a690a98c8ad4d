"""The 3D node kinds of SwinUNETR and nnFormer (3D-MAM-SPEC.md; nodes/vol3d-cnn.ts,
nodes/swin3d-block.ts, nodes/nnformer-3d.ts) as the torch runtime sees them: parameters,
ports, and the shape rule with the weights (names and shapes of the reference state dicts,
init rule of MAM-SPEC §5: conv and transposed-conv kernels uniform ±1/√fan_in, PyTorch's
default; Linear trunc-normal 0.02; LayerNorm 1/0; bias tables trunc-normal 0.02).

Grids are (D, H, W); per-sample shapes as in kinds.py. The window geometry mirrors
src/graph/geometry3d.ts and is shared with modules3d.py.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .kinds import (BLOCK, HEADS, Inferred, Kind, Param, Port, Weight, conv_out, fmt,
                    linear_weights, norm_weights, prod, typed_in)

# ---- geometry (src/graph/geometry3d.ts) -------------------------------------------------


@dataclass
class Windows3d:
    window: list  # effective window per axis
    shift: list  # shift per axis (0 where the window covers the axis)
    padded: list  # grid padded at the end of each axis to a multiple of the window

    @property
    def count(self) -> int:
        return prod(self.padded) // prod(self.window)

    @property
    def tokens(self) -> int:
        return prod(self.window)


def _padded(grid, w):
    return [math.ceil(g / a) * a for g, a in zip(grid, w)]


def windows3d(flavour: str, grid, window: int, shift: int) -> Windows3d:
    """SwinUNETR decides per axis (an axis not longer than the window is covered whole, not
    shifted); nnFormer once per stage, from the smallest side (§c.3, §b.2)."""
    if flavour == "nnformer":
        side = min(grid)
        w = [side if side <= window else window] * 3
        s = [0 if side <= window else shift] * 3
    else:
        w = [g if g <= window else window for g in grid]
        s = [0 if g <= window else shift for g in grid]
    return Windows3d(w, s, _padded(grid, w))


def index_rule(flavour: str, window: int, w_eff) -> tuple[list, list, int]:
    """(window the index is built for, strides, table rows) of the linear index rule (§c.4):
    SwinUNETR the nominal window's bijective rule, nnFormer the effective window's
    non-injective one."""
    if flavour == "nnformer":
        w = w_eff[0]
        return [w, w, w], [3 * w - 1, 2 * w - 1, 1], (2 * w - 1) ** 3
    r = 2 * window - 1
    return [window] * 3, [r * r, r, 1], r ** 3


MERGE_OFFSETS = {
    "monai-0.9": [(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 0, 1), (0, 1, 0), (0, 0, 1), (1, 1, 1)],
    # MONAI >= 1.5's PatchMerging (SwinUNETR's default downsample="merging" since the fix)
    "all-eight": [(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (1, 0, 1), (0, 1, 1), (1, 1, 1)],
}

# ---- helpers -------------------------------------------------------------------------------


def volume_in(inputs, socket, port="in"):
    """A 3D image or token grid at `port`, None while unknown, or (problem, port)."""
    s = typed_in(inputs, port, socket, socket)
    if isinstance(s, dict):
        n = len(s["spatial" if socket == "image" else "grid"])
        if n != 3:
            what = "volume" if socket == "image" else "token grid"
            return (f"expects a 3D {what}, got {n}D", port)
    return s


def grid_of(s):
    return list(s["spatial"] if s["kind"] == "image" else s["grid"])


def on_volumes(*ports):
    """A rule over volume inputs: quiet while any is unknown, their problems when not volumes."""
    def wrap(rule):
        def infer(p, inputs):
            vs = [volume_in(inputs, socket, port) for port, socket in ports]
            bad = [v for v in vs if isinstance(v, tuple)]
            if bad:
                return Inferred(problems=bad)
            if any(v is None for v in vs):
                return Inferred()
            return rule(p, *vs)
        return infer
    return wrap


def triple(p, name):
    out = []
    for part in str(p[name]).replace("x", ",").replace("×", ",").split(","):
        try:
            out.append(float(part))
        except ValueError:
            out.append(math.nan)
    return out


def triple_problems(t, what, low=1):
    ok = len(t) == 3 and all(v == v and v == int(v) and v >= low for v in t)
    return [] if ok else [(f"{what} must be three integers ≥ {low} (D,H,W), e.g. 2,2,2", None)]


def triples(p, *names, low=None):
    """The named triple parameters as ints, and their problems (`low`: the least value per name)."""
    low = low or {}
    values = [triple(p, n) for n in names]
    problems = [x for n, t in zip(names, values) for x in triple_problems(t, n, low.get(n, 1))]
    return [[int(v) for v in t] for t in values] if not problems else None, problems


def kernel_weights(prefix, shape, cout, fan, bias):
    """A kernel of `shape` and its bias of `cout`, both PyTorch's default init for `fan`."""
    w = [Weight(f"{prefix}weight", list(shape), "conv-uniform", fan)]
    if bias:
        w.append(Weight(f"{prefix}bias", [cout], "conv-uniform", fan))
    return w


def conv3d_weights(prefix, cout, cin, k, bias):
    return kernel_weights(prefix, [cout, cin, *k], cout, cin * prod(k), bias)


def conv_t3d_weights(prefix, cin, cout, k, bias):
    """ConvTranspose3d (Cin, Cout, k…); PyTorch's fan-in is Cout·kD·kH·kW."""
    return kernel_weights(prefix, [cin, cout, *k], cout, cout * prod(k), bias)


def image3(grid, c):
    return {"out": {"kind": "image", "spatial": list(grid), "channels": c}}


def tokens3(grid, c):
    return {"out": {"kind": "tokens", "grid": list(grid), "channels": c}}


K3, K1 = [3, 3, 3], [1, 1, 1]

# ---- shape rules ---------------------------------------------------------------------------


@on_volumes(("in", "image"))
def infer_conv3d(p, v):
    ts, problems = triples(p, "kernel", "stride", "padding", low={"padding": 0})
    if problems:
        return Inferred(problems=problems)
    k, s, pad = ts
    out = [conv_out(n, k[a], s[a], pad[a]) for a, n in enumerate(grid_of(v))]
    if any(n < 1 for n in out):
        return Inferred(problems=[(f"a {fmt(k)} kernel does not fit the {fmt(grid_of(v))} volume", None)])
    o = p["outChannels"]
    return Inferred(image3(out, o), [], conv3d_weights("", o, v["channels"], k, p["bias"]))


def transposed(socket, prefix=""):
    @on_volumes(("in", socket))
    def infer(p, v):
        ts, problems = triples(p, "kernel")
        if problems:
            return Inferred(problems=problems)
        k, o = ts[0], p["outChannels"]
        out = [n * k[a] for a, n in enumerate(grid_of(v))]
        return Inferred(image3(out, o), [], conv_t3d_weights(prefix, v["channels"], o, k, p["bias"]))
    return infer


def res_block_weights(prefix, cin, cout):
    """MONAI's UnetResBlock (§c.11): conv1 3³, conv2 3³, conv3 1³ when the channels change."""
    return (conv3d_weights(f"{prefix}conv1.conv.", cout, cin, K3, False)
            + conv3d_weights(f"{prefix}conv2.conv.", cout, cout, K3, False)
            + (conv3d_weights(f"{prefix}conv3.conv.", cout, cin, K1, False) if cin != cout else []))


def res_block_infer(prefix):
    @on_volumes(("in", "image"))
    def infer(p, v):
        o = p["outChannels"]
        return Inferred(image3(grid_of(v), o), [], res_block_weights(prefix, v["channels"], o))
    return infer


@on_volumes(("in", "image"), ("skip", "image"))
def infer_unetr_up_block(p, v, skip):
    o = p["outChannels"]
    up = [2 * n for n in grid_of(v)]
    if fmt(up) != fmt(grid_of(skip)):
        return Inferred(problems=[(f"the skip is {fmt(grid_of(skip))} but the up-sampled input is "
                                   f"{fmt(up)}", "skip")])
    return Inferred(image3(up, o), [],
                    conv_t3d_weights("transp_conv.conv.", v["channels"], o, [2, 2, 2], False)
                    + res_block_weights("conv_block.", o + skip["channels"], o))


@on_volumes(("in", "tokens"))
def infer_hidden_norm(_p, v):
    return Inferred(image3(grid_of(v), v["channels"]))


@on_volumes(("in", "image"))
def infer_patch_embed3d(p, v):
    ps, e = p["patch"], p["embedDim"]
    grid = [math.ceil(n / ps) for n in grid_of(v)]
    return Inferred(tokens3(grid, e), [], conv3d_weights("proj.", e, v["channels"], [ps] * 3, True))


def block_windows(p, grid, shift=None) -> Windows3d:
    return windows3d(p["flavour"], grid, p["window"], p["shift"] if shift is None else shift)


def attention_weights(p, c, win: Windows3d, cross):
    heads = p["heads"]
    hidden = math.floor(c * p["mlpRatio"])
    fc = ("fc1", "fc2") if p["flavour"] == "nnformer" else ("linear1", "linear2")
    rows = index_rule(p["flavour"], p["window"], win.window)[2]
    proj = (linear_weights("attn.kv.", c, 2 * c, p["qkvBias"]) if cross
            else linear_weights("attn.qkv.", c, 3 * c, p["qkvBias"]))
    return (norm_weights("norm1.", c)
            + [Weight("attn.relative_position_bias_table", [rows, heads], "trunc-normal")]
            + proj + linear_weights("attn.proj.", c, c, True) + norm_weights("norm2.", c)
            + linear_weights(f"mlp.{fc[0]}.", c, hidden, True)
            + linear_weights(f"mlp.{fc[1]}.", hidden, c, True))


def block_checks(p, c, win: Windows3d):
    problems = []
    if c % p["heads"]:
        problems.append((f"{c} channels are not divisible by {p['heads']} heads", None))
    if any(s >= w for s, w in zip(win.shift, win.window)):
        problems.append((f"shift {','.join(map(str, win.shift))} must be smaller than window "
                         f"{','.join(map(str, win.window))}", None))
    return problems


def block3d_infer(with_memory):
    def infer(p, inputs):
        @on_volumes(("in", "tokens"))
        def rule(p, v):
            grid, c = grid_of(v), v["channels"]
            win = block_windows(p, grid)
            problems = block_checks(p, c, win)
            outputs = tokens3(grid, c)
            mem = inputs.get("memIn") if with_memory else None
            if mem is not None and (mem["kind"] != "memory" or fmt(mem["grid"]) != fmt(grid)
                                    or mem["channels"] != c):
                got = f"{fmt(mem['grid'])}×{mem['channels']}" if mem["kind"] == "memory" else mem["kind"]
                problems.append((f"memory {got} cannot feed a 3D stage at {fmt(grid)}×{c}: memory "
                                 f"is reset per stage", "memIn"))
            if with_memory:
                outputs["memOut"] = {"kind": "memory", "grid": grid, "channels": c, "layout": "window",
                                     "window": max(win.window), "shift": max(win.shift)}
            return Inferred(outputs, problems, attention_weights(p, c, win, False))
        return rule(p, inputs)
    return infer


@on_volumes(("in", "tokens"), ("skip", "tokens"))
def infer_kv_block(p, v, skip):
    p = {**p, "shift": 0}
    grid, c = grid_of(v), v["channels"]
    win = block_windows(p, grid)
    problems = block_checks(p, c, win)
    if fmt(grid_of(skip)) != fmt(grid) or skip["channels"] != c:
        problems.append((f"the skip is {fmt(grid_of(skip))}×{skip['channels']} but the up-sampled "
                         f"tokens are {fmt(grid)}×{c}", "skip"))
    return Inferred(tokens3(grid, c), problems, attention_weights(p, c, win, True))


@on_volumes(("in", "tokens"))
def infer_patch_merging3d(_p, v):
    c = v["channels"]
    return Inferred(tokens3([math.ceil(n / 2) for n in grid_of(v)], 2 * c), [],
                    norm_weights("norm.", 8 * c) + linear_weights("reduction.", 8 * c, 2 * c, False))


def stem_grids(grid, patch):
    """Grids after proj1 (stride 2) and proj2 (stride patch/2) of the padded input."""
    padded = [math.ceil(n / a) * a for n, a in zip(grid, patch)]
    g1 = [conv_out(n, 3, 2, 1) for n in padded]
    g2 = [conv_out(n, 3, a // 2, 1) for n, a in zip(g1, patch)]
    return padded, g1, g2


@on_volumes(("in", "image"))
def infer_nnformer_stem(p, v):
    ts, problems = triples(p, "patch")
    if problems:
        return Inferred(problems=problems)
    patch, e = ts[0], p["embedDim"]
    h = e // 2
    _, _, g2 = stem_grids(grid_of(v), patch)
    w = (conv3d_weights("proj1.conv1.", h, v["channels"], K3, True) + conv3d_weights("proj1.conv2.", h, h, K3, True)
         + norm_weights("proj1.norm1.", h) + norm_weights("proj1.norm2.", h)
         + conv3d_weights("proj2.conv1.", e, h, K3, True) + conv3d_weights("proj2.conv2.", e, e, K3, True)
         + norm_weights("proj2.norm1.", e) + norm_weights("norm.", e))
    return Inferred(tokens3(g2, e), [], w)


@on_volumes(("in", "tokens"))
def infer_nnformer_merging(_p, v):
    c = v["channels"]
    return Inferred(tokens3([conv_out(n, 3, 2, 1) for n in grid_of(v)], 2 * c), [],
                    norm_weights("norm.", c) + conv3d_weights("reduction.", 2 * c, c, K3, True))


@on_volumes(("in", "tokens"))
def infer_nnformer_expanding(_p, v):
    c = v["channels"]
    if c % 2:
        return Inferred(problems=[(f"{c} channels cannot be halved by nnFormer expanding", None)])
    return Inferred(tokens3([2 * n for n in grid_of(v)], c // 2), [],
                    norm_weights("norm.", c) + conv_t3d_weights("up.", c, c // 2, [2, 2, 2], True))


# ---- the kinds -----------------------------------------------------------------------------

IMAGE_IN, IMAGE_OUT = [Port("in", "image")], [Port("out", "image")]
TOKENS_IN, TOKENS_OUT = [Port("in", "tokens")], [Port("out", "tokens")]


def out_channels(default):
    return Param("outChannels", "int", default, 1, 8192)


def triple_param(name, default):
    return Param(name, "string", default)


FLAVOUR = Param("flavour", "enum", "swinunetr", options=("swinunetr", "nnformer"))
WINDOW3D = [Param("window", "int", 7, 1, 16), Param("shift", "int", 0, 0, 15)]
BIAS = Param("bias", "bool", True)

KINDS_3D = [
    Kind("conv3d", "Convolution 3D", "plain",
         [out_channels(48), triple_param("kernel", "3,3,3"), triple_param("stride", "1,1,1"),
          triple_param("padding", "1,1,1"), BIAS], IMAGE_IN, IMAGE_OUT, infer_conv3d),
    Kind("conv-transpose-3d", "Transposed convolution 3D", "upsample",
         [out_channels(48), triple_param("kernel", "2,2,2"), BIAS], IMAGE_IN, IMAGE_OUT,
         transposed("image")),
    Kind("unetr-basic-block", "UNETR basic block", "plain", [out_channels(48)], IMAGE_IN, IMAGE_OUT,
         res_block_infer("layer.")),
    Kind("unet-res-block", "U-Net residual block", "plain", [out_channels(48)], IMAGE_IN, IMAGE_OUT,
         res_block_infer("")),
    Kind("unetr-up-block", "UNETR up block", "upsample", [out_channels(48)],
         IMAGE_IN + [Port("skip", "image")], IMAGE_OUT, infer_unetr_up_block),
    Kind("hidden-norm-3d", "Hidden-state norm", "plain", [], TOKENS_IN, IMAGE_OUT, infer_hidden_norm),
    Kind("patch-embed-3d", "Patch embedding 3D", "plain",
         [Param("patch", "int", 2, 1, 16), Param("embedDim", "int", 48, 1, 4096)], IMAGE_IN,
         TOKENS_OUT, infer_patch_embed3d),
    Kind("swin3d-block", "Swin block 3D", "attention", [HEADS, *WINDOW3D, FLAVOUR, *BLOCK],
         TOKENS_IN, TOKENS_OUT, block3d_infer(False)),
    Kind("mam-swin3d-block", "Memory-attention unit 3D", "memory-unit",
         [HEADS, *WINDOW3D, FLAVOUR, *BLOCK], TOKENS_IN + [Port("memIn", "memory", True)],
         TOKENS_OUT + [Port("memOut", "memory")], block3d_infer(True)),
    Kind("nnformer-kv-block", "Cross-attention block 3D", "attention",
         [HEADS, WINDOW3D[0], Param("flavour", "enum", "nnformer", options=FLAVOUR.options), *BLOCK],
         [Port("in", "tokens"), Port("skip", "tokens")], TOKENS_OUT, infer_kv_block),
    Kind("patch-merging-3d", "Patch merging 3D", "downsample",
         [Param("order", "enum", "monai-0.9", options=tuple(MERGE_OFFSETS))], TOKENS_IN, TOKENS_OUT,
         infer_patch_merging3d),
    Kind("nnformer-stem", "nnFormer stem", "plain",
         [Param("embedDim", "int", 192, 2, 4096), triple_param("patch", "2,4,4")], IMAGE_IN,
         TOKENS_OUT, infer_nnformer_stem),
    Kind("nnformer-merging", "nnFormer down-sampling", "downsample", [], TOKENS_IN, TOKENS_OUT,
         infer_nnformer_merging),
    Kind("nnformer-expanding", "nnFormer expanding", "upsample", [], TOKENS_IN, TOKENS_OUT,
         infer_nnformer_expanding),
    Kind("nnformer-head", "nnFormer head", "upsample",
         [out_channels(5), triple_param("kernel", "2,4,4"), BIAS], TOKENS_IN, IMAGE_OUT,
         transposed("tokens", "up.")),
]
