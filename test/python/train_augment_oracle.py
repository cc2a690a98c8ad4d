"""Oracle for src/train/augment.ts: numpy rot90+flip and scipy.ndimage.rotate(reshape=False, order=0).

usage: train_augment_oracle.py '<json>'  with {"h", "w", "data": [...row-major...], "ops": [["rot-flip", k, axis] | ["rotate", angle]]}
prints a JSON list of {"h", "w", "data"} results, one per op.
"""
import json
import sys

import numpy as np
from scipy import ndimage

spec = json.loads(sys.argv[1])
img = np.array(spec["data"], dtype=np.float64).reshape(spec["h"], spec["w"])
out = []
for op in spec["ops"]:
    if op[0] == "rot-flip":
        r = np.flip(np.rot90(img, op[1]), axis=op[2]).copy()
    else:
        r = ndimage.rotate(img, op[1], order=0, reshape=False)
    out.append({"h": r.shape[0], "w": r.shape[1], "data": r.ravel().tolist()})
print(json.dumps(out))
