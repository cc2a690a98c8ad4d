"""The node catalogue as the torch runtime sees it: for every node kind of
mam-studio (nodes/*.ts), its parameters with defaults and bounds, its ports,
and its shape rule, which also yields the weights (names and shapes as the
reference PyTorch modules store them, with the init rule of MAM-SPEC §5).

Shapes are per sample, as in src/graph/node-kind.ts:
  {"kind": "image", "spatial": [H, W], "channels": C}
  {"kind": "tokens", "grid": [H, W], "channels": C}
  {"kind": "memory", "grid": [...], "channels": C, "layout": "window"|"spatial",
   "window": w_eff of the writing unit (0 from a resampler), "shift": s}
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

DEFAULT_CLASS_NAMES = [
    "background", "aorta", "gallbladder", "left kidney", "right kidney",
    "liver", "pancreas", "spleen", "stomach",
]


@dataclass
class Param:
    name: str
    type: str  # int | float | enum | bool | string | string[]
    default: object
    min: float | None = None
    max: float | None = None
    options: tuple = ()


@dataclass
class Port:
    name: str
    socket: str
    optional: bool = False


@dataclass
class Weight:
    name: str
    shape: list
    init: str  # trunc-normal | zeros | ones | conv-uniform
    fan_in: int | None = None
    state: bool = False  # a running statistic (a buffer, not a trainable parameter)


@dataclass
class Inferred:
    outputs: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)  # (message, port or None)
    weights: list = field(default_factory=list)


@dataclass
class Kind:
    type: str
    title: str
    role: str
    params: list
    inputs: list
    outputs: list
    infer: Callable[[dict, dict], Inferred]


def fmt(grid) -> str:
    return "×".join(str(g) for g in grid)


def prod(xs) -> int:
    return math.prod(xs) if xs else 1


def linear_weights(prefix, fin, fout, bias):
    w = [Weight(f"{prefix}weight", [fout, fin], "trunc-normal")]
    if bias:
        w.append(Weight(f"{prefix}bias", [fout], "zeros"))
    return w


def norm_weights(prefix, c):
    return [Weight(f"{prefix}weight", [c], "ones"), Weight(f"{prefix}bias", [c], "zeros")]


def typed_in(inputs, port, kind, what):
    """The shape at `port`, None while unknown, or (problem, port) when another kind arrives."""
    s = inputs.get(port)
    if s is None:
        return None
    if s["kind"] != kind:
        return (f"expects {what}, got {s['kind']}", port)
    return s


def tokens_in(inputs, port="in"):
    return typed_in(inputs, port, "tokens", "tokens")


def effective_window(grid, window, shift):
    side = min(grid)
    return (side, 0) if side <= window else (window, shift)


def window_problems(grid, window, shift):
    if window < 1:
        return [f"window {window} is not a positive integer"]
    out = []
    if any(g % window for g in grid):
        out.append(f"token grid {fmt(grid)} is not divisible by window {window}")
    if shift < 0 or shift >= window:
        out.append(f"shift {shift} must be smaller than window {window}")
    return out


def on_input(read):
    """A shape rule on the input that `read` takes from port 'in': nothing to say while it is
    unknown, the port's problem when something else arrives. The rule gets (params, shape,
    all inputs)."""
    def wrap(rule):
        def infer(p, inputs):
            t = read(inputs)
            if t is None:
                return Inferred()
            if isinstance(t, tuple):
                return Inferred(problems=[t])
            return rule(p, t, inputs)
        return infer
    return wrap


on_tokens = on_input(tokens_in)


def on_memory(rule):
    """The same for memory resampling nodes, on the memory at port 'memIn'."""
    def infer(p, inputs):
        m = inputs.get("memIn")
        if m is None:
            return Inferred()
        if m["kind"] != "memory":
            return Inferred(problems=[(f"expects memory, got {m['kind']}", "memIn")])
        return rule(p, m)
    return infer


# ---- shape rules, one per kind (as nodes/*.ts) ----------------------------------------


def infer_image_input(p, _inputs):
    hw = [p["height"], p["width"]]
    spatial = [p["depth"], *hw] if p["depth"] > 0 else hw
    return Inferred(outputs={"out": {"kind": "image", "spatial": spatial, "channels": p["channels"]}})


def infer_patch_embed(p, inputs):
    img = inputs.get("in")
    if img is None:
        return Inferred()
    if img["kind"] != "image":
        return Inferred(problems=[(f"expects an image, got {img['kind']}", "in")])
    ps, c = p["patchSize"], p["embedDim"]
    problems = []
    if any(s % ps for s in img["spatial"]):
        problems.append((f"image {fmt(img['spatial'])} is not divisible by patch size {ps}", None))
    kernel = [ps for _ in img["spatial"]]
    fan = img["channels"] * prod(kernel)
    w = [
        Weight("proj.weight", [c, img["channels"], *kernel], "conv-uniform", fan),
        Weight("proj.bias", [c], "conv-uniform", fan),
    ]
    if p["norm"]:
        w += norm_weights("norm.", c)
    grid = [s // ps for s in img["spatial"]]
    return Inferred({"out": {"kind": "tokens", "grid": grid, "channels": c}}, problems, w)


@on_tokens
def infer_position_embedding(_p, t, _inputs):
    return Inferred(
        {"out": {"kind": "tokens", "grid": t["grid"], "channels": t["channels"]}},
        [],
        [Weight("pos_embed", [1, prod(t["grid"]), t["channels"]], "trunc-normal")],
    )


def _check_memory_in(mem, grid, c, layout, window, problems):
    if mem is None:
        return
    if mem["kind"] != "memory":
        problems.append((f"expects memory, got {mem['kind']}", "memIn"))
        return
    if fmt(mem["grid"]) != fmt(grid) or mem["channels"] != c:
        larger, smaller = prod(mem["grid"]) > prod(grid), prod(mem["grid"]) < prod(grid)
        fix = ("insert Memory Merging" if larger else
               "insert Memory Expanding" if smaller else "the channel counts must agree")
        problems.append((f"memory {fmt(mem['grid'])}×{mem['channels']} cannot feed a stage at "
                         f"{fmt(grid)}×{c}: {fix}", "memIn"))
        return
    if mem["layout"] != layout:
        problems.append((f"memory chain mixes layouts: the incoming memory is in {mem['layout']} "
                         f"layout, this unit uses {layout}", "memIn"))
        return
    if layout == "window" and mem["window"] > 0 and mem["window"] != window:
        problems.append((f"window-layout memory from a window-{mem['window']} unit cannot feed a "
                         f"window-{window} unit: use the same window or the spatial layout", "memIn"))


def block_infer(form, with_memory):
    @on_tokens
    def infer(p, t, inputs):
        grid, c = t["grid"], t["channels"]
        problems = []
        heads = p["heads"]
        if c % heads:
            problems.append((f"{c} channels are not divisible by {heads} heads", None))
        w_eff, s_eff, table = 0, 0, None
        if form == "window":
            w_eff, s_eff = effective_window(grid, p["window"], p["shift"])
            problems += [(m, None) for m in window_problems(grid, w_eff, s_eff)]
            table = Weight("attn.relative_position_bias_table",
                           [(2 * w_eff - 1) ** len(grid), heads], "trunc-normal")
        hidden = math.floor(c * p["mlpRatio"])
        outputs = {"out": {"kind": "tokens", "grid": grid, "channels": c}}
        if with_memory:
            layout = p["memoryLayout"]
            _check_memory_in(inputs.get("memIn"), grid, c, layout, w_eff, problems)
            outputs["memOut"] = {"kind": "memory", "grid": grid, "channels": c, "layout": layout,
                                 "window": w_eff, "shift": s_eff}
        weights = (norm_weights("norm1.", c) + ([table] if table else [])
                   + linear_weights("attn.qkv.", c, 3 * c, p["qkvBias"])
                   + linear_weights("attn.proj.", c, c, True) + norm_weights("norm2.", c)
                   + linear_weights("mlp.fc1.", c, hidden, True)
                   + linear_weights("mlp.fc2.", hidden, c, True))
        return Inferred(outputs, problems, weights)
    return infer


@on_tokens
def infer_patch_merging(_p, t, _inputs):
    c, n = t["channels"], 2 ** len(t["grid"])
    problems = []
    if any(g % 2 for g in t["grid"]):
        problems.append((f"token grid {fmt(t['grid'])} cannot be halved: every side must be even", None))
    grid = [g // 2 for g in t["grid"]]
    return Inferred({"out": {"kind": "tokens", "grid": grid, "channels": 2 * c}}, problems,
                    norm_weights("norm.", n * c) + linear_weights("reduction.", n * c, 2 * c, False))


def expand_infer(fixed_scale, halve):
    @on_tokens
    def infer(p, t, _inputs):
        scale = fixed_scale or p["scale"]
        c = t["channels"]
        problems = []
        if halve and c % 2:
            problems.append((f"{c} channels cannot be halved by patch expanding", None))
        out_c = c // 2 if halve else c
        expanded = scale ** len(t["grid"]) * out_c
        return Inferred({"out": {"kind": "tokens", "grid": [g * scale for g in t["grid"]],
                                 "channels": out_c}}, problems,
                        linear_weights("expand.", c, expanded, False) + norm_weights("norm.", out_c))
    return infer


@on_memory
def infer_memory_merging(p, m):
    c = m["channels"]
    kernel = [2 if p["mode"] == "conv" else 1 for _ in m["grid"]]
    problems = []
    if any(g % 2 for g in m["grid"]):
        problems.append((f"memory grid {fmt(m['grid'])} cannot be halved: every side must be even", None))
    out = {"kind": "memory", "grid": [g // 2 for g in m["grid"]], "channels": 2 * c,
           "layout": m["layout"], "window": 0, "shift": 0}
    return Inferred({"memOut": out}, problems, norm_weights("norm.", c) + [
        Weight("reduction.weight", [2 * c, c, *kernel], "conv-uniform", c * prod(kernel))])


@on_memory
def infer_memory_expanding(_p, m):
    c = m["channels"]
    out_c = c // 2
    problems = [(f"{c} memory channels cannot be halved", None)] if c % 2 else []
    out = {"kind": "memory", "grid": [g * 2 for g in m["grid"]], "channels": out_c,
           "layout": m["layout"], "window": 0, "shift": 0}
    return Inferred({"memOut": out}, problems,
                    linear_weights("expand.", c, 2 ** len(m["grid"]) * out_c, False)
                    + norm_weights("norm.", out_c))


def infer_skip(_p, inputs):
    d, e = tokens_in(inputs, "decoder"), tokens_in(inputs, "encoder")
    bad = [x for x in (d, e) if isinstance(x, tuple)]
    if bad:
        return Inferred(problems=bad)
    if d is None or e is None:
        return Inferred()
    problems = []
    if fmt(d["grid"]) != fmt(e["grid"]) or d["channels"] != e["channels"]:
        problems.append((f"token grids do not match at the skip: decoder {fmt(d['grid'])}×"
                         f"{d['channels']}, encoder {fmt(e['grid'])}×{e['channels']}", "encoder"))
    c = d["channels"]
    return Inferred({"out": {"kind": "tokens", "grid": d["grid"], "channels": c}}, problems,
                    linear_weights("", d["channels"] + e["channels"], c, True))


@on_tokens
def infer_layer_norm(_p, t, _inputs):
    return Inferred({"out": dict(t)}, [], norm_weights("", t["channels"]))


@on_tokens
def infer_seg_head(p, t, _inputs):
    k = p["classes"]
    ones = [1 for _ in t["grid"]]
    return Inferred({"out": {"kind": "image", "spatial": t["grid"], "channels": k}}, [],
                    [Weight("weight", [k, t["channels"], *ones], "conv-uniform", t["channels"])])


def infer_output(p, inputs):
    k, names = p["classes"], p["classNames"]
    problems = []
    if len(names) != k:
        problems.append((f"{k} classes but {len(names)} class names: give one name per class", None))
    dupes = [n for i, n in enumerate(names) if names.index(n) != i]
    if dupes:
        problems.append((f"class names must be unique: '{dupes[0]}' repeats", None))
    x = inputs.get("logits")
    if x is not None and x["kind"] != "image":
        problems.append((f"expects logits, got {x['kind']}", "logits"))
    elif x is not None and x["channels"] != k:
        problems.append((f"the head gives {x['channels']} logits per pixel but the output has {k} classes",
                         "logits"))
    return Inferred(problems=problems)


# ---- DA-TransUNet kinds (DA-TRANSUNET-MAM-SPEC.md; nodes/*.ts of issue 11) ----------------


def conv_out(n, kernel, stride=1, padding=0):
    return (n + 2 * padding - kernel) // stride + 1


def conv_weights(prefix, cout, cin, k, bias):
    fan = cin * k * k
    w = [Weight(f"{prefix}weight", [cout, cin, k, k], "conv-uniform", fan)]
    if bias:
        w.append(Weight(f"{prefix}bias", [cout], "conv-uniform", fan))
    return w


def batch_norm_weights(prefix, c):
    return norm_weights(prefix, c) + [Weight(f"{prefix}running_mean", [c], "zeros", state=True),
                                      Weight(f"{prefix}running_var", [c], "ones", state=True)]


def image_in(inputs, port="in"):
    s = typed_in(inputs, port, "image", "an image")
    if isinstance(s, dict) and len(s["spatial"]) != 2:
        return (f"expects a 2D image, got {len(s['spatial'])}D", port)
    return s


on_image = on_input(image_in)  # as onImage in nodes/shared/cnn.ts


def image_out(spatial, channels):
    return {"out": {"kind": "image", "spatial": list(spatial), "channels": channels}}


@on_image
def infer_resnet_root(p, img, _inputs):
    w, g = p["width"], p["groups"]
    problems = [(f"width {w} is not divisible by {g} groups", None)] if w % g else []
    return Inferred(image_out([conv_out(n, 7, 2, 3) for n in img["spatial"]], w), problems,
                    conv_weights("conv.", w, img["channels"], 7, False) + norm_weights("gn.", w))


@on_image
def infer_max_pool(p, img, _inputs):
    k, s, pad = p["kernel"], p["stride"], p["padding"]
    if 2 * pad > k:
        return Inferred(problems=[(f"padding {pad} must be at most half the kernel {k}", None)])
    out = [conv_out(n, k, s, pad) for n in img["spatial"]]
    if any(n < 1 for n in out):
        return Inferred(problems=[(f"a {k}×{k} window does not fit the {fmt(img['spatial'])} image", None)])
    return Inferred(image_out(out, img["channels"]))


def needs_projection(cin, cout, stride):
    return stride != 1 or cin != cout


@on_image
def infer_bottleneck(p, img, _inputs):
    cout, mid, s, g = p["outChannels"], p["midChannels"], p["stride"], p["groups"]
    cin = img["channels"]
    problems = [(f"{c} channels are not divisible by {g} groups", None) for c in (mid, cout) if c % g]
    w = (norm_weights("gn1.", mid) + conv_weights("conv1.", mid, cin, 1, False)
         + norm_weights("gn2.", mid) + conv_weights("conv2.", mid, mid, 3, False)
         + norm_weights("gn3.", cout) + conv_weights("conv3.", cout, mid, 1, False))
    if needs_projection(cin, cout, s):
        w += conv_weights("downsample.", cout, cin, 1, False) + norm_weights("gn_proj.", cout)
    return Inferred(image_out([conv_out(n, 3, s, 1) for n in img["spatial"]], cout), problems, w)


@on_image
def infer_zero_pad(p, img, _inputs):
    h, w = img["spatial"]
    return Inferred(image_out([h + p["bottom"], w + p["right"]], img["channels"]))


@on_image
def infer_conv2d(p, img, _inputs):
    k, s, pad, o = p["kernel"], p["stride"], p["padding"], p["outChannels"]
    out = [conv_out(n, k, s, pad) for n in img["spatial"]]
    if any(n < 1 for n in out):
        return Inferred(problems=[(f"a {k}×{k} kernel does not fit the {fmt(img['spatial'])} image", None)])
    return Inferred(image_out(out, o), [], conv_weights("", o, img["channels"], k, p["bias"]))


@on_image
def infer_conv_bn_relu(p, img, _inputs):
    k, o = p["kernel"], p["outChannels"]
    if k % 2 == 0:
        return Inferred(problems=[(f"kernel {k} must be odd (same-size padding)", None)])
    return Inferred(image_out(img["spatial"], o), [],
                    conv_weights("0.", o, img["channels"], k, False) + batch_norm_weights("1.", o))


def da_widths(C, reduction):
    """Inner width c = C // reduction, PAM query/key width c // 8 (DANet's integer division)."""
    c = C // reduction
    return c, c // 8


