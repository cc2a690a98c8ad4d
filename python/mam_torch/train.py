"""`torchrun --nproc_per_node=N -m mam_torch.train graph.json --data DIR|demo [--steps N|--epochs N]
--out runs/x`: trains a mam-studio graph with the protocol of `mam train` (loss, optimisers and
poly schedule, resize rule, augmentation, drop-path, validation and metrics in both conventions)
and writes the same run folder, with DistributedDataParallel (NCCL on GPUs, gloo on the CPU).

Without torchrun it runs as one process. The global batch (--batch; on volumes the crops of the step's
one volume, which every rank takes) is split over the ranks; the
Dice part of the loss sums over the whole global batch (its sums are all-reduced), so N ranks
take the same steps as one process with the same global batch. Samples, augmentation and
drop-path are drawn from (seed, step, position), so an interrupted run (Ctrl-C or SIGTERM: it
stops after the step, all ranks together, with a valid checkpoint, exit 130) resumed with
--resume repeats the steps the uninterrupted run takes.
"""
from __future__ import annotations

import argparse
import copy
import datetime
import math
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DistributedSampler

from . import __version__
from .checkpoint import (history_csv, js_json, load_checkpoint, read_weights, restore_optimizer,
                         save_checkpoint, save_weights, write_atomic)
from .data import (DataError, augment, case_slices, check_classes, data_fingerprint,
                   fit_sample, load_data, resize_records)
from .evaluate import evaluate_cases
from .graph import GraphError, document_hash, hash_string, load_graph, weight_fingerprint
from .loss import CE_WEIGHT, DICE_WEIGHT, SMOOTH, VOLUME_CE_WEIGHT, VOLUME_DICE_WEIGHT, per_sample_dice
from .modules import GraphModule
from .state_import import import_state_dict
from .volumes import (REFERENCE_AUGMENT, apply_augmentation, draw_augmentation, evaluate_volumes,
                      monai_or_fail, rand_crop_pos_neg, sample_rng, volume_of)

EXIT = {"ok": 0, "graph": 1, "unreadable": 2, "weights": 3, "data": 4, "run": 9, "diverged": 10,
        "usage": 64, "interrupted": 130}
RNG_SCHEME = "numpy default_rng(seed, step, position) / torch DistributedSampler(seed, epoch)"


class RunError(Exception):
    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


def parse_args(argv):
    p = argparse.ArgumentParser(prog="mam_torch.train", description=__doc__.split("\n\n")[0])
    p.add_argument("graph")
    p.add_argument("--data", required=True, help="a data folder, 'demo' or (3D graphs) 'demo3d'")
    p.add_argument("--out", help="the run folder (default runs/<graph>-<time>)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--epochs", type=int)
    g.add_argument("--steps", type=int)
    p.add_argument("--batch", type=int, help="global images per step; volumes: crops of one volume per step "
                   "(default: the graph's samplesPerVolume or batchSize, else 8)")
    p.add_argument("--lr", type=float, help="base learning rate")
    p.add_argument("--optimizer", choices=["sgd", "adamw"])
    p.add_argument("--seed", type=int)
    p.add_argument("--split-seed", type=int, help="the seed of the train/validation split (default --seed), "
                   "so runs of several seeds can share one split")
    p.add_argument("--val-every", type=int)
    p.add_argument("--checkpoint-every", type=int)
    p.add_argument("--patience", type=int)
    p.add_argument("--metrics", choices=["synapse", "monai"])
    p.add_argument("--normalise", choices=["auto", "none", "uint8", "ct", "percentile"])
    p.add_argument("--resize", choices=["stretch", "pad"])
    p.add_argument("--no-augment", action="store_true")
    p.add_argument("--amp", choices=["bf16"], help="bfloat16 autocast (GPUs)")
    p.add_argument("--init-weights", help="weights to start from (a mam-studio checkpoint of this graph, "
                   "or a state dict with its keys, e.g. MONAI's SwinUNETR or a SAM checkpoint for MAM; "
                   "imported by name with a report)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda")
    p.add_argument("--threads", type=int, help="CPU threads per process")
    a = p.parse_args(argv)
    for name in ("epochs", "steps", "batch"):
        v = getattr(a, name)
        if v is not None and v < 1:
            p.error(f"--{name} must be at least 1, got {v}")
    if a.resume and not a.out:
        p.error("--resume needs --out <run folder> (the run to continue)")
    return a


