#!/usr/bin/env bash
# The GPU benchmark as one command, from anywhere: swin-unet-mam (or --preset NAME ...), batch 24,
# 1 GPU, fp32 and bf16.
# Extra flags go to bench/gpu/swin_unet_mam.py (e.g. --device cpu --batch 2 --steps 2 --warmup 1).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
export PYTHONPATH="$root/python${PYTHONPATH:+:$PYTHONPATH}"
exec "${PYTHON:-python3}" "$root/bench/gpu/swin_unet_mam.py" "$@"
