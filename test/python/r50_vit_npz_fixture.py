"""A synthetic ImageNet-21k R50+ViT-B_16 .npz: the real key names and shapes of the JAX release
(DA-TRANSUNET-MAM-SPEC.md section f), deterministic values that compress well, plus the spec's
mapping done here with numpy as the independent reference.

usage: r50_vit_npz_fixture.py OUT_DIR

Writes:
  OUT_DIR/R50+ViT-B_16.npz   the synthetic checkpoint (incl. cls, head/*, pre_logits/*)
  OUT_DIR/probes.json        {state-dict key: [[flat index, value], ...]} for every mapped tensor,
                             values taken from the numpy-mapped state dict (PyTorch layout)
  OUT_DIR/shapes.json        {state-dict key: shape} of the numpy-mapped state dict
  OUT_DIR/pos_zoom16.npy     the position table resampled for a 16x16 grid: class token dropped,
                             scipy.ndimage.zoom(order=1) 14 -> 16, as (1, 256, 768)
"""
import json
import sys

import numpy as np
from scipy import ndimage

UNITS = (3, 4, 9)


def npz_shapes():
    s = {
        "cls": (1, 1, 768),
        "embedding/kernel": (1, 1, 1024, 768),
        "embedding/bias": (768,),
        "Transformer/encoder_norm/scale": (768,),
        "Transformer/encoder_norm/bias": (768,),
        "Transformer/posembed_input/pos_embedding": (1, 197, 768),
        "head/kernel": (768, 21843),
        "head/bias": (21843,),
        "pre_logits/kernel": (768, 768),
        "pre_logits/bias": (768,),
        "conv_root/kernel": (7, 7, 3, 64),
        "gn_root/scale": (64,),
        "gn_root/bias": (64,),
    }
    for l in range(12):
        p = f"Transformer/encoderblock_{l}"
        for part in ("query", "key", "value"):
            s[f"{p}/MultiHeadDotProductAttention_1/{part}/kernel"] = (768, 12, 64)
            s[f"{p}/MultiHeadDotProductAttention_1/{part}/bias"] = (12, 64)
        s[f"{p}/MultiHeadDotProductAttention_1/out/kernel"] = (12, 64, 768)
        s[f"{p}/MultiHeadDotProductAttention_1/out/bias"] = (768,)
        s[f"{p}/MlpBlock_3/Dense_0/kernel"] = (768, 3072)
        s[f"{p}/MlpBlock_3/Dense_0/bias"] = (3072,)
        s[f"{p}/MlpBlock_3/Dense_1/kernel"] = (3072, 768)
        s[f"{p}/MlpBlock_3/Dense_1/bias"] = (768,)
        for ln in ("LayerNorm_0", "LayerNorm_2"):
            s[f"{p}/{ln}/scale"] = (768,)
            s[f"{p}/{ln}/bias"] = (768,)
    cin = 64
    for b, n in enumerate(UNITS, start=1):
        cout, cmid = 256 * 2 ** (b - 1), 64 * 2 ** (b - 1)
        for u in range(1, n + 1):
            p = f"block{b}/unit{u}"
            s[f"{p}/conv1/kernel"] = (1, 1, cin, cmid)
            s[f"{p}/conv2/kernel"] = (3, 3, cmid, cmid)
            s[f"{p}/conv3/kernel"] = (1, 1, cmid, cout)
            for g, c in (("gn1", cmid), ("gn2", cmid), ("gn3", cout)):
                s[f"{p}/{g}/scale"] = (c,)
                s[f"{p}/{g}/bias"] = (c,)
            if u == 1:
                s[f"{p}/conv_proj/kernel"] = (1, 1, cin, cout)
                s[f"{p}/gn_proj/scale"] = (cout,)
                s[f"{p}/gn_proj/bias"] = (cout,)
            cin = cout
    return s