@on_image
def infer_da_head(p, img, _inputs):
    C = img["channels"]
    c, d = da_widths(C, p["reduction"])
    if d < 1:
        return Inferred(problems=[(f"{C} channels / reduction leave {c} inner channels: PAM needs at "
                                   f"least 8", None)])

    def cbr(prefix, cin):
        return conv_weights(f"{prefix}.0.", c, cin, 3, False) + batch_norm_weights(f"{prefix}.1.", c)

    w = (cbr("conv5a", C) + cbr("conv5c", C)
         + conv_weights("sa.query_conv.", d, c, 1, True) + conv_weights("sa.key_conv.", d, c, 1, True)
         + conv_weights("sa.value_conv.", c, c, 1, True)
         + [Weight("sa.gamma", [1], "zeros"), Weight("sc.gamma", [1], "zeros")]
         + cbr("conv51", c) + cbr("conv52", c) + conv_weights("conv8.1.", C, c, 1, True))
    return Inferred(image_out(img["spatial"], C), [], w)


@on_image
def infer_position_embedding_map(_p, img, _inputs):
    c = img["channels"]
    return Inferred({"out": {"kind": "tokens", "grid": list(img["spatial"]), "channels": c}}, [],
                    [Weight("position_embeddings", [1, prod(img["spatial"]), c], "zeros")])


