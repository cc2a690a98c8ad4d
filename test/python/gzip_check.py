"""Which gzip files Python's own gzip module refuses (the oracle for src/data/gzip.ts).

usage: gzip_check.py DIR
Prints one JSON object: for every DIR/*.gz, "ok" with the inflated length, or "error" with Python's message.
"""
import gzip
import json
import os
import sys
import zlib

d = sys.argv[1]
seen = {}
for name in sorted(os.listdir(d)):
    if not name.endswith(".gz"):
        continue
    try:
        with open(os.path.join(d, name), "rb") as f:
            seen[name] = {"ok": len(gzip.decompress(f.read()))}
    except (OSError, EOFError, zlib.error) as e:
        seen[name] = {"error": str(e)}
print(json.dumps(seen))
