#!/usr/bin/env python3
"""Convert a PyTorch checkpoint (.pth / .pt) into a .safetensors state dict for mam-studio.

usage: python scripts/pth-to-safetensors.py model.pth [out.safetensors]

Takes the state dict from the usual places ('model', 'state_dict', or the file
itself), keeps float tensors, and writes them as float32. mam-studio strips the
'module.' / 'swin_unet.' prefixes and skips buffers on import.
Needs: pip install torch safetensors
"""
import sys

import torch
from safetensors.torch import save_file


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    src = sys.argv[1]
    dst = sys.argv[2] if len(sys.argv) > 2 else src.rsplit('.', 1)[0] + '.safetensors'
    ckpt = torch.load(src, map_location='cpu', weights_only=True)
    for key in ('model', 'state_dict'):
        if isinstance(ckpt, dict) and isinstance(ckpt.get(key), dict):
            ckpt = ckpt[key]
            break
    tensors = {k: v.detach().float().contiguous() for k, v in ckpt.items() if torch.is_tensor(v) and v.is_floating_point()}
    skipped = [k for k, v in ckpt.items() if not (torch.is_tensor(v) and v.is_floating_point())]
    save_file(tensors, dst)
    print(f'wrote {dst}: {len(tensors)} tensors' + (f', skipped {len(skipped)} non-float entries' if skipped else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