class Dist:
    """The process group (or one process without torchrun)."""

    def __init__(self, device_arg):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", "0"))
        cuda = torch.cuda.is_available() and device_arg in ("auto", "cuda")
        if device_arg == "cuda" and not torch.cuda.is_available():
            raise RunError("--device cuda: no CUDA device is available", 5)
        self.device = torch.device(f"cuda:{local}" if cuda else "cpu")
        if cuda:
            torch.cuda.set_device(self.device)
        self.backend = "nccl" if cuda else "gloo"
        if self.world > 1:
            dist.init_process_group(self.backend, timeout=datetime.timedelta(minutes=30))

    @property
    def main(self):
        return self.rank == 0

    def all_sum(self, t):
        if self.world > 1:
            dist.all_reduce(t)
        return t

    def barrier(self):
        if self.world > 1:
            dist.barrier()

    def broadcast_obj(self, obj):
        if self.world == 1:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def close(self):
        if self.world > 1 and dist.is_initialized():
            dist.destroy_process_group()


def loss_weights(settings):
    """(CE weight, Dice weight) of a run's settings; runs from before the field have the paper's."""
    w = settings.get("loss") or {"ce": CE_WEIGHT, "dice": DICE_WEIGHT}
    return w["ce"], w["dice"]


def distributed_loss(logits, labels, world, weights=(CE_WEIGHT, DICE_WEIGHT), per_sample=False):
    """(loss to backpropagate, loss, ce, dice) of the global batch, loss = weights[0]·CE +
    weights[1]·Dice. CE is a mean of equal local means. The 2D Dice pools the batch: its sums
    are all-reduced, the local part keeping its gradient (scaled by the world size, since DDP
    averages the ranks' gradients). Volumes (per_sample) take MONAI's DiceCE (loss.py): each
    sample's Dice stands alone, so the global mean is the mean of the equal local means."""
    k = logits.shape[1]
    logits = logits.float()
    ce_local = torch.nn.functional.cross_entropy(logits, labels)
    if per_sample:
        dice_local = per_sample_dice(logits, labels).mean()
        ce, dice = ce_local.detach().clone(), dice_local.detach().clone()
        if world > 1:
            both = torch.stack([ce, dice])
            dist.all_reduce(both)
            ce, dice = both[0] / world, both[1] / world
        wc, wd = weights
        backprop = wc * ce_local + wd * dice_local
        return backprop, (wc * ce + wd * dice).item(), float(ce), float(dice)
    p = logits.softmax(1)
    g = torch.nn.functional.one_hot(labels, k).movedim(-1, 1).to(p.dtype)
    dims = (0, *range(2, logits.dim()))
    local = torch.stack([(p * g).sum(dims), (p * p).sum(dims), (g * g).sum(dims)])
    if world > 1:
        total = local.detach().clone()
        dist.all_reduce(total)
        sums = local + (total - local.detach())
        ce = ce_local.detach().clone()
        dist.all_reduce(ce)
        ce = ce / world
    else:
        sums, ce = local, ce_local
    dice = (1 - (2 * sums[0] + SMOOTH) / (sums[1] + sums[2] + SMOOTH)).mean()
    wc, wd = weights
    backprop = wc * ce_local + wd * world * dice
    return backprop, (wc * ce + wd * dice).detach().item(), float(ce.detach()), float(dice.detach())


def fmt_size(size):
    return "×".join(str(n) for n in size)