def mapped(arrays):
    """Spec section f with numpy: state-dict key -> PyTorch-layout array."""
    out = {}
    oihw = lambda k: np.transpose(k, (3, 2, 0, 1))
    E, H = "transformer.embeddings", "transformer.embeddings.hybrid_model"
    out[f"{E}.patch_embeddings.weight"] = oihw(arrays["embedding/kernel"])
    out[f"{E}.patch_embeddings.bias"] = arrays["embedding/bias"]
    out["transformer.encoder.encoder_norm.weight"] = arrays["Transformer/encoder_norm/scale"]
    out["transformer.encoder.encoder_norm.bias"] = arrays["Transformer/encoder_norm/bias"]
    out[f"{E}.position_embeddings"] = arrays["Transformer/posembed_input/pos_embedding"][:, 1:]
    for l in range(12):
        p, t = f"Transformer/encoderblock_{l}", f"transformer.encoder.layer.{l}"
        a = f"{p}/MultiHeadDotProductAttention_1"
        for part in ("query", "key", "value", "out"):
            out[f"{t}.attn.{part}.weight"] = arrays[f"{a}/{part}/kernel"].reshape(768, 768).T
            out[f"{t}.attn.{part}.bias"] = arrays[f"{a}/{part}/bias"].reshape(-1)
        for d, fc in (("Dense_0", "fc1"), ("Dense_1", "fc2")):
            out[f"{t}.ffn.{fc}.weight"] = arrays[f"{p}/MlpBlock_3/{d}/kernel"].T
            out[f"{t}.ffn.{fc}.bias"] = arrays[f"{p}/MlpBlock_3/{d}/bias"]
        for ln, name in (("LayerNorm_0", "attention_norm"), ("LayerNorm_2", "ffn_norm")):
            out[f"{t}.{name}.weight"] = arrays[f"{p}/{ln}/scale"]
            out[f"{t}.{name}.bias"] = arrays[f"{p}/{ln}/bias"]
    out[f"{H}.root.conv.weight"] = oihw(arrays["conv_root/kernel"])
    out[f"{H}.root.gn.weight"] = arrays["gn_root/scale"].reshape(-1)
    out[f"{H}.root.gn.bias"] = arrays["gn_root/bias"].reshape(-1)
    for b, n in enumerate(UNITS, start=1):
        for u in range(1, n + 1):
            p, t = f"block{b}/unit{u}", f"{H}.body.block{b}.unit{u}"
            for i in (1, 2, 3):
                out[f"{t}.conv{i}.weight"] = oihw(arrays[f"{p}/conv{i}/kernel"])
                out[f"{t}.gn{i}.weight"] = arrays[f"{p}/gn{i}/scale"].reshape(-1)
                out[f"{t}.gn{i}.bias"] = arrays[f"{p}/gn{i}/bias"].reshape(-1)
            if u == 1:
                out[f"{t}.downsample.weight"] = oihw(arrays[f"{p}/conv_proj/kernel"])
                out[f"{t}.gn_proj.weight"] = arrays[f"{p}/gn_proj/scale"].reshape(-1)
                out[f"{t}.gn_proj.bias"] = arrays[f"{p}/gn_proj/bias"].reshape(-1)
    return out


def main():
    out_dir = sys.argv[1]
    rng = np.random.default_rng(7)
    arrays = {}
    for k, (name, shape) in enumerate(sorted(npz_shapes().items())):
        n = int(np.prod(shape))
        # period 1009 (prime): compresses well, and no transpose maps a value onto itself by accident
        v = ((np.arange(n, dtype=np.int64) * 37 + 101 * k) % 1009).astype(np.float32) / 1009 - 0.5
        arrays[name] = v.reshape(shape)
    np.savez_compressed(f"{out_dir}/R50+ViT-B_16.npz", **arrays)
    sd = mapped(arrays)
    probes, shapes = {}, {}
    for key, a in sd.items():
        a = np.ascontiguousarray(a).reshape(-1)
        idx = rng.choice(a.size, size=min(6, a.size), replace=False)
        probes[key] = [[int(i), float(a[i])] for i in idx]
        shapes[key] = list(sd[key].shape)
    json.dump(probes, open(f"{out_dir}/probes.json", "w"))
    json.dump(shapes, open(f"{out_dir}/shapes.json", "w"))
    pos = arrays["Transformer/posembed_input/pos_embedding"][0, 1:].reshape(14, 14, 768)
    z = ndimage.zoom(pos, (16 / 14, 16 / 14, 1), order=1)
    np.save(f"{out_dir}/pos_zoom16.npy", z.reshape(1, 256, 768).astype(np.float32))


if __name__ == "__main__":
    main()
