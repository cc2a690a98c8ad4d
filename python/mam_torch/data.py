"""The data `mam train --data` reads (src/data, src/cli/train-data.ts), for the torch runtime:
the demo set, NIfTI folders (imagesTr/labelsTr or images/labels, `case_0000.nii.gz` channels,
imagesTs/labelsTs as test), PNG image + mask folders, and the Synapse preprocessed layout
(train_npz/*.npz, test_vol_h5/*.npy.h5, lists/). Volumes are numpy arrays (Z, H, W) — NIfTI's
(x, y, z) transposed, so a slice is (H = y, W = x) as our TypeScript reads it.

Also the sample preparation of src/train: normalisation, resize rule (scipy.ndimage.zoom,
corner-aligned; 'stretch' or 'pad'), the paper's augmentation, and the seeded split.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .graph import hash_string
from .kinds import DEFAULT_CLASS_NAMES


DEMOS = {"demo": ("MAM_STUDIO_DEMO", "the demo set"),
         "demo3d": ("MAM_STUDIO_DEMO3D", "the 3D demo set (written by scripts/make-demo3d-data.py)")}


def demo_dir(name: str = "demo") -> Path:
    """data/<name> of the mam-studio repository (demo, demo3d): $MAM_STUDIO_DEMO (…_DEMO3D), else
    beside this source tree, else under the working directory."""
    import os

    env, what = DEMOS[name]
    for d in (os.environ.get(env), Path(__file__).resolve().parents[2] / "data" / name,
              Path.cwd() / "data" / name):
        if d and (Path(d) / "dataset.json").exists():
            return Path(d)
    raise DataError(f"--data {name}: {what} (data/{name} of the mam-studio repository) was not found; "
                    f"run from the repository or set {env} to its data/{name} folder", 2)


def data_root(arg: str) -> Path:
    """The folder `--data` names (the demo sets' folders for demo, demo3d)."""
    return demo_dir(arg) if arg in DEMOS else Path(arg)


class DataError(Exception):
    """Bad data; `code` is the exit code `mam train` gives the same problem."""

    def __init__(self, message: str, code: int = 4):
        super().__init__(message)
        self.code = code


@dataclass
class Case:
    id: str
    channels: list  # each (Z, H, W), file dtype
    label: np.ndarray | None  # (Z, H, W) uint8
    spacing: tuple = (1.0, 1.0, 1.0)  # (z, y, x) mm
    files: list = field(default_factory=list)
    grid: tuple | None = None  # the file's dims (x first) where they are not the shape reversed (2D NIfTI)
    intensity: dict | None = None  # the data set's intensity_range (NIfTI folders, demos), which 'auto' applies


@dataclass
class DataSet:
    source: str
    class_names: list
    train: list
    val: list
    test: list
    split_rule: str
    note: str | None = None
    warnings: list = field(default_factory=list)

    def all_cases(self):
        return [*self.train, *self.val, *self.test]


# ---- readers ----------------------------------------------------------------------------


def _nifti(path: Path):
    """The voxels (x, y, z[, t]) as src/data/nifti.ts reads them: the stored type, or where the
    header scales (scl_slope/scl_inter, by its rule) the scaled values in float64 stored as float32
    (float64 for a float64 file); the voxel size; and the header's dims."""
    import nibabel as nib

    try:
        img = nib.load(str(path))
        data = np.asanyarray(img.dataobj.get_unscaled())
        # nibabel moves the header's scaling here, with the same rule (slope 0 or not finite, or
        # slope 1 with no finite intercept: none; an intercept that is not finite: 0)
        slope, inter = float(img.dataobj.slope), float(img.dataobj.inter)
    except Exception as e:  # noqa: BLE001 - any unreadable file is bad data, named
        raise DataError(f"{path}: not a readable NIfTI file ({e})") from None
    if (slope, inter) != (1.0, 0.0):
        scaled = data.astype(np.float64) * slope + inter
        data = scaled if data.dtype == np.float64 else scaled.astype(np.float32)
    dims = tuple(int(d) for d in data.shape)
    if data.ndim == 2:
        data = data[:, :, None]
    zooms = tuple(float(z) for z in img.header.get_zooms()[:3])
    return data, (zooms + (1.0, 1.0, 1.0))[:3], dims


def _zyx(a):
    return np.ascontiguousarray(np.transpose(a, (2, 1, 0)))


def _as_label(a, where: str) -> np.ndarray:
    a = np.asarray(a)
    if a.size and (a.min() < 0 or a.max() > 255 or not np.all(np.equal(np.mod(a, 1), 0))):
        raise DataError(f"{where}: labels must be whole numbers 0–255", 8)
    return a.astype(np.uint8)


def load_demo(root: Path | None = None) -> DataSet:
    root = root or demo_dir()
    meta = json.loads((root / "dataset.json").read_text())
    splits = {}
    for split in ("train", "val", "test"):
        im, zooms, _ = _nifti(root / meta["files"][f"image_{split}"])
        lb, _, _ = _nifti(root / meta["files"][f"label_{split}"])
        if im.ndim == 4:
            im = im[..., 0]
        splits[split] = [Case(f"demo-{split}", [_zyx(im)], _zyx(_as_label(lb, str(root))),
                              (zooms[2], zooms[1], zooms[0]),
                              [meta["files"][f"image_{split}"], meta["files"][f"label_{split}"]])]
    with_intensity([c for cs in splits.values() for c in cs], root)
    return DataSet(f"{root.name} (data/{root.name})", list(meta["classes"]), splits["train"], splits["val"],
                   splits["test"], meta.get("split_rule", ""), meta.get("note"))


NIFTI_RE = re.compile(r"\.nii(\.gz)?$", re.I)
CHANNEL_RE = re.compile(r"^(.*)_(\d{4})\.nii(\.gz)?$", re.I)


def _class_table(root: Path):
    f = root / "classes.json"
    if f.exists():
        j = json.loads(f.read_text())
        return list(j if isinstance(j, list) else j.get("classes", []))
    f = root / "dataset.json"
    if f.exists():
        labels = json.loads(f.read_text()).get("labels")
        if isinstance(labels, dict):  # nnU-Net v1 {"0": "background"} or v2 {"background": 0}
            pairs = [(int(v), k) if str(v).isdigit() and not str(k).isdigit() else (int(k), v)
                     for k, v in labels.items()]
            return [n for _, n in sorted(pairs)]
    return []


def _nifti_cases(root: Path, img_dirs, lbl_dirs) -> list:
    img_dir = next((root / d for d in img_dirs if (root / d).is_dir()), None)
    if img_dir is None:
        raise DataError(f"empty folder: {root} has no imagesTr/ or images/ folder with .nii/.nii.gz files", 6)
    names = sorted(n.name for n in img_dir.iterdir() if NIFTI_RE.search(n.name))
    if not names:
        raise DataError(f"empty folder: {img_dir} holds no .nii/.nii.gz files", 6)
    groups: dict[str, list] = {}
    for n in names:
        m = CHANNEL_RE.match(n)
        cid = m.group(1) if m else NIFTI_RE.sub("", n)
        groups.setdefault(cid, []).append((int(m.group(2)) if m else 0, n))
    lbl_dir = next((root / d for d in lbl_dirs if (root / d).is_dir()), None)
    cases = []
    for cid in sorted(groups):
        files = sorted(groups[cid])
        chans, spacing, grid = [], (1.0, 1.0, 1.0), None
        for _, n in files:
            a, zooms, dims = _nifti(img_dir / n)
            if len(dims) == 2:
                grid = dims
            parts = [a[..., k] for k in range(a.shape[3])] if a.ndim == 4 else [a]
            chans += [_zyx(p) for p in parts]
            spacing = (zooms[2], zooms[1], zooms[0])
        label = None
        if lbl_dir is not None:
            for ext in (".nii.gz", ".nii"):
                f = lbl_dir / f"{cid}{ext}"
                if f.exists():
                    lb, _, _ = _nifti(f)
                    label = _zyx(_as_label(lb, str(f)))
                    if label.shape != chans[0].shape:
                        raise DataError(f"{f}: the label is {label.shape[::-1]} but the image is "
                                        f"{chans[0].shape[::-1]}", 7)
        cases.append(Case(cid, chans, label, spacing, [str(img_dir / n) for _, n in files], grid))
    return cases


def _png_cases(root: Path) -> list:
    from PIL import Image  # noqa: F401 - optional; only the PNG layout needs it

    img_dir = next(root / d for d in ("images", "imgs", "image") if (root / d).is_dir())
    mask_dir = next((root / d for d in ("masks", "labels", "mask", "label") if (root / d).is_dir()), None)
    if mask_dir is None:
        raise DataError(f"{root} has no masks/ (or labels/) folder beside {img_dir}")
    cases = []
    for f in sorted(p for p in img_dir.iterdir() if p.suffix.lower() == ".png"):
        im = np.asarray(Image.open(f).convert("L"))
        m = mask_dir / f.name
        if not m.exists():
            continue
        lb = _as_label(np.asarray(Image.open(m)), str(m))
        if lb.ndim == 3:
            lb = lb[..., 0]
        if lb.shape != im.shape:
            raise DataError(f"{m}: the mask is {lb.shape[1]}×{lb.shape[0]} but the image is "
                            f"{im.shape[1]}×{im.shape[0]}", 7)
        cases.append(Case(f.stem, [im[None]], lb[None], (1.0, 1.0, 1.0), [str(f), str(m)]))
    return cases


def _synapse_list(root: Path, name: str):
    for d in (root, root / "lists", root / "lists" / "lists_Synapse"):
        if (d / name).exists():
            return [ln.strip() for ln in (d / name).read_text().splitlines() if ln.strip()]
    raise DataError(f"{root / name} not found (also looked in lists/lists_Synapse/)")


def _synapse_cases(root: Path, split: str) -> list:
    cases = []
    if split == "train":
        for cid in _synapse_list(root, "train.txt"):
            z = np.load(root / "train_npz" / f"{cid}.npz")
            cases.append(Case(cid, [as_read_by_mam(np.asarray(z["image"]))[None]],
                              _as_label(z["label"], cid)[None], files=[f"train_npz/{cid}.npz"]))
    else:
        import h5py

        for cid in _synapse_list(root, "test_vol.txt"):
            with h5py.File(root / "test_vol_h5" / f"{cid}.npy.h5", "r") as f:
                cases.append(Case(cid, [as_read_by_mam(np.asarray(f["image"]))],
                                  _as_label(np.asarray(f["label"]), cid),
                                  files=[f"test_vol_h5/{cid}.npy.h5"]))
    return cases


def split_cases(cases, seed: int, val_fraction=0.2):
    """splitCases of src/train/samples.ts: ids ordered by a seeded hash, 20% validation."""
    if len(cases) < 2:
        return cases, cases
    order = sorted(cases, key=lambda c: (hash_string(c.id, seed), c.id))
    n_val = max(1, round(len(cases) * val_fraction))
    val = {c.id for c in order[:n_val]}
    return [c for c in cases if c.id not in val], [c for c in cases if c.id in val]


def with_intensity(cases, root: Path) -> None:
    """The folder's dataset.json intensity_range on each case (read and checked whatever
    --normalise says), as src/data's NIfTI folder and demo readers put it on their volumes."""
    r = intensity_range(root)
    for c in cases:
        c.intensity = r


def load_data(arg: str, seed: int) -> DataSet:
    if arg in DEMOS:
        return load_demo(demo_dir(arg))
    root = Path(arg)
    if not root.is_dir():
        raise DataError(f"--data {arg}: no such folder (give a data folder or 'demo')", 2)
    if not any(root.iterdir()):
        raise DataError(f"empty folder: {arg} holds nothing", 6)
    test = []
    synapse = (root / "train_npz").is_dir() or (root / "test_vol_h5").is_dir()
    if synapse:
        cases = _synapse_cases(root, "train")
        if (root / "test_vol_h5").is_dir():
            test = _synapse_cases(root, "test")
        source = f"Synapse layout {arg}"
    elif (root / "images").is_dir() and any(p.suffix.lower() == ".png" for p in (root / "images").iterdir()):
        cases, source = _png_cases(root), f"PNG folder {arg}"
    else:
        cases = _nifti_cases(root, ["imagesTr", "images"], ["labelsTr", "labels"])
        if (root / "imagesTs").is_dir() and (root / "labelsTs").is_dir():
            test = _nifti_cases(root, ["imagesTs"], ["labelsTs"])
        source = f"NIfTI folder {arg}"
        with_intensity([*cases, *test], root)
    labelled = [c for c in cases if c.label is not None]
    if not labelled:
        raise DataError(f"empty folder: {arg} has no labelled cases", 6)
    warnings = []
    # the Synapse layout names its classes as the paper does unless the folder says otherwise
    classes = _class_table(root) or (list(DEFAULT_CLASS_NAMES) if synapse else [])
    split_file = root / "split.json"
    if split_file.exists():
        j = json.loads(split_file.read_text())
        by_id = {c.id: c for c in labelled}
        pick = lambda ids: [by_id[i] for i in ids or [] if i in by_id]  # noqa: E731
        listed = set(j.get("val", [])) | set(j.get("test", []))
        train = pick(j["train"]) if "train" in j else [c for c in labelled if c.id not in listed]
        ds = DataSet(source, classes, train, pick(j.get("val")), test or pick(j.get("test")),
                     "split.json")
    else:
        train, val = split_cases(labelled, seed)
        rule = ("one case: validates on its training case" if len(labelled) < 2 else
                f"seeded hash of case ids (seed {seed}), 20% validation")
        if len(labelled) < 2:
            warnings.append("only one labelled case: validation uses the training case, so its scores "
                            "are optimistic")
        ds = DataSet(source, classes, train, val, test, rule)
    ds.warnings = warnings
    return ds


def check_classes(ds: DataSet, graph_classes: list, warn) -> None:
    k = len(graph_classes)
    for c in ds.all_cases():
        if c.label is not None and c.label.size and int(c.label.max()) >= k:
            raise DataError(f"{c.files[-1] if c.files else c.id} holds label {int(c.label.max())}, outside "
                            f"the graph's class table 0–{k - 1} ({', '.join(graph_classes)})", 8)
    if not ds.class_names:
        warn(f"the data has no classes.json: using the graph's class names ({', '.join(graph_classes)})")
    elif len(ds.class_names) != k:
        raise DataError(f"the data has {len(ds.class_names)} classes ({', '.join(ds.class_names)}) but the "
                        f"graph outputs {k} ({', '.join(graph_classes)})", 8)
    elif ds.class_names != list(graph_classes):
        warn(f"class names differ between the data ({', '.join(ds.class_names)}) and the graph "
             f"({', '.join(graph_classes)}); results use the graph's")


FNV_PRIME = 0x01000193
# Bit k of the next low byte, from bits 0…k of (low byte ⊕ data byte): bit k itself plus the carry
# into bit k of (bits below k) × the prime's low byte (odd, so its bit 0 passes bit k through).
_NEXT_BIT = [(((np.arange(256) >> k) & 1) ^ ((((np.arange(256) & ((1 << k) - 1)) * (FNV_PRIME & 255)) >> k) & 1))
             .astype(np.uint8) for k in range(8)]
_FNV_CHUNK = 1 << 20
_fnv_powers: dict[int, np.ndarray] = {}


def fnv1a(data, h: int) -> int:
    """32-bit FNV-1a over the bytes of `data`, continuing from `h` (hashBytes of src/train/samples.ts).

    Vectorised, as a Python loop over every voxel's bytes takes minutes on a real data set: with
    d = (low byte of h ⊕ byte) − low byte of h, a step is h ← p·(h + d) mod 2³², so after n bytes
    h = pⁿ·h + Σ pⁿ⁻ⁱ·dᵢ, a dot product once the low bytes are known. The low byte evolves on its
    own (low bits of a product depend on low bits only), and each of its bits, given the bits
    below it at every position, is a running XOR: 8 passes of numpy's xor-accumulate."""
    b_all = np.frombuffer(memoryview(data).cast("B"), np.uint8)
    for s in range(0, len(b_all), _FNV_CHUNK):
        b = b_all[s:s + _FNV_CHUNK]
        n = len(b)
        lo = np.zeros(n + 1, np.uint8)  # low byte of h before each byte, and after the last
        for k in range(8):
            flips = _NEXT_BIT[k][(lo[:n] ^ b) & np.uint8((2 << k) - 1)]
            run = np.bitwise_xor.accumulate(flips)
            if (h >> k) & 1:
                run ^= np.uint8(1)
                lo[0] |= np.uint8(1 << k)
            lo[1:] |= run << np.uint8(k)
        d = (lo[:n] ^ b).astype(np.uint32) - lo[:n].astype(np.uint32)
        pw = _fnv_powers.get(n)
        if pw is None:  # p^n … p^1, wrapping mod 2³² as uint32 does
            pw = _fnv_powers[n] = np.cumprod(np.full(n, FNV_PRIME, np.uint32), dtype=np.uint32)[::-1].copy()
        h = (int(pw[0]) * h + int(np.sum(pw * d, dtype=np.uint32))) & 0xFFFFFFFF
    return h


def as_read_by_mam(a: np.ndarray) -> np.ndarray:
    """A channel's voxels as our TypeScript readers hold them: float64 stays float64 (so do 64-bit
    integers, which src/data widens to float64), anything else becomes float32."""
    if a.dtype in (np.float64, np.int64, np.uint64):
        return a.astype(np.float64, copy=False)
    return a.astype(np.float32, copy=False)


def data_fingerprint(cases) -> str:
    """dataFingerprint of src/train/samples.ts, so a run folder's data is recognised by either
    engine: two FNV-1a chains, one over each case's id, grid and image voxels (as our readers hold
    them), one over the id, grid and labels; 16 hex digits."""
    a, b = 0x811C9DC5, 0x9E3779B9
    for c in cases:
        grids = ",".join("x".join(map(str, c.grid or ch.shape[::-1])) for ch in c.channels)
        head = f"{c.id}:{grids}".encode()
        a = fnv1a(head, a)
        b = fnv1a(head, b ^ 0x5BD1E995)
        for ch in c.channels:
            a = fnv1a(np.ascontiguousarray(as_read_by_mam(ch)), a)
        if c.label is not None:
            b = fnv1a(np.ascontiguousarray(c.label, np.uint8), b)
    return f"{a:08x}{b:08x}"


# ---- samples -----------------------------------------------------------------------------


INTENSITY_RANGE_KEYS = ("a_min", "a_max", "b_min", "b_max")


def intensity_range(root: Path | None) -> dict | None:
    """The data set's `intensity_range` (MONAI ScaleIntensityRange's a_min, a_max, b_min, b_max,
    clip) from its dataset.json, or None. As `mam train` reads it (intensityRangeOf of
    src/data/volume-crops.ts): the four bounds are required numbers, clip is true unless false, and
    a_min = a_max is MONAI's shift x − a_min + b_min."""
    f = root / "dataset.json" if root is not None else None
    if f is None or not f.exists():
        return None
    try:
        r = json.loads(f.read_text()).get("intensity_range")
    except json.JSONDecodeError as e:
        raise DataError(f"{f}: not valid JSON ({e})", 2) from None
    if r is None:
        return None
    r = r if isinstance(r, dict) else {}
    bad = [k for k in INTENSITY_RANGE_KEYS
           if isinstance(r.get(k), bool) or not isinstance(r.get(k), (int, float)) or not math.isfinite(r[k])]
    if bad:
        raise DataError(f"{f}: intensity_range has no number for {', '.join(bad)} (needs numbers "
                        f"{', '.join(INTENSITY_RANGE_KEYS)}, as MONAI's ScaleIntensityRanged)", 4)
    return {**{k: float(r[k]) for k in INTENSITY_RANGE_KEYS}, "clip": r.get("clip") is not False}


def scale_intensity(a: np.ndarray, r: dict) -> np.ndarray:
    """ScaleIntensityRange: (x − a_min)/(a_max − a_min)·(b_max − b_min) + b_min (x − a_min + b_min
    when a_min = a_max), clipped to the bounds' interval if asked."""
    x = a.astype(np.float64)
    span = r["a_max"] - r["a_min"]
    x = x - r["a_min"] + r["b_min"] if span == 0 else (x - r["a_min"]) / span * (r["b_max"] - r["b_min"]) + r["b_min"]
    if r["clip"]:
        x = np.clip(x, min(r["b_min"], r["b_max"]), max(r["b_min"], r["b_max"]))
    return x.astype(np.float32)


def resolve_normalisation(a: np.ndarray, mode: str) -> str:
    if mode != "auto":
        return mode
    if a.dtype == np.uint8:
        return "uint8"
    return "ct" if float(a.min()) < -200 else "percentile"


def normalise(a: np.ndarray, mode: str, irange: dict | None = None) -> np.ndarray:
    """A channel scaled as normaliseVolume of src/train/samples.ts: under 'auto' by the data set's
    intensity range where it has one (another --normalise wins), else by the resolved rule."""
    if mode == "auto" and irange:
        return scale_intensity(a, irange)
    rule = resolve_normalisation(a, mode)
    x = a.astype(np.float32)
    if rule == "none":
        return x
    if rule == "uint8":
        lo, hi = 0.0, 255.0
    elif rule == "ct":
        lo, hi = -125.0, 275.0
    else:
        flat = x.reshape(-1)
        step = max(1, flat.size // 200_000)
        sample = flat[::step].astype(np.float64)
        sample = sample[~np.isnan(sample)]
        lo, hi = np.percentile(sample, [0.5, 99.5]) if sample.size else (np.nan, np.nan)
        if not hi > lo:
            return np.zeros_like(x)
    return np.clip((x - np.float32(lo)) / np.float32(hi - lo), 0, 1).astype(np.float32)


def case_slices(c: Case, normalisation: str):
    """(image (H, W, C) float32, label (H, W) uint8) per slice."""
    chans = [normalise(a, normalisation, c.intensity) for a in c.channels]
    img = np.stack(chans, -1)  # (Z, H, W, C)
    return [(img[z], c.label[z]) for z in range(img.shape[0])]


def resize_plan(frm, to, rule):
    if rule == "stretch":
        return {"rule": rule, "from": frm, "to": to, "scaled": to, "offset": (0, 0)}
    f = min(to[0] / frm[0], to[1] / frm[1])
    scaled = (min(to[0], max(1, round(frm[0] * f))), min(to[1], max(1, round(frm[1] * f))))
    return {"rule": rule, "from": frm, "to": to, "scaled": scaled,
            "offset": ((to[0] - scaled[0]) // 2, (to[1] - scaled[1]) // 2)}


def _zoom_to(a, to, order):
    from scipy.ndimage import zoom

    if tuple(a.shape[:2]) == tuple(to):
        return a
    return zoom(a.astype(np.float64), (to[0] / a.shape[0], to[1] / a.shape[1]), order=order)


def fit_plane(a, plan, order):
    z = _zoom_to(a, plan["scaled"], order)
    if plan["rule"] == "stretch":
        return z.astype(np.float32)
    out = np.zeros(plan["to"], np.float32)
    (t, left), (sh, sw) = plan["offset"], plan["scaled"]
    out[t:t + sh, left:left + sw] = z
    return out


def unfit_plane(a, plan, order):
    (t, left), (sh, sw) = plan["offset"], plan["scaled"]
    return _zoom_to(a[t:t + sh, left:left + sw], plan["from"], order)


def fit_sample(img, lbl, size, rule):
    if img.shape[:2] == tuple(size):
        return img, lbl
    plan = resize_plan(img.shape[:2], tuple(size), rule)
    out = np.stack([fit_plane(img[..., k], plan, 3) for k in range(img.shape[2])], -1)
    return out.astype(np.float32), np.rint(fit_plane(lbl, plan, 0)).astype(np.uint8)


def augment(img, lbl, rng: np.random.Generator):
    """The reference RandomGenerator: p=.5 rot90 k + flip on a random axis, else p=.5 rotate
    by an integer angle in [-20, 20) (nearest, zeros outside), image and label alike."""
    from scipy.ndimage import rotate

    if rng.random() > 0.5:
        k, axis = int(rng.integers(0, 4)), int(rng.integers(0, 2))
        img, lbl = np.rot90(img, k, (0, 1)), np.rot90(lbl, k)
        return np.ascontiguousarray(np.flip(img, axis)), np.ascontiguousarray(np.flip(lbl, axis))
    if rng.random() > 0.5:
        angle = int(rng.integers(-20, 20))
        img = rotate(img, angle, axes=(1, 0), reshape=False, order=0)
        lbl = rotate(lbl, angle, axes=(1, 0), reshape=False, order=0)
    return img, lbl


def resize_records(slices, size, rule):
    seen = {}
    for img, _ in slices:
        hw = tuple(img.shape[:2])
        if hw != tuple(size):
            seen[hw] = seen.get(hw, 0) + 1
    return [{"from": list(hw), "to": list(size), "rule": rule,
             "scaled": list(resize_plan(hw, tuple(size), rule)["scaled"]), "slices": n}
            for hw, n in seen.items()]