def steps_per_epoch(n, batch):
    """Batches per pass over n slices, as torch's DataLoader without drop_last (the Synapse
    reference): the last batch partial. At least one."""
    return max(1, -(-n // batch))


def new_settings(args, meta, n_train: int, volume: bool, seed: int, split_seed: int, normalisation: str):
    """A new run's settings, (settings, images per step, steps per epoch), by the rules of `mam train`
    (src/session/settings.ts: resolveRun, resolveVolumeRun). Slices: batches of the shuffled slices, the
    last partial. Volumes: one volume per step and `samplesPerVolume` crops of it (--batch overrides;
    the reference's DataLoader batch of 1 volume × RandCropByPosNegLabeld num_samples), so an epoch is
    one step per training volume and none is dropped; validation ten times per run."""
    batch = args.batch or meta.get("samplesPerVolume", meta.get("batchSize", 8))
    kind = args.optimizer or meta.get("optimizer", "sgd")
    base_lr = args.lr if args.lr is not None else meta.get("learningRate", 0.05 if kind == "sgd" else 1e-3)
    eff = batch if volume else min(batch, n_train)
    spe = n_train if volume else steps_per_epoch(n_train, eff)
    steps = args.steps or (args.epochs or meta.get("epochs", 30)) * spe
    opt_settings = ({"kind": "sgd", "momentum": meta.get("momentum", 0.9), "weightDecay": meta.get("weightDecay", 1e-4)}
                    if kind == "sgd" else
                    {"kind": "adamw", "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
                     "weightDecay": meta.get("weightDecay", 0.01)})
    # volumes: an epoch is one step per volume, so validating each epoch would dominate
    val_every = args.val_every if args.val_every is not None else (max(1, -(-steps // 10)) if volume else spe)
    settings = {
        "batchSize": batch, "steps": steps,
        "learningRate": base_lr * eff / 24 if kind == "sgd" else base_lr,
        # poly for slices, constant for volumes (the 3D reference has no scheduler), as `mam train`
        "schedule": "constant" if volume else "poly", "optimizer": opt_settings, "seed": seed,
        "splitSeed": split_seed,
        "valEvery": val_every,
        "checkpointEvery": args.checkpoint_every or 0, "patience": args.patience or 0,
        # a list (3D graphs) names the crop augmentations, as `mam train` (src/session/settings.ts)
        "augment": False if args.no_augment else meta.get("augment", True) is not False,
        **({"volumeAugment": volume_augment(meta.get("augment", True), args.no_augment),
            "validationWindow": window(meta, "validation"), "testWindow": window(meta, "test")}
           if volume else {}),
        "convention": args.metrics or meta.get("metricConvention", "synapse"),
        "normalisation": normalisation, "resize": args.resize or "stretch",
        # volumes: MONAI's DiceCELoss, 1 : 1, as `mam train` (src/session/settings.ts)
        "loss": meta.get("loss", {"ce": VOLUME_CE_WEIGHT, "dice": VOLUME_DICE_WEIGHT} if volume else
                         {"ce": CE_WEIGHT, "dice": DICE_WEIGHT}),
    }
    return settings, eff, spe


def volume_sampling(settings, n_volumes: int) -> dict:
    """How a 3D run draws its batches, as run.json says it (both engines)."""
    return {"volumesPerStep": 1, "cropsPerVolume": settings["batchSize"], "stepsPerEpoch": n_volumes,
            "order": "every training volume once an epoch, in a new shuffled order each epoch (none dropped)"}


def scheduled_lr(settings, t: int) -> float:
    """The learning rate at step t (0-based), as src/train/loop.ts: poly lr·(1 − t/T)^0.9, or constant."""
    base, total = settings["learningRate"], settings["steps"]
    if settings.get("schedule", "poly") == "constant" or total <= 0:
        return base
    return base * max(0.0, 1 - t / total) ** 0.9


def format_duration(sec):
    if not math.isfinite(sec):
        return "?"
    s = round(sec)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


def volume_augment(meta_augment, no_augment: bool) -> list:
    """A 3D run's crop augmentations: none when off, else the graph's list, else the reference's."""
    if no_augment or meta_augment is False:
        return []
    return copy.deepcopy(meta_augment if isinstance(meta_augment, list) else REFERENCE_AUGMENT)


# the reference's sliding windows (3D-MAM-SPEC.md §f), as `mam train` (src/session/settings.ts)
VOLUME_WINDOWS = {"validation": {"overlap": 0.25, "batchSize": 2}, "test": {"overlap": 0.5, "batchSize": 4}}


def window(meta, split: str) -> dict:
    """The graph's sliding window for `split` (validation or test), else the reference's."""
    return dict((meta.get("slidingWindow") or {}).get(split) or VOLUME_WINDOWS[split])


def describe_volume_augment(specs) -> str:
    if not specs:
        return "the random crops only"
    parts = [f"RandShiftIntensity (±{s['offsets']:g}, p {s['prob']:g})" if s["kind"] == "shift-intensity" else
             f"RandAffine (p {s['prob']:g}, rotation ±{'/'.join(f'{r:.4g}' for r in s['rotateRange'])}, "
             f"scale ±{'/'.join(f'{r:g}' for r in s['scaleRange'])})" for s in specs]
    return "random crops, then " + ", ".join(parts)


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        d = Dist(args.device)
    except RunError as e:
        print(f"mam_torch.train: {e}", file=sys.stderr)
        return e.code
    try:
        return run(args, d)
    except (RunError, GraphError, DataError) as e:
        if d.main:
            print(f"mam_torch.train: {e}", file=sys.stderr)
        return getattr(e, "code", EXIT["graph"])
    finally:
        d.close()


def run(args, d: Dist) -> int:
    log = (lambda s: print(s, file=sys.stderr, flush=True)) if d.main else (lambda s: None)
    say = (lambda s: print(s, flush=True)) if d.main else (lambda s: None)
    if args.threads:
        torch.set_num_threads(args.threads)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_dir = Path(args.out or f"runs/{Path(args.graph).stem}-{stamp}")
    try:
        existing = load_checkpoint(run_dir)
    except ValueError as e:
        raise RunError(f"{run_dir}: the checkpoint cannot be read: {e}", EXIT["run"]) from None
    if args.resume and not existing:
        raise RunError(f"{run_dir} holds no checkpoint to resume", EXIT["run"])
    if not args.resume and existing:
        raise RunError(f"{run_dir} already holds a run (checkpoint at step {existing[0]['step']}); pass "
                       f"--resume to continue it or choose another --out", EXIT["run"])
    if existing and existing[0].get("rng", {}).get("scheme") != RNG_SCHEME:
        raise RunError(f"{run_dir} was trained by mam train (TypeScript), whose random draws "
                       f"({existing[0].get('rng', {}).get('scheme')}) mam_torch cannot repeat, so it cannot "
                       f"resume it step for step: resume it with mam train --resume, or start a new run "
                       f"from its weights with --init-weights {run_dir / 'best.safetensors'}", EXIT["run"])
    graph = load_graph(args.graph)
    for w in graph.warnings:
        log(f"warning: {w}")
    meta = graph.metadata.get("training") or {}
    ckpt_state = existing[0] if existing else None
    seed = ckpt_state["settings"]["seed"] if ckpt_state else (
        args.seed if args.seed is not None else meta.get("seed", 0))
    model = GraphModule(graph, seed=seed).to(d.device)
    fingerprint = weight_fingerprint(graph)
    class_names = graph.class_names
    if args.init_weights and not ckpt_state:
        try:  # ours for this graph, or a state dict by name (MONAI's SwinUNETR, a SAM checkpoint)
            report = import_state_dict(model, read_weights(Path(args.init_weights), fingerprint))
        except (OSError, ValueError, RuntimeError) as e:
            raise RunError(f"--init-weights {args.init_weights}: {str(e).splitlines()[0]}", EXIT["weights"]) from None
        for line in report.lines():
            log(f"--init-weights: {line}")
        log(f"starting from {args.init_weights}")
    C, *size = graph.input_shape
    volume = len(size) == 3  # a 3D graph trains on crops of whole volumes (volumes.py)
    if volume:
        monai_or_fail()

    split_seed = ckpt_state["settings"].get("splitSeed", seed) if ckpt_state else (
        args.split_seed if args.split_seed is not None else seed)
    data = load_data(args.data, split_seed)
    for w in data.warnings:
        log(f"warning: {w}")
    check_classes(data, class_names, lambda s: log(f"warning: {s}"))
    if not data.train:
        raise DataError(f"{args.data}: the split leaves no training cases", 6)
    for c in data.all_cases():
        if len(c.channels) not in (1, C):
            raise DataError(f"{c.files[0] if c.files else c.id} has {len(c.channels)} channels but the "
                            f"graph's input takes {C}", 4)
        if volume and c.channels[0].shape[0] == 1:
            raise DataError(f"--data {args.data}: {c.files[0] if c.files else c.id} is one slice "
                            f"({'×'.join(map(str, c.channels[0].shape[1:]))}) but {Path(args.graph).name} "
                            f"takes volumes ({fmt_size(size)}): give it NIfTI volumes", 4)
    fp = data_fingerprint(data.all_cases())
    normalisation = ckpt_state["settings"]["normalisation"] if ckpt_state else (args.normalise or "auto")
    # the range 'auto' scaled the volumes by, for run.json (as mam train records it)
    irange = data.train[0].intensity if volume and normalisation == "auto" else None
    if volume:  # the training samples: (image, label) per whole volume, or per slice
        slices = [(volume_of(c, normalisation), c.label) for c in data.train]
    else:
        slices = [s for c in data.train for s in case_slices(c, normalisation)]
    unit = "volume" if volume else "slice"

    if ckpt_state:
        settings = ckpt_state["settings"]
        if ckpt_state["dataFingerprint"] != fp:
            raise RunError(f"{run_dir} was trained on other data (fingerprint {ckpt_state['dataFingerprint']}, "
                           f"now {fp}); resume with the same --data", EXIT["run"])
        try:
            state_dict = read_weights(existing[1], fingerprint)
            model.load_state_dict(state_dict, strict=True)
        except (ValueError, RuntimeError) as e:
            raise RunError(f"{existing[1]}: {str(e).splitlines()[0]}", EXIT["weights"]) from None
        log(f"resuming {run_dir} at step {ckpt_state['step']} of {settings['steps']}")
    else:
        settings, eff, spe = new_settings(args, meta, len(slices), volume, seed, split_seed, normalisation)
        steps, kind = settings["steps"], settings["optimizer"]["kind"]
        log(f"training {Path(args.graph).name} on {data.source}: {len(slices)} {unit}s"
            f"{f' (random {fmt_size(size)} crops, pos 1 : neg 1)' if volume else ''}, batch {eff}{' (crops of one volume a step)' if volume else ''} over "
            f"{d.world} process{'es' if d.world > 1 else ''} ({d.backend}, {d.device.type}), {steps} steps "
            f"({spe} per epoch), {kind} lr {settings['learningRate']:.3g}, {settings['schedule']} schedule, loss "
            f"{settings['loss']['ce']}·CE + {settings['loss']['dice']}·Dice{' (DiceCE, Dice per volume)' if volume else ''}, seed {seed} → {run_dir}")

    # images per step: slices, the batch capped by their number; volumes, the batch's crops of one volume
    B = settings["batchSize"] if volume else min(settings["batchSize"], len(slices))
    if B % d.world:
        raise RunError(f"the global batch {B} does not split over {d.world} processes: give --batch a "
                       f"multiple of {d.world}", EXIT["usage"])
    local_b = B // d.world
    spe = len(slices) if volume else steps_per_epoch(len(slices), B)
    rule = settings.get("resize") or "stretch"
    resized = [] if volume else resize_records(slices, tuple(size), rule)
    for r in resized:
        log(f"resizing {r['slices']} slice(s) of {r['from'][0]}×{r['from'][1]} to {fmt_size(size)} ({r['rule']})")
    volume_aug = settings.get("volumeAugment", []) if volume and settings["augment"] else []
    if volume:
        log(f"augmentation of volumes: {describe_volume_augment(volume_aug)}")
    held = {}  # validation / test volumes, prepared once

    def evaluate(cases, split, batch):
        if not volume:
            return evaluate_cases(model, cases, class_names, tuple(size), state["settings"]["convention"],
                                  normalisation, rule, batch, d.device, amp)
        if split not in held:
            held[split] = [volume_of(c, normalisation) for c in cases]
        key = "validationWindow" if split == "val" else "testWindow"
        w = state["settings"].get(key, {"overlap": 0.5, "batchSize": 1})  # older runs: overlap 0.5
        return evaluate_volumes(model, cases, held[split], class_names, size, state["settings"]["convention"],
                                d.device, amp, overlap=w["overlap"], batch=w["batchSize"])

    names_by_param = {}
    params = dict(model.named_parameters())
    for key, w in graph.weight_specs():
        if w.state:  # running statistics are buffers, not optimised
            continue
        names_by_param[params[key]] = key[: -len(w.name) - 1] + "/" + w.name
    opt_s = settings["optimizer"]
    if opt_s["kind"] == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=settings["learningRate"], momentum=opt_s["momentum"],
                              weight_decay=opt_s["weightDecay"])
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=settings["learningRate"],
                                betas=(opt_s["beta1"], opt_s["beta2"]), eps=opt_s["eps"],
                                weight_decay=opt_s["weightDecay"])
    if ckpt_state:
        try:
            restore_optimizer(opt, names_by_param, existing[2], opt_s["kind"])
        except ValueError as e:
            raise RunError(str(e), EXIT["run"]) from None

    if d.main:
        run_dir.mkdir(parents=True, exist_ok=True)
        run_info = {
            "format": "mam-studio/run", "version": 1,
            "updated": datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z"),
            "graph": {"file": str(Path(args.graph).resolve()), "title": graph.metadata.get("title", ""),
                      "weightsFingerprint": fingerprint, "documentHash": document_hash(graph)},
            "code": f"mam_torch {__version__}", "torch": torch.__version__,
            "backend": {"name": f"torch-{d.device.type}", "adapter": {
                "device": torch.cuda.get_device_name(d.device) if d.device.type == "cuda" else "cpu",
                "processes": d.world, "distributed": d.backend if d.world > 1 else None,
                "amp": args.amp}, "software": d.device.type == "cpu"},
            "seeds": {"init": seed, "shuffle": seed, "augment": seed, "dropPath": seed, "scheme": RNG_SCHEME},
            "data": {"source": data.source, "fingerprint": fp, "splitRule": data.split_rule,
                     "split": {k: [c.id for c in getattr(data, k)] for k in ("train", "val", "test")},
                     f"train{unit.capitalize()}s": len(slices),
                     **({"crop": size, "sampling": volume_sampling(settings, len(slices))} if volume else {}),
                     "normalisation": normalisation,
                     **({"intensityRange": irange} if irange else {}),
                     "resize": ({"rule": "crop", "input": size, "sampler": "RandCropByPosNegLabel pos 1 neg 1",
                                 "validation": "sliding window, overlap {overlap}, sw_batch {batchSize}, constant".format(
                                     **settings["validationWindow"]) if "validationWindow" in settings else
                                 "sliding window, overlap 0.5, constant"} if volume else
                                {"rule": rule, "input": size, "slices": resized}),
                     "classNames": class_names, **({"note": data.note} if data.note else {})},
            "metricConvention": settings["convention"], "settings": settings,
        }
        write_atomic(run_dir / "run.json", js_json(run_info, indent=2) + "\n")

    state = ckpt_state or {
        "format": "mam-studio/train-state", "version": 1, "step": 0, "epoch": 0, "settings": settings,
        "rng": {"seed": seed, "scheme": RNG_SCHEME}, "best": None, "validationsSinceBest": 0,
        "lastValidation": None, "history": [], "elapsedSec": 0, "weightsFingerprint": fingerprint,
        "dataFingerprint": fp,
    }
    net = DDP(model, device_ids=[d.device] if d.device.type == "cuda" else None) if d.world > 1 else model
    amp = torch.bfloat16 if args.amp == "bf16" else None
    if amp is not None and d.device.type != "cuda":
        log("note: --amp bf16 on the CPU runs bfloat16 autocast there too (slow on most CPUs)")

    stop = {"asked": False}

    def on_signal(signum, _frame):
        if stop["asked"]:
            log("\nmam_torch.train: stopped at once; the last checkpoint stays valid")
            os._exit(EXIT["interrupted"])
        stop["asked"] = True
        log("\nmam_torch.train: stopping after this step and saving a checkpoint (again to quit at once)")

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    def save(reason=""):
        if d.main:
            where = save_checkpoint(run_dir, model, opt, names_by_param, state, fingerprint, class_names, rule)
            write_atomic(run_dir / "history.csv", history_csv(state["history"], class_names))
            say(f"checkpoint: step {state['step']} saved to {where}{reason}")
        d.barrier()

    def validate():
        stop_early = False
        if d.main and data.val:
            rep = evaluate(data.val, "val", max(B, 4))
            s = rep["summary"]
            rec = {"step": state["step"], "convention": rep["convention"], "meanDice": s["meanDice"],
                   "meanHd95": s["meanHd95"], "hd95Unit": rep["hd95Unit"],
                   "perClass": {n: {"dice": c["dice"], "hd95": c["hd95"]} for n, c in s["perClass"].items()}}
            best = state["best"]
            improved = best is None or rec["meanDice"] > best["meanDice"] + 1e-6
            if improved:
                state["best"] = {"step": state["step"], "meanDice": rec["meanDice"]}
                state["validationsSinceBest"] = 0
                save_weights(model, run_dir / "best.safetensors", fingerprint, class_names,
                             {"step": str(state["step"]), "meanDice": str(rec["meanDice"]), "resize": rule})
            else:
                state["validationsSinceBest"] += 1
            state["lastValidation"] = rec
            if state["history"] and state["history"][-1]["step"] == state["step"]:
                state["history"][-1]["val"] = rec
            b = state["best"]
            say(f"validation at step {state['step']}: mean Dice {rec['meanDice']:.4f}, HD95 {rec['meanHd95']:.2f} "
                f"{'voxels' if rec['hd95Unit'] == 'voxel' else 'mm'} ({rec['convention']} convention"
                f"{'; ' + data.note if data.note else ''}); best {b['meanDice']:.4f} at step {b['step']}")
            p = state["settings"]["patience"]
            stop_early = p > 0 and state["validationsSinceBest"] >= p
        flag = d.all_sum(torch.tensor([1.0 if stop_early else 0.0], device=d.device))
        return bool(flag.item() > 0)

    reason = "completed"
    total = settings["steps"]
    saved_at = state["step"] if ckpt_state else -1
    tty = sys.stderr.isatty()
    every = 1 if total <= 500 else math.ceil(total / 500)
    sec_per_step = 0.0
    # slices: each rank its share of the epoch's order; volumes: every rank the whole order, since a
    # step's global batch is crops of one volume, split over the ranks by their place in it
    sampler = DistributedSampler(range(len(slices)), num_replicas=1 if volume else d.world,
                                 rank=0 if volume else d.rank, shuffle=True, seed=seed, drop_last=False)
    order, perm_epoch = [], -1
    net.train()
    while state["step"] < total:
        flag = d.all_sum(torch.tensor([1.0 if stop["asked"] else 0.0], device=d.device))
        if flag.item() > 0:
            reason = "aborted"
            break
        t = state["step"]
        epoch = t // spe
        if perm_epoch != epoch:  # the epoch's order: perm(seed + epoch), slices [rank::world]
            sampler.set_epoch(epoch)
            order = list(iter(sampler))
            perm_epoch = epoch
        # volumes: step t's crops all come from the epoch's (t mod n)-th volume
        j0 = (t % spe) * (1 if volume else local_b)
        # an epoch's last step takes what is left (the sampler pads every rank to the same length)
        count = local_b if volume else min(local_b, len(order) - j0)
        xs, ys = [], []
        for i in range(count):
            pos = i * d.world + d.rank  # the sample's place in the global batch
            img, lbl = slices[order[j0 if volume else j0 + i]]
            if volume:
                rng = sample_rng(seed, t, pos)  # the crop, then its augmentation
                img, lbl = rand_crop_pos_neg(img, lbl, size, rng)
                if volume_aug:
                    img, lbl = apply_augmentation(img, lbl, draw_augmentation(volume_aug, rng))
                xs.append(img)
                ys.append(lbl.astype(np.int64))
                continue
            if state["settings"]["augment"]:
                img, lbl = augment(img, lbl, np.random.default_rng([seed, t, pos]))
            img, lbl = fit_sample(img, lbl, tuple(size), rule)
            xs.append(np.ascontiguousarray(img.transpose(2, 0, 1)))
            ys.append(lbl.astype(np.int64))
        x = torch.from_numpy(np.stack(xs)).to(d.device)
        y = torch.from_numpy(np.stack(ys)).to(d.device)
        lr = scheduled_lr(settings, t)
        for group in opt.param_groups:
            group["lr"] = lr
        # drop-path per sample, from (seed, step, place in the global batch)
        model.sample_rng.per_sample([hash_string(f"drop-path:{t}:{i * d.world + d.rank}", seed & 0xFFFFFFFF)
                                     for i in range(count)])
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device_type=d.device.type, dtype=amp, enabled=amp is not None):
            logits = net(x)
        backprop, loss, ce, dice = distributed_loss(logits, y, d.world, loss_weights(state["settings"]), per_sample=volume)
        backprop.backward()
        opt.step()
        dt = time.perf_counter() - t0
        if not math.isfinite(loss):
            log(f"the loss became NaN or infinite after step {t}; the last checkpoint is kept. Try a lower --lr.")
            return EXIT["diverged"]
        state["step"] = t + 1
        state["epoch"] = state["step"] // spe
        state["elapsedSec"] += dt
        sec_per_step = dt if sec_per_step == 0 else 0.8 * sec_per_step + 0.2 * dt
        state["history"].append({"step": state["step"], "epoch": epoch, "loss": loss, "ce": ce, "dice": dice,
                                 "lr": lr, "elapsedSec": state["elapsedSec"],
                                 # which volume the step cut its crops from, and how many (all ranks)
                                 **({"volume": data.train[order[j0]].id, "crops": len(xs) * d.world} if volume else {})})
        if d.main:
            eta = (total - state["step"]) * sec_per_step
            text = (f"step {state['step']}/{total} epoch {epoch + 1} loss {loss:.4f} lr {lr:.3g} "
                    f"{B / sec_per_step:.1f} img/s ETA {format_duration(eta)}")
            if tty:
                done = round(24 * state["step"] / total)
                sys.stderr.write(f"\r\x1b[K[{'#' * done}{'.' * (24 - done)}] {text}")
                sys.stderr.flush()
            elif state["step"] % every == 0 or state["step"] in (1, total):
                say(text)
        last = state["step"] == total
        ve = state["settings"]["valEvery"]
        validate_now = (ve > 0 and state["step"] % ve == 0) or last
        early = False
        if validate_now:
            if tty and d.main:
                sys.stderr.write("\r\x1b[K")
            early = validate()
        ce_every = state["settings"]["checkpointEvery"]
        if (state["step"] % ce_every == 0 if ce_every > 0 else validate_now) or last or early:
            save()
            saved_at = state["step"]
        if early:
            reason = "early-stop"
            break
    if tty and d.main:
        sys.stderr.write("\r\x1b[K")
    if saved_at != state["step"]:
        save()
    b = state["best"]
    say(f"done: {reason} at step {state['step']}" + (f"; best mean Dice {b['meanDice']:.4f} at step {b['step']}" if b else ""))
    metrics = {"convention": state["settings"]["convention"], **({"note": data.note} if data.note else {}),
               "step": state["step"], "reason": reason, "best": state["best"],
               "lastValidation": state["lastValidation"]}
    if reason == "aborted":
        if d.main:
            write_atomic(run_dir / "metrics.json", js_json(metrics, indent=2) + "\n")
        log(f"stopped at step {state['step']}; continue with: torchrun ... -m mam_torch.train {args.graph} "
            f"--data {args.data} --out {run_dir} --resume")
        return EXIT["interrupted"]
    if d.main and data.test:
        best = run_dir / "best.safetensors"
        if best.exists():
            model.load_state_dict(read_weights(best, fingerprint), strict=True)
        else:
            log("no best.safetensors: testing the last weights")
        rep = evaluate(data.test, "test", max(4, B))
        metrics["test"] = {"weights": "best.safetensors", "summary": rep["summary"], "ruleCounts": rep["ruleCounts"]}
        write_atomic(run_dir / "test-metrics.csv", rep["csv"])
        s = rep["summary"]
        say(f"test split ({len(data.test)} volume{'s' if len(data.test) != 1 else ''}, best weights): mean Dice "
            f"{s['meanDice']:.4f}, HD95 {s['meanHd95']:.2f} ({s['convention']} convention)")
    if d.main:
        write_atomic(run_dir / "metrics.json", js_json(metrics, indent=2) + "\n")
        say(f"run folder: {run_dir} (checkpoint/, best.safetensors, history.csv, metrics.json, run.json)")
    d.barrier()
    return EXIT["ok"]


if __name__ == "__main__":
    raise SystemExit(main())
