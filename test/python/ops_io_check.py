"""Cross-checks the TypeScript .npy / safetensors reader and writer (src/compile/io).

usage: ops_io_check.py DIR
Reads DIR/ts.npy, DIR/ts_i64.npy and DIR/ts.safetensors (written by the TS writer) and prints
what NumPy / safetensors see as one JSON line; writes fixtures with known contents for the TS
reader: py_f4.npy, py_f8_fortran.npy, py_i8.npy, py_bool.npy, py_f2.npy, py_be.npy, py.safetensors.
Every array's values are arange-based (see the TS test for the expected values).
"""
import json
import sys

import numpy as np
from safetensors.numpy import load_file, save_file

d = sys.argv[1]
seen = {}
a = np.load(f"{d}/ts.npy")
seen["ts.npy"] = {"dtype": str(a.dtype), "shape": list(a.shape), "values": a.ravel().tolist()}
b = np.load(f"{d}/ts_i64.npy")
seen["ts_i64.npy"] = {"dtype": str(b.dtype), "shape": list(b.shape), "values": b.ravel().tolist()}
st = load_file(f"{d}/ts.safetensors")
seen["ts.safetensors"] = {k: {"dtype": str(v.dtype), "shape": list(v.shape), "values": v.ravel().tolist()} for k, v in st.items()}
print(json.dumps(seen))

np.save(f"{d}/py_f4.npy", np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 8)
np.save(f"{d}/py_f8_fortran.npy", np.asfortranarray(np.arange(12, dtype=np.float64).reshape(3, 4) - 5.5))
np.save(f"{d}/py_i8.npy", np.arange(6, dtype=np.int64) - 3)
np.save(f"{d}/py_bool.npy", np.arange(5) % 2 == 0)
np.save(f"{d}/py_f2.npy", (np.arange(4, dtype=np.float16) - 1.5))
np.save(f"{d}/py_be.npy", (np.arange(3, dtype=">f4") * 2))
np.save(f"{d}/py_scalar.npy", np.float32(3.25))
save_file(
    {
        "w": np.arange(6, dtype=np.float32).reshape(2, 3) / 4,
        "d": np.arange(3, dtype=np.float64) - 1,
        "i": np.arange(4, dtype=np.int64) * 1000,
        "h": np.arange(3, dtype=np.float16) / 2,
    },
    f"{d}/py.safetensors",
    metadata={"format": "np"},
)
