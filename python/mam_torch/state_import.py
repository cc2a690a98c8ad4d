"""A PyTorch state dict of the reference (MONAI's SwinUNETR, nnFormer, a SAM checkpoint for a
MAM graph, …) into a GraphModule by name, with a report: matched, missing, of the wrong shape,
unexpected, and skipped with the reason (the reference's `relative_position_index` buffers,
which the graph recomputes: checked equal to ours; `num_batches_tracked`)."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

SKIPPED_SUFFIXES = {
    "num_batches_tracked": "a BatchNorm step counter, not used",
}


@dataclass
class ImportReport:
    matched: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    wrong_shape: list = field(default_factory=list)  # (key, file shape, graph shape)
    unexpected: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # (key, why)
    index_mismatch: list = field(default_factory=list)  # relative_position_index that differs

    @property
    def complete(self) -> bool:
        return not (self.missing or self.wrong_shape or self.index_mismatch)

    def lines(self) -> list[str]:
        out = [f"{len(self.matched)} tensors matched by name"]
        for k in self.missing:
            out.append(f"missing: {k} (keeps its initialisation)")
        for k, a, b in self.wrong_shape:
            out.append(f"wrong shape: {k} is {list(a)} in the file, {list(b)} in the graph")
        for k in self.index_mismatch:
            out.append(f"differs: {k} is not the index rule of the graph's node")
        for k in self.unexpected:
            out.append(f"unexpected: {k} (no weight of the graph has this name)")
        for k, why in self.skipped:
            out.append(f"skipped: {k} ({why})")
        return out

    def as_dict(self) -> dict:
        return {"matched": len(self.matched), "missing": self.missing,
                "wrongShape": [[k, list(a), list(b)] for k, a, b in self.wrong_shape],
                "unexpected": self.unexpected, "skipped": [[k, w] for k, w in self.skipped],
                "indexMismatch": self.index_mismatch}


def _index_buffers(model) -> dict:
    """Every attention module's (non-persistent) relative_position_index, by state-dict key."""
    out = {}
    for name, buf in model.named_buffers():
        if name.endswith("relative_position_index"):
            out[name] = buf
    return out


def import_state_dict(model, tensors: dict, allow_partial: bool = False) -> ImportReport:
    """Copies `tensors` into `model` by name; refuses (ValueError with the report) a file that
    leaves weights missing or of the wrong shape, unless `allow_partial`."""
    report = ImportReport()
    own = model.state_dict()
    indices = _index_buffers(model)
    take = {}
    for key, t in tensors.items():
        if key in own:
            if tuple(t.shape) != tuple(own[key].shape):
                report.wrong_shape.append((key, tuple(t.shape), tuple(own[key].shape)))
            else:
                take[key] = t
                report.matched.append(key)
        elif key in indices:
            ours = indices[key]
            if tuple(t.shape) == tuple(ours.shape) and torch.equal(t.to(ours.dtype).cpu(), ours.cpu()):
                report.skipped.append((key, "index buffer: the graph recomputes it (equal)"))
            else:
                report.index_mismatch.append(key)
        elif key.rsplit(".", 1)[-1] in SKIPPED_SUFFIXES:
            report.skipped.append((key, SKIPPED_SUFFIXES[key.rsplit(".", 1)[-1]]))
        else:
            report.unexpected.append(key)
    bad_shape = {k for k, _, _ in report.wrong_shape}
    report.missing = [k for k in own if k not in take and k not in bad_shape]
    if not report.complete and not allow_partial:
        raise ValueError("the state dict does not fill the graph: " + "; ".join(report.lines()[1:6]))
    with torch.no_grad():
        for key, t in take.items():
            own[key].copy_(t.to(own[key].dtype))
    return report
