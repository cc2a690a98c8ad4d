"""Differential-test oracle: timm's Swin blocks (an implementation we did not write).

usage: ops_swin_oracle.py OUT_DIR

Builds timm.models.swin_transformer.SwinTransformerBlock (W-MSA, shift 0, and SW-MSA,
shift 2) and PatchMerging with a fixed seed, fills every parameter with random values
(timm's own init makes the bias table ~0.02, too small to test the bias path), runs them
on a random input in eval mode and writes OUT_DIR/swin_oracle.safetensors holding:

  x [B,H,W,C]; for k in (0, 1): block{k}.y and block{k}.<PyTorch state-dict names>
  (norm1.*, attn.qkv.*, attn.proj.*, attn.relative_position_bias_table, norm2.*, mlp.fc1.*,
  mlp.fc2.*) and the buffers block{k}.relative_position_index / block{k}.attn_mask;
  merge.y, merge.norm.*, merge.reduction.weight.
The metadata holds the configuration as JSON under "config".

timm 1.0 imports torchvision and PIL at package import time (for data transforms and
FrozenBatchNorm2d, neither used by Swin blocks). They are not installed in our venv, so this
script installs a stub module finder for those two packages before importing timm; the
stubs only satisfy the import-time names, nothing here calls into them.
"""
import importlib.abc
import importlib.machinery
import json
import sys
import types

_stub_classes = {}


class _AnyAttr(type):
    """A class whose missing attributes are distinct stub classes (so dict keys stay distinct)."""

    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        key = (cls.__qualname__, name)
        if key not in _stub_classes:
            _stub_classes[key] = _AnyAttr(cls.__qualname__ + "." + name, (), {"__init__": lambda self, *a, **k: None})
        return _stub_classes[key]


class _StubLoader(importlib.abc.Loader):
    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        module.__path__ = []
        module.__version__ = "0.0.0-stub"
        root = _AnyAttr(spec.name, (), {})

        def module_getattr(name):
            # InterpolationMode missing makes timm fall back to PIL constants (stubbed, distinct)
            if name.startswith("__") or name == "InterpolationMode":
                raise AttributeError(name)
            return getattr(root, name)

        module.__getattr__ = module_getattr
        return module

    def exec_module(self, module):
        pass


class _StubFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("torchvision", "PIL"):
            return importlib.machinery.ModuleSpec(name, _StubLoader(), is_package=True)
        return None


def _import_timm_swin():
    try:
        import torchvision  # noqa: F401
    except ImportError:
        sys.meta_path.insert(0, _StubFinder())
    from timm.models.swin_transformer import PatchMerging, SwinTransformerBlock

    return SwinTransformerBlock, PatchMerging


def main(out_dir):
    import torch
    from safetensors.torch import save_file

    SwinTransformerBlock, PatchMerging = _import_timm_swin()
    torch.manual_seed(1234)
    B, H, W, C, heads, window = 2, 8, 8, 8, 2, 4
    config = {"B": B, "H": H, "W": W, "C": C, "heads": heads, "window": window, "shifts": [0, window // 2]}

    tensors = {}
    x = torch.randn(B, H, W, C)
    tensors["x"] = x
    y = x
    with torch.no_grad():
        for k, shift in enumerate(config["shifts"]):
            block = SwinTransformerBlock(
                dim=C, input_resolution=(H, W), num_heads=heads, window_size=window, shift_size=shift
            ).eval()
            for name, p in block.named_parameters():
                if name.startswith("norm"):
                    p.copy_(1.0 + 0.2 * torch.randn_like(p) if name.endswith("weight") else 0.2 * torch.randn_like(p))
                else:
                    p.copy_(0.3 * torch.randn_like(p))
            y = block(y)  # the two blocks are chained: W-MSA then SW-MSA
            tensors[f"block{k}.y"] = y.clone()
            for name, p in block.state_dict().items():
                if name in ("attn.relative_position_index", "attn_mask"):
                    continue
                tensors[f"block{k}.{name}"] = p.clone()
            tensors[f"block{k}.relative_position_index"] = block.attn.relative_position_index.clone()
            if block.attn_mask is not None:
                tensors[f"block{k}.attn_mask"] = block.attn_mask.clone()

        merge = PatchMerging(dim=C).eval()
        for name, p in merge.named_parameters():
            p.copy_((1.0 if name == "norm.weight" else 0.0) + 0.3 * torch.randn_like(p))
        tensors["merge.y"] = merge(y)
        for name, p in merge.state_dict().items():
            tensors[f"merge.{name}"] = p.clone()

    tensors = {k: v.contiguous() for k, v in tensors.items()}
    save_file(tensors, f"{out_dir}/swin_oracle.safetensors", metadata={"config": json.dumps(config)})


if __name__ == "__main__":
    main(sys.argv[1])
