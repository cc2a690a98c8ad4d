"""mam_torch's SwinUNETR(-MAM) against MONAI's `SwinUNETR` (PyPI), float64, CPU.

usage: swinunetr_monai_oracle.py GRAPH_SAM GRAPH_MAM SIZE FEATURE CLASSES [MERGE]
Prints one JSON object:
  report      what mam_torch's import made of MONAI's state dict (by name)
  sam         max|ours − MONAI| / max|MONAI| of the SAM graph's logits
  mam         the same for the MAM graph against MONAI with the memory added (below)
  memory      max|MAM − SAM| / max|SAM| of our logits: what the memory path moves
  samIntoMam  whether a SAM checkpoint (our SAM model's state dict) loads into the MAM module

MONAI is set to the reference (3D-MAM-SPEC.md §h): PatchMerging takes the 8 sub-grids in
MONAI 0.9's order (§c.8; MONAI ≥ 1.5 fixed the order); with MERGE `default` it keeps the
installed MONAI's own PatchMerging (SwinUNETR's default `downsample="merging"`). The MAM reference is MONAI's model
with memory per §a/§c.5: a hook on each block's `attn.qkv` adds the stage's memory to the q
part (window layout, slot by slot) and keeps q̂; every `BasicLayer` starts with no memory.
Weights are randomised as §i does, so every weight matters.
"""
import json
import sys

import torch
from monai.networks.nets import swin_unetr
from monai.networks.nets.swin_unetr import BasicLayer, PatchMerging, SwinUNETR

from mam_torch import GraphModule, load_graph
from mam_torch.state_import import import_state_dict

torch.set_num_threads(2)
torch.manual_seed(0)
sam_file, mam_file = sys.argv[1], sys.argv[2]
size, feature, classes = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
merge = sys.argv[6] if len(sys.argv) > 6 else "monai-0.9"
assert merge in ("monai-0.9", "default"), merge

OFFSETS_0_9 = [(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 0, 1), (0, 1, 0), (0, 0, 1), (1, 1, 1)]


def merge_0_9(self, x):
    """§c.8 as MONAI 0.9 merges (spec order); even sides only here."""
    subs = [x[:, a::2, b::2, c::2, :] for a, b, c in OFFSETS_0_9]
    return self.reduction(self.norm(torch.cat(subs, -1)))


def rearrange(x, pattern):
    """einops.rearrange for the pure axis permutations swin_unetr.py uses ("b c d h w -> b d h w c"):
    einops is an optional import of MONAI that the test venv does not hold."""
    src, dst = (side.split() for side in pattern.split("->"))
    return x.permute(*[src.index(a) for a in dst])


assert swin_unetr.MERGING_MODE["merging"] is PatchMerging
if merge == "monai-0.9":
    PatchMerging.forward = merge_0_9
swin_unetr.rearrange = rearrange

monai = SwinUNETR(in_channels=1, out_channels=classes, feature_size=feature).double().eval()
with torch.no_grad():
    for name, p in monai.named_parameters():
        if "relative_position_bias_table" in name:
            p.copy_(0.5 * torch.randn_like(p))
        elif "norm" in name and name.endswith("weight") and p.dim() == 1:
            p.copy_(1 + 0.2 * torch.randn_like(p))
        elif "norm" in name and name.endswith("bias"):
            p.copy_(0.1 * torch.randn_like(p))
        elif name.endswith("bias"):
            p.copy_(0.05 * torch.randn_like(p))
        else:
            p.add_(0.1 * p.std() * torch.randn_like(p))
state = monai.state_dict()
x = torch.randn(1, 1, size, size, size, dtype=torch.float64)


def rel(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


with torch.no_grad():
    ref_sam = monai(x)

# the memory (MAM) on MONAI's own windowing: one holder per stage, reset when the stage starts
holders = {}


def reset(layer, _args):
    holders[id(layer)] = [None]


def with_memory(holder):
    def hook(_module, _args, out):
        c = out.shape[-1] // 3
        q = out[..., :c] if holder[0] is None else out[..., :c] + holder[0]
        holder[0] = q
        return torch.cat([q, out[..., c:]], -1)
    return hook


handles = []
for layer in monai.modules():
    if isinstance(layer, BasicLayer):
        holders[id(layer)] = [None]
        handles.append(layer.register_forward_pre_hook(reset))
        for blk in layer.blocks:
            handles.append(blk.attn.qkv.register_forward_hook(
                lambda m, a, o, layer=layer: with_memory(holders[id(layer)])(m, a, o)))
with torch.no_grad():
    ref_mam = monai(x)
for h in handles:
    h.remove()

sam = GraphModule(load_graph(sam_file), seed=1).double().eval()
report = import_state_dict(sam, state)
mam = GraphModule(load_graph(mam_file), seed=2).double().eval()
mam_report = import_state_dict(mam, sam.state_dict())
with torch.no_grad():
    ours_sam, ours_mam = sam(x), mam(x)
print(json.dumps({
    "report": report.as_dict(),
    "sam": rel(ours_sam, ref_sam),
    "mam": rel(ours_mam, ref_mam),
    "memory": rel(ours_mam, ours_sam),
    "referenceMemory": rel(ref_mam, ref_sam),
    "samIntoMam": mam_report.complete and not mam_report.unexpected and len(mam_report.matched),
}))
