"""The run folder, in the format `mam train` writes (src/train/checkpoint*.ts, src/cli/train.ts):
checkpoint/{weights,optimizer}.safetensors + state.json (written to a temporary folder and
renamed into place), best.safetensors, history.csv, metrics.json, run.json, test-metrics.csv."""
from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from safetensors import safe_open

from .graph import _js_number

WEIGHTS_FORMAT = "mam-studio/weights"
OPTIMIZER_FORMAT = "mam-studio/optimizer"
TRAIN_STATE_FORMAT = "mam-studio/train-state"
SLOT_NAMES = {"sgd": ["momentum_buffer"], "adamw": ["exp_avg", "exp_avg_sq"]}


# The numbers of a training state that may be NaN (a class absent from a split; a diverged loss).
_NUMBERS = {"meanDice", "meanHd95", "dice", "hd95", "loss", "ce", "lr", "elapsedSec"}


def _finite(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_finite(x) for x in v]
    return v


def js_json(value, **kw) -> str:
    """JSON as JavaScript's JSON.stringify writes it, NaN and ±infinity as null (JSON has neither,
    and JSON.parse refuses Python's NaN), so our TypeScript reads every file of a run folder."""
    return json.dumps(_finite(value), allow_nan=False, **kw)


def _numbers_back(v, key=None):
    if v is None and key in _NUMBERS:
        return math.nan
    if isinstance(v, dict):
        return {k: _numbers_back(x, k) for k, x in v.items()}
    if isinstance(v, list):
        return [_numbers_back(x, key) for x in v]
    return v


def state_from_json(text: str):
    """A state.json read back: null where a number belongs is NaN again, as parseTrainState reads it."""
    return _numbers_back(json.loads(text))


def write_atomic(path: Path, data: str | bytes):
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    os.replace(tmp, path)


def save_weights(model, path: Path, fingerprint: str, class_names, metadata=None):
    """Our safetensors: PyTorch layout and names, with the graph's fingerprint (weights.ts)."""
    tensors = {k: v.detach().float().cpu().contiguous() for k, v in model.state_dict().items()}
    meta = {**(metadata or {}), "format": WEIGHTS_FORMAT, "fingerprint": fingerprint,
            "classNames": json.dumps(class_names, separators=(",", ":"), ensure_ascii=False)}
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    save_file(tensors, str(tmp), metadata=meta)
    os.replace(tmp, path)


def read_weights(path: Path, fingerprint: str):
    """Weights of our own checkpoint for this graph, or a ValueError naming what differs."""
    with safe_open(str(path), "pt") as f:
        meta = f.metadata() or {}
    theirs = meta.get("fingerprint")
    if theirs and theirs != fingerprint:
        raise ValueError(f"{path} holds weights for another graph (fingerprint {theirs}, this graph "
                         f"{fingerprint})")
    return load_file(str(path))


def optimizer_tensors(opt, names_by_param, settings):
    slots = SLOT_NAMES[settings["kind"]]
    tensors = {}
    step = 0
    for p, key in names_by_param.items():
        st = opt.state.get(p, {})
        for s in slots:
            v = st.get(s)
            tensors[f"{key}#{s}"] = (v if v is not None else torch.zeros_like(p)).detach().float().cpu().contiguous()
        if "step" in st:
            step = int(float(st["step"]))
    return tensors, step


def save_checkpoint(run: Path, model, opt, names_by_param, state, fingerprint, class_names, resize):
    run.mkdir(parents=True, exist_ok=True)
    tmp = run / f"checkpoint.tmp-{os.getpid()}"
    old = run / "checkpoint.old"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    save_weights(model, tmp / "weights.safetensors", fingerprint, class_names,
                 {"step": str(state["step"]), "resize": resize})
    tensors, step = optimizer_tensors(opt, names_by_param, state["settings"]["optimizer"])
    save_file(tensors, str(tmp / "optimizer.safetensors"), metadata={
        "format": OPTIMIZER_FORMAT, "settings": json.dumps(state["settings"]["optimizer"]),
        "step": str(step or state["step"])})
    (tmp / "state.json").write_text(js_json(state))
    shutil.rmtree(old, ignore_errors=True)
    if (run / "checkpoint").exists():
        os.replace(run / "checkpoint", old)
    os.replace(tmp, run / "checkpoint")
    shutil.rmtree(old, ignore_errors=True)
    return run / "checkpoint"


def load_checkpoint(run: Path):
    """(state, weights path, optimizer path) of the run's checkpoint (or the previous one left by
    a crash between two renames), None when there is none; ValueError for a broken one."""
    for d in (run / "checkpoint", run / "checkpoint.old"):
        f = d / "state.json"
        if not f.exists():
            continue
        try:
            state = state_from_json(f.read_text())
        except json.JSONDecodeError as e:
            raise ValueError(f"{f}: state.json is not valid JSON ({e})") from None
        if state.get("format") != TRAIN_STATE_FORMAT or state.get("version") != 1:
            raise ValueError(f"{f}: state.json is not a mam-studio training state (version 1)")
        for name in ("weights.safetensors", "optimizer.safetensors"):
            if not (d / name).exists():
                raise ValueError(f"{d} is incomplete: {name} is missing")
        return state, d / "weights.safetensors", d / "optimizer.safetensors"
    return None


def restore_optimizer(opt, names_by_param, path: Path, kind: str):
    with safe_open(str(path), "pt") as f:
        meta = f.metadata() or {}
        keys = set(f.keys())
    if meta.get("format") != OPTIMIZER_FORMAT:
        raise ValueError(f"{path}: not a mam-studio optimizer state file")
    saved = json.loads(meta["settings"])["kind"]
    if saved != kind:
        raise ValueError(f"{path}: optimizer state is for {saved}, this run uses {kind}")
    tensors = load_file(str(path))
    step = float(meta.get("step", "0"))
    for p, key in names_by_param.items():
        st = {}
        for s in SLOT_NAMES[kind]:
            k = f"{key}#{s}"
            if k not in keys:
                raise ValueError(f"{path}: optimizer state lacks {key}")
            st[s] = tensors[k].to(p.device)
        if kind == "adamw":
            st["step"] = torch.tensor(step)
        opt.state[p] = st


def _num(x, d=6):
    if x is None:
        return ""
    if isinstance(x, float) and math.isnan(x):
        return "NaN"
    if x == math.inf:
        return "inf"
    return _js_number(round(float(x), d))


def history_csv(rows, class_names) -> str:
    """historyToCsv of src/train/checkpoint.ts."""
    def esc(s):
        return '"' + s.replace('"', '""') + '"' if any(c in s for c in '",\n') else s

    fg = class_names[1:]
    head = ["step", "epoch", "loss", "ce", "dice_loss", "lr", "elapsed_s", "val_convention",
            "val_mean_dice", "val_mean_hd95", *[esc(f"val_dice_{n}") for n in fg]]
    lines = [",".join(head)]
    for r in rows:
        v = r.get("val")
        lines.append(",".join([str(r["step"]), str(r["epoch"]), _num(r["loss"]), _num(r["ce"]),
                               _num(r["dice"]), _num(r["lr"], 8), _num(r["elapsedSec"], 2),
                               v["convention"] if v else "", _num(v and v["meanDice"]),
                               _num(v and v["meanHd95"]),
                               *[_num(v and v["perClass"].get(n, {}).get("dice")) for n in fg]]))
    return "\n".join(lines) + "\n"
