"""Graph files (format v1, mam-studio/graph) for the torch runtime: load, migrate,
validate with the rules of src/graph (same checks, same meaning of every message),
infer shapes and weights per node, and the weight fingerprint our checkpoints carry.

`load_graph(path)` returns a `Graph` or raises `GraphError` whose lines each name
the node, link or field at fault.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from .kinds import CATALOGUE, Kind
from .kinds3d import KINDS_3D

# kinds whose torch modules take volumes (and any token grid: the LayerNorm; the ends of a graph)
VOLUME_KINDS = {k.type for k in KINDS_3D} | {"image-input", "output", "layer-norm"}

GRAPH_FORMAT = "mam-studio/graph"
GRAPH_VERSION = 1
MAX_TEXT = 32 * 1024 * 1024
MAX_NODES = 20_000
MAX_LINKS = 40_000
MAX_ISSUES = 200


class GraphError(Exception):
    """A graph that cannot be built; `issues` are one-line messages with their JSON paths."""

    def __init__(self, source: str, issues: list[str]):
        self.source = source
        self.issues = issues
        shown = issues[:MAX_ISSUES] + ([f"…and {len(issues) - MAX_ISSUES} more"]
                                       if len(issues) > MAX_ISSUES else [])
        super().__init__(f"{source}: " + "; ".join(shown))


@dataclass
class NodeInfo:
    id: str
    type: str
    kind: Kind
    params: dict
    index: int
    inputs: dict = field(default_factory=dict)  # port -> (node id, port) feeding it
    in_shapes: dict = field(default_factory=dict)
    out_shapes: dict = field(default_factory=dict)
    weights: list = field(default_factory=list)
    memory_window_out: int | None = None


@dataclass
class Graph:
    doc: dict
    nodes: dict  # id -> NodeInfo
    order: list  # ids, topological
    input: str
    output: str
    warnings: list
    source: str = "graph"

    @property
    def input_shape(self):
        """[channels, H, W] (or [channels, D, H, W] for a volume) of the image input."""
        s = self.nodes[self.input].out_shapes["out"]
        return [s["channels"], *s["spatial"]]

    @property
    def class_names(self) -> list[str]:
        return list(self.nodes[self.output].params["classNames"])

    @property
    def metadata(self) -> dict:
        return self.doc.get("metadata") or {}

    def weight_specs(self):
        """(state-dict key, Weight) for every weight, in graph order."""
        for nid in self.order:
            for w in self.nodes[nid].weights:
                yield f"{nid}.{w.name}", w


# ---- JSON helpers, as the TypeScript side writes them ------------------------------------


def json_path(parts) -> str:
    out = "$"
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif re.fullmatch(r"[A-Za-z_$][\w$]*", p):
            out += f".{p}"
        else:
            out += f"[{json.dumps(p, ensure_ascii=False)}]"
    return out


def _js_number(x) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if math.isfinite(x) and x == int(x) and abs(x) < 1e21:
        return str(int(x))
    r = repr(x)
    if "e" in r:  # JS writes 1e-7 as 1e-7 and 0.00001 as 0.00001
        mant, exp = r.split("e")
        e = int(exp)
        if -7 < e < 21:
            return format(x, "f").rstrip("0").rstrip(".") if e < 0 else str(x)
        return f"{mant}e{'+' if e > 0 else '-'}{abs(e)}"
    return r


def js_stringify(v) -> str:
    """JSON.stringify(v) without spacing, key order kept (for the document hash)."""
    if v is None:
        return "null"
    if isinstance(v, (bool, int, float)):
        return _js_number(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ",".join(js_stringify(x) for x in v) + "]"
    return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{js_stringify(x)}"
                          for k, x in v.items()) + "}"


def hash_string(s: str, seed: int = 0x811C9DC5) -> int:
    """32-bit FNV-1a over UTF-16 code units, as hashString in src/compile/init.ts."""
    h = seed & 0xFFFFFFFF
    units = s.encode("utf-16-le")
    for i in range(0, len(units), 2):
        h ^= units[i] | (units[i + 1] << 8)
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def _js_sort_key(s: str):
    return s.encode("utf-16-be")  # JS sorts strings by UTF-16 code units


def weight_fingerprint(graph: Graph) -> str:
    """weightFingerprint of src/compile/weights.ts: every `key:shape`, sorted, hashed twice."""
    lines = sorted((f"{k}:{'×'.join(str(d) for d in w.shape)}" for k, w in graph.weight_specs()),
                   key=_js_sort_key)
    text = "\n".join(lines)
    return f"{hash_string(text):08x}{hash_string(text, 0x9E3779B9):08x}"


def document_hash(graph: Graph) -> str:
    return f"{hash_string(js_stringify(graph.doc)):08x}"


# ---- loading ---------------------------------------------------------------------------


def _migrate_v0(doc: dict) -> dict:
    nodes = [{"id": n.get("id"), "type": n.get("kind"), "params": n.get("props") or {},
              "position": [n.get("x", 0), n.get("y", 0)],
              **({"label": n["label"]} if "label" in n else {})} for n in doc.get("nodes", [])]
    links = [{"from": {"node": e.get("source"), "port": e.get("sourceOutput")},
              "to": {"node": e.get("target"), "port": e.get("targetInput")}}
             for e in doc.get("edges") or []]
    out = {"format": GRAPH_FORMAT, "version": 1}
    if "title" in doc:
        out["metadata"] = {"title": doc["title"]}
    return {**out, "nodes": nodes, "links": links}


def _check_value(p, v):
    if p.type in ("int", "float"):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            return f"must be a number, got {js_stringify(v) if _jsonable(v) else v!r}"
        if p.type == "int" and v != int(v):
            return f"must be a whole number, got {_js_number(v)}"
        if p.min is not None and v < p.min:
            return f"is {_js_number(v)}, below the minimum {_js_number(p.min)}"
        if p.max is not None and v > p.max:
            return f"is {_js_number(v)}, above the maximum {_js_number(p.max)}"
    elif p.type == "bool" and not isinstance(v, bool):
        return f"must be true or false, got {js_stringify(v)}"
    elif p.type == "enum" and v not in p.options:
        opts = ", ".join(f"'{o}'" for o in p.options)
        return f"must be one of {opts}, got {js_stringify(v)}"
    elif p.type == "string" and not isinstance(v, str):
        return f"must be text, got {js_stringify(v)}"
    elif p.type == "string[]" and not (isinstance(v, list) and all(isinstance(s, str) for s in v)):
        return f"must be a list of names, got {js_stringify(v)}"
    return None


def _jsonable(v):
    return isinstance(v, (type(None), bool, int, float, str, list, dict))


def _is_ref(r):
    return (isinstance(r, dict) and isinstance(r.get("node"), str) and r["node"] != ""
            and isinstance(r.get("port"), str) and r["port"] != "")


def _node_problem(n) -> str | None:
    if not isinstance(n, dict):
        return "expected an object"
    for key in ("id", "type"):
        if not isinstance(n.get(key), str) or n[key] == "":
            return f"'{key}' must be a non-empty text"
    if not isinstance(n.get("params"), dict):
        return "'params' must be an object"
    pos = n.get("position")
    if not (isinstance(pos, list) and len(pos) == 2 and all(isinstance(x, (int, float)) for x in pos)):
        return "'position' must be [x, y]"
    return None


def load_graph(path: str | Path) -> Graph:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise GraphError(str(path), [f"cannot be read ({e.strerror or e})"]) from None
    return parse_graph(text, str(path))


def parse_graph(text: str, source: str = "graph") -> Graph:
    fail = lambda *issues: GraphError(source, list(issues))  # noqa: E731
    if len(text) > MAX_TEXT:
        raise fail(f"$: the file holds {len(text)} characters, more than the limit of {MAX_TEXT}")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise fail(f"not valid JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None
    if not isinstance(doc, dict):
        raise fail("a graph file must hold a JSON object")
    if doc.get("format") != GRAPH_FORMAT:
        got = doc.get("format")
        raise fail(f"$.format: not a mam-studio graph: the 'format' field is missing (expected "
                   f"'{GRAPH_FORMAT}')" if got is None else
                   f"$.format: not a mam-studio graph: format is {json.dumps(got)}, expected "
                   f"'{GRAPH_FORMAT}'")
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise fail(f"$.version: the format version must be a whole number, got {json.dumps(version)}")
    if version > GRAPH_VERSION:
        raise fail(f"$.version: this file was written in graph format version {version}, newer than "
                   f"this mam-studio reads (up to {GRAPH_VERSION}): update mam-studio to open it")
    if version == 0:
        doc = _migrate_v0(doc)
    if not isinstance(doc.get("nodes"), list) or not isinstance(doc.get("links"), list):
        raise fail("$.nodes/$.links: a graph file needs the lists 'nodes' and 'links'")
    if len(doc["nodes"]) > MAX_NODES or len(doc["links"]) > MAX_LINKS:
        raise fail(f"$.nodes: at most {MAX_NODES} nodes and {MAX_LINKS} links")
    errors: list[str] = []
    warnings: list[str] = []
    nodes = []
    for i, n in enumerate(doc["nodes"]):
        why = _node_problem(n)
        if why:
            errors.append(f"{json_path(['nodes', i])}: node {json_path(['nodes', i])} could not be "
                          f"read and was left out: {why}")
        else:
            nodes.append((i, n))
    links = []
    for i, ln in enumerate(doc["links"]):
        if isinstance(ln, dict) and _is_ref(ln.get("from")) and _is_ref(ln.get("to")):
            links.append((i, ln))
        else:
            errors.append(f"{json_path(['links', i])}: link {json_path(['links', i])} could not be "
                          f"read and was left out: 'from' and 'to' must be {{node, port}}")
    graph = _validate(doc, nodes, links, errors, warnings, source)
    if errors:
        raise GraphError(source, errors)
    return graph


def _validate(doc, nodes, links, errors, warnings, source) -> Graph | None:
    infos: dict[str, NodeInfo] = {}
    unknown = []
    bad_params = set()
    for i, n in nodes:
        nid = n["id"]
        if nid in infos or nid in unknown:
            errors.append(f"$.nodes[{i}].id: duplicate node id '{nid}': ids must be unique")
            continue
        kind = CATALOGUE.get(n["type"])
        if kind is None:
            unknown.append(nid)
            errors.append(f"$.nodes[{i}].type: node '{nid}' has unknown node type '{n['type']}': "
                          f"the torch runtime has no module for it")
            continue
        params = dict(n["params"])
        for p in kind.params:
            where = json_path(["nodes", i, "params", p.name])
            if p.name not in params:
                errors.append(f"{where}: node '{nid}' ({kind.title}): parameter '{p.name}' is missing")
                params[p.name] = p.default
                bad_params.add(nid)
                continue
            why = _check_value(p, params[p.name])
            if why:
                errors.append(f"{where}: node '{nid}' ({kind.title}): parameter '{p.name}' {why}")
                bad_params.add(nid)
        for name in n["params"]:
            if not any(p.name == name for p in kind.params):
                warnings.append(f"node '{nid}' ({kind.title}): unknown parameter '{name}' is kept but "
                                f"not used")
        infos[nid] = NodeInfo(nid, n["type"], kind, params, i)
    ids = {n["id"] for _, n in nodes}
    succ: dict[str, list[str]] = {nid: [] for nid in ids}
    fed: dict[tuple, int] = {}
    for i, ln in links:
        f, t = ln["from"], ln["to"]
        what = f"link {f['node']}.{f['port']} → {t['node']}.{t['port']}"
        ok = True
        for end, ref, side in (("from", f, "outputs"), ("to", t, "inputs")):
            if ref["node"] not in ids:
                errors.append(f"$.links[{i}].{end}.node: {what}: node '{ref['node']}' does not exist")
                ok = False
                continue
            info = infos.get(ref["node"])
            if info is None:
                ok = False
                continue
            ports = getattr(info.kind, side)
            if not any(p.name == ref["port"] for p in ports):
                names = ", ".join(f"'{p.name}'" for p in ports) or "none"
                errors.append(f"$.links[{i}].{end}.port: {what}: node '{info.id}' ({info.kind.title}) "
                              f"has no {side[:-1]} port '{ref['port']}' (it has {names})")
                ok = False
        key = (t["node"], t["port"])
        if key in fed:
            errors.append(f"$.links[{i}]: {what}: input '{t['port']}' of '{t['node']}' is already fed "
                          f"by $.links[{fed[key]}]; an input takes one link")
            continue
        fed[key] = i
        if ok:
            infos[t["node"]].inputs[t["port"]] = (f["node"], f["port"])
            succ[f["node"]].append(t["node"])
    order = _topological(infos, succ, errors)
    if order is None:
        return None
    for nid in order:
        info = infos[nid]
        for port in info.kind.inputs:
            src = info.inputs.get(port.name)
            if src is None:
                if not port.optional:
                    errors.append(f"$.nodes[{info.index}]: node '{nid}' ({info.kind.title}): required "
                                  f"input '{port.name}' is not connected")
                continue
            info.in_shapes[port.name] = infos[src[0]].out_shapes.get(src[1])
        if nid in bad_params:
            continue
        r = info.kind.infer(info.params, {k: v for k, v in info.in_shapes.items() if v is not None})
        info.out_shapes, info.weights = r.outputs, r.weights
        for message, _port in r.problems:
            errors.append(f"$.nodes[{info.index}]: node '{nid}' ({info.kind.title}): {message}")
    ins = [n for n in order if infos[n].kind.role == "input"]
    outs = [n for n in order if infos[n].kind.role == "output"]
    if not errors and len(ins) != 1:
        errors.append(f"$.nodes: the graph needs exactly one Image input node to compile, it has {len(ins)}")
    if not errors and len(outs) != 1:
        errors.append(f"$.nodes: the graph needs exactly one Segmentation output node to compile, it "
                      f"has {len(outs)}")
    if errors:
        return None
    for nid in order:  # the 2D kinds' torch modules are 2D (conv2d, 2D windows)
        info = infos[nid]
        if info.type in VOLUME_KINDS:
            continue
        shapes = [x for x in (*info.in_shapes.values(), *info.out_shapes.values()) if x]
        if any(len(x.get("spatial", x.get("grid", ()))) not in (0, 2) for x in shapes):
            errors.append(f"$.nodes[{info.index}]: node '{nid}' ({info.kind.title}): its torch module takes "
                          f"2D images and token grids only; a volume reaches it")
            return None
    _memory_windows(infos)
    return Graph(doc, infos, order, ins[0], outs[0], warnings, source)


def _topological(infos, succ, errors):
    indeg = {nid: 0 for nid in infos}
    for nid in infos:
        for t in succ.get(nid, []):
            if t in indeg:
                indeg[t] += 1
    ready = [nid for nid in infos if indeg[nid] == 0]
    order = []
    while ready:
        nid = ready.pop(0)
        order.append(nid)
        for t in succ.get(nid, []):
            if t in indeg:
                indeg[t] -= 1
                if indeg[t] == 0:
                    ready.append(t)
    if len(order) == len(infos):
        return order
    left = [nid for nid in infos if nid not in set(order)]
    shown = left[:6]
    text = " → ".join(shown) + (" → …" if len(left) > 6 else "")
    first = infos[left[0]]
    errors.append(f"$.nodes[{first.index}]: {len(left)} nodes form a cycle or hang on one ({text}): a "
                  f"network must flow one way")
    return None


def _memory_windows(infos):
    """For memory resampling: the window of the first unit downstream on its chain (plan.ts)."""
    mem_target = {}
    for info in infos.values():
        src = info.inputs.get("memIn")
        if src and src[1] == "memOut":
            mem_target[src[0]] = info.id
    for info in infos.values():
        if info.kind.role != "memory-resampling":
            continue
        cur, hops = mem_target.get(info.id), 0
        while cur is not None and hops < 1000:
            nxt = infos[cur]
            if nxt.kind.role == "memory-unit":
                m = nxt.out_shapes.get("memOut")
                info.memory_window_out = m["window"] if m else None
                break
            cur, hops = mem_target.get(cur), hops + 1
