"""Oracle: medpy.metric.binary dc and hd95 (the Synapse convention) and the MONAI-style
symmetric HD95 (max of the two directed 95th percentiles), computed the way medpy does
(surface = A xor erode(A), face connectivity, border_value 0; scipy's exact EDT).
Reads DIR/cases.json ([{"i", "spacing"}]) with DIR/a<i>.npy, DIR/b<i>.npy (uint8 masks);
prints JSON results. Uses medpy when importable, else the same definition with scipy."""
import json
import sys

import numpy as np
from scipy import ndimage

try:
    from medpy.metric.binary import dc, hd95

    HAVE_MEDPY = True
except Exception:  # medpy not installed: follow its definition
    HAVE_MEDPY = False


def surface_distances(a, b, spacing):
    fp = ndimage.generate_binary_structure(a.ndim, 1)
    sa = a ^ ndimage.binary_erosion(a, structure=fp, iterations=1)
    sb = b ^ ndimage.binary_erosion(b, structure=fp, iterations=1)
    dt = ndimage.distance_transform_edt(~sb, sampling=spacing)
    return dt[sa]


def dice(a, b):
    if HAVE_MEDPY:
        return float(dc(a, b))
    s = a.sum() + b.sum()
    return float(2 * (a & b).sum() / s) if s else 0.0


def hd95_pooled(a, b, spacing):
    if HAVE_MEDPY:
        return float(hd95(a, b, voxelspacing=spacing))
    return float(np.percentile(np.hstack((surface_distances(a, b, spacing), surface_distances(b, a, spacing))), 95))


d = sys.argv[1]
out = {"medpy": HAVE_MEDPY, "results": []}
for c in json.load(open(f"{d}/cases.json")):
    a = np.load(f"{d}/a{c['i']}.npy").astype(bool)
    b = np.load(f"{d}/b{c['i']}.npy").astype(bool)
    sp = c.get("spacing")
    r = {"i": c["i"], "dice": dice(a, b)}
    if a.any() and b.any():
        r["hd95_unit"] = hd95_pooled(a, b, None)
        if sp is not None:
            r["hd95_spacing"] = hd95_pooled(a, b, sp)
            r["hd95_monai"] = float(
                max(np.percentile(surface_distances(a, b, sp), 95), np.percentile(surface_distances(b, a, sp), 95))
            )
    out["results"].append(r)
print(json.dumps(out))