# TransUNet's names for the ViT block's weights (nodes/shared/transunet.ts).
TRANSUNET_RENAMES = [("norm1.", "attention_norm."), ("attn.proj.", "attn.out."),
                     ("norm2.", "ffn_norm."), ("mlp.", "ffn.")]


def transunet_infer(with_memory):
    vit = block_infer("global", with_memory)

    def infer(p, inputs):
        r = vit(p, inputs)
        weights = []
        for w in r.weights:
            if w.name.startswith("attn.qkv."):
                leaf = w.name[len("attn.qkv."):]
                c = w.shape[0] // 3
                weights += [Weight(f"attn.{part}.{leaf}", [c, *w.shape[1:]], w.init, w.fan_in)
                            for part in ("query", "key", "value")]
                continue
            new = next((to + w.name[len(fr):] for fr, to in TRANSUNET_RENAMES if w.name.startswith(fr)),
                       w.name)
            weights.append(Weight(new, w.shape, w.init, w.fan_in))
        return Inferred(r.outputs, r.problems, weights)
    return infer


@on_tokens
def infer_tokens_to_map(_p, t, _inputs):
    if len(t["grid"]) != 2:
        return Inferred(problems=[(f"expects a 2D token grid, got {len(t['grid'])}D", None)])
    return Inferred(image_out(t["grid"], t["channels"]), [], norm_weights("", t["channels"]))


