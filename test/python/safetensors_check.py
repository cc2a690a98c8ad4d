"""Which safetensors files the reference `safetensors` library refuses (the oracle for src/compile/io/safetensors.ts).

usage: safetensors_check.py DIR
Prints one JSON object: for every DIR/*.safetensors, "ok" or "error: <the library's message>".
Opening validates the header (offsets, dtypes, shapes, coverage of the data).
"""
import json
import os
import sys

from safetensors import safe_open

d = sys.argv[1]
seen = {}
for name in sorted(os.listdir(d)):
    if not name.endswith(".safetensors"):
        continue
    try:
        with safe_open(os.path.join(d, name), "numpy") as f:
            list(f.keys())
        seen[name] = "ok"
    except Exception as e:  # the library raises SafetensorError, a plain Exception subclass
        seen[name] = f"error: {e}"
print(json.dumps(seen))
