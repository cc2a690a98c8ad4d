"""Oracle: scipy.ndimage.zoom with its defaults (mode='constant', cval=0, prefilter=True,
grid_mode=False). Reads DIR/cases.json ([{"i", "out", "order"}]) and DIR/in<i>.npy, writes
DIR/out<i>.npy (float64)."""
import json
import sys

import numpy as np
from scipy import ndimage

d = sys.argv[1]
for c in json.load(open(f"{d}/cases.json")):
    a = np.load(f"{d}/in{c['i']}.npy").astype(np.float64)
    factors = [o / s for o, s in zip(c["out"], a.shape)]
    r = ndimage.zoom(a, factors, order=c["order"])
    if list(r.shape) != list(c["out"]):
        raise SystemExit(f"case {c['i']}: scipy gave shape {r.shape}, asked {c['out']}")
    np.save(f"{d}/out{c['i']}.npy", r)
print("ok")
