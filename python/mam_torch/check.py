"""`python -m mam_torch.check GRAPH`: load and validate a graph file as the torch runtime does."""
import json
import math
import sys

from .graph import GraphError, document_hash, load_graph, weight_fingerprint


def main(argv=None) -> int:
    """`python -m mam_torch.check GRAPH`: check a graph file; prints a JSON summary, or the
    problems one per line on stderr (exit 1)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m mam_torch.check GRAPH.json", file=sys.stderr)
        return 64
    try:
        g = load_graph(args[0])
    except GraphError as e:
        print(f"{e.source}: the graph cannot be built:", file=sys.stderr)
        for issue in e.issues:
            print(f"  {issue}", file=sys.stderr)
        return 1
    for w in g.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(json.dumps({
        "weightsFingerprint": weight_fingerprint(g),
        "documentHash": document_hash(g),
        "params": sum(math.prod(w.shape) for _, w in g.weight_specs() if not w.state),
        "input": g.input_shape,
        "classNames": g.class_names,
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