def infer_cup_block(p, inputs):
    img, skip = image_in(inputs), image_in(inputs, "skip")
    bad = [x for x in (img, skip) if isinstance(x, tuple)]
    if bad:
        return Inferred(problems=bad)
    if img is None:
        return Inferred()
    o = p["outChannels"]
    up = [2 * n for n in img["spatial"]]
    problems = []
    if skip is not None and fmt(skip["spatial"]) != fmt(up):
        problems.append((f"the skip is {fmt(skip['spatial'])} but the up-sampled map is {fmt(up)}",
                         "skip"))
    cin = img["channels"] + (skip["channels"] if skip else 0)
    return Inferred(image_out(up, o), problems,
                    conv_weights("conv1.0.", o, cin, 3, False) + batch_norm_weights("conv1.1.", o)
                    + conv_weights("conv2.0.", o, o, 3, False) + batch_norm_weights("conv2.1.", o))


# ---- the catalogue ---------------------------------------------------------------------

HEADS = Param("heads", "int", 3, 1, 64)
WINDOW = [Param("window", "int", 7, 1, 32), Param("shift", "int", 0, 0, 31)]
BLOCK = [Param("mlpRatio", "float", 4, 0.25, 16), Param("qkvBias", "bool", True),
         Param("dropPath", "float", 0, 0, 0.95)]
LAYOUT = Param("memoryLayout", "enum", "window", options=("window", "spatial"))
CLASSES = Param("classes", "int", len(DEFAULT_CLASS_NAMES), 1, 1024)
TOKENS_IN = [Port("in", "tokens")]
TOKENS_OUT = [Port("out", "tokens")]
MEM_IN = TOKENS_IN + [Port("memIn", "memory", True)]
MEM_OUT = TOKENS_OUT + [Port("memOut", "memory")]
VIT_HEADS = Param("heads", "int", 6, 1, 64)
IMAGE_IN = [Port("in", "image")]
IMAGE_OUT = [Port("out", "image")]
GROUPS = Param("groups", "int", 32, 1, 1024)
DROPOUT = Param("dropout", "float", 0.1, 0, 0.95)
TRANSUNET = [Param("heads", "int", 12, 1, 64), *BLOCK[:2], DROPOUT]


def out_channels(default):
    return Param("outChannels", "int", default, 1, 8192)


def window_params(kernel, stride, padding):
    return [Param("kernel", "int", kernel, 1, 15), Param("stride", "int", stride, 1, 8),
            Param("padding", "int", padding, 0, 7)]


def bn_params(eps, momentum):
    return [Param("bnEps", "float", eps, 0, 1), Param("bnMomentum", "float", momentum, 0, 1)]


CATALOGUE: dict[str, Kind] = {k.type: k for k in [
    Kind("image-input", "Image input", "input",
         [Param("channels", "int", 1, 1, 64), Param("height", "int", 224, 1, 4096),
          Param("width", "int", 224, 1, 4096), Param("depth", "int", 0, 0, 1024)],
         [], [Port("out", "image")], infer_image_input),
    Kind("patch-embed", "Patch embed", "plain",
         [Param("patchSize", "int", 4, 1, 64), Param("embedDim", "int", 96, 1, 8192),
          Param("norm", "bool", True)],
         [Port("in", "image")], TOKENS_OUT, infer_patch_embed),
    Kind("position-embedding", "Position embedding", "plain", [], TOKENS_IN, TOKENS_OUT,
         infer_position_embedding),
    Kind("swin-block", "Swin block (SAM)", "attention", [HEADS, *WINDOW, *BLOCK], TOKENS_IN,
         TOKENS_OUT, block_infer("window", False)),
    Kind("mam-swin-block", "Memory-attention unit (window)", "memory-unit",
         [HEADS, *WINDOW, *BLOCK, LAYOUT], MEM_IN, MEM_OUT, block_infer("window", True)),
    Kind("vit-block", "ViT block (SAM)", "attention", [VIT_HEADS, *BLOCK], TOKENS_IN, TOKENS_OUT,
         block_infer("global", False)),
    Kind("mam-vit-block", "Memory-attention unit (global)", "memory-unit",
         [VIT_HEADS, *BLOCK, LAYOUT], MEM_IN, MEM_OUT, block_infer("global", True)),
    Kind("patch-merging", "Patch merging", "downsample", [], TOKENS_IN, TOKENS_OUT,
         infer_patch_merging),
    Kind("patch-expanding", "Patch expanding", "upsample", [], TOKENS_IN, TOKENS_OUT,
         expand_infer(2, True)),
    Kind("final-expanding", "Final expanding ×4", "upsample", [Param("scale", "int", 4, 2, 16)],
         TOKENS_IN, TOKENS_OUT, expand_infer(0, False)),
    Kind("memory-merging", "Memory merging", "memory-resampling",
         [Param("mode", "enum", "conv", options=("conv", "avg", "max"))],
         [Port("memIn", "memory")], [Port("memOut", "memory")], infer_memory_merging),
    Kind("memory-expanding", "Memory expanding", "memory-resampling", [],
         [Port("memIn", "memory")], [Port("memOut", "memory")], infer_memory_expanding),
    Kind("skip", "Skip connection", "plain", [],
         [Port("decoder", "tokens"), Port("encoder", "tokens")], TOKENS_OUT, infer_skip),
    Kind("layer-norm", "LayerNorm", "plain", [], TOKENS_IN, TOKENS_OUT, infer_layer_norm),
    Kind("seg-head", "Segmentation head", "plain", [CLASSES], TOKENS_IN, [Port("out", "image")],
         infer_seg_head),
    Kind("resnet-root", "ResNet root", "plain", [Param("width", "int", 64, 1, 4096), GROUPS],
         IMAGE_IN, IMAGE_OUT, infer_resnet_root),
    Kind("max-pool", "Max pooling", "plain", window_params(3, 2, 0), IMAGE_IN, IMAGE_OUT,
         infer_max_pool),
    Kind("bottleneck", "ResNetV2 bottleneck unit", "plain",
         [out_channels(256), Param("midChannels", "int", 64, 1, 4096), Param("stride", "int", 1, 1, 4),
          GROUPS], IMAGE_IN, IMAGE_OUT, infer_bottleneck),
    Kind("zero-pad", "Zero padding", "plain",
         [Param("bottom", "int", 1, 0, 64), Param("right", "int", 1, 0, 64)], IMAGE_IN, IMAGE_OUT,
         infer_zero_pad),
    Kind("conv2d", "Convolution", "plain",
         [out_channels(64), *window_params(3, 1, 1), Param("bias", "bool", True),
          Param("standardize", "bool", False)], IMAGE_IN, IMAGE_OUT, infer_conv2d),
    Kind("conv-bn-relu", "Conv + BatchNorm + ReLU", "plain",
         [out_channels(512), Param("kernel", "int", 3, 1, 15), *bn_params(1e-5, 0.1)], IMAGE_IN,
         IMAGE_OUT, infer_conv_bn_relu),
    Kind("position-embedding-map", "Map → tokens + position embedding", "plain", [DROPOUT], IMAGE_IN,
         TOKENS_OUT, infer_position_embedding_map),
    Kind("tokens-to-map", "LayerNorm → feature map", "plain", [], TOKENS_IN, IMAGE_OUT,
         infer_tokens_to_map),
    Kind("da-head", "Dual attention head", "plain",
         [Param("reduction", "int", 16, 1, 256), *bn_params(1e-3, 0.95),
          Param("dropout", "float", 0.05, 0, 0.95)], IMAGE_IN, IMAGE_OUT, infer_da_head),
    Kind("cup-block", "CUP decoder block", "upsample", [out_channels(256), *bn_params(1e-5, 0.1)],
         IMAGE_IN + [Port("skip", "image", True)], IMAGE_OUT, infer_cup_block),
    Kind("transunet-block", "ViT block, TransUNet (SAM)", "attention", TRANSUNET, TOKENS_IN,
         TOKENS_OUT, transunet_infer(False)),
    Kind("mam-transunet-block", "Memory-attention unit, TransUNet", "memory-unit", [*TRANSUNET, LAYOUT],
         MEM_IN, MEM_OUT, transunet_infer(True)),
    Kind("output", "Segmentation output", "output",
         [CLASSES, Param("classNames", "string[]", list(DEFAULT_CLASS_NAMES))],
         [Port("logits", "image")], [], infer_output),
]}


# the 3D kinds (SwinUNETR, nnFormer) live beside these, in kinds3d.py
from .kinds3d import KINDS_3D  # noqa: E402

CATALOGUE.update({k.type: k for k in KINDS_3D})
