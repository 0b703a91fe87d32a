"""Image-quality datasets: a generic full-reference table, native layouts, and 2AFC triplets.

Every loader returns a :class:`FRDataset` (pairs of reference and distorted images with a human
score and its direction) or a :class:`TwoAFCDataset` (BAPPS-style triplets). Paths in the tables
are absolute; pairs listed in a score table whose files are missing are dropped with a warning, and
the dataset says how many were listed and how many are present.

Supported layouts (``layout=`` of :func:`load_dataset`; 'auto' detects them):

- ``generic``: a folder with ``scores.csv`` holding ``ref, dist, score`` and ``higher_is_better``
  (a column or an argument), paths relative to the folder.
- ``tid2013`` (also TID2008): ``reference_images/I01.BMP``, ``distorted_images/i01_01_1.bmp``,
  ``mos_with_names.txt`` (``MOS name`` per line; higher is better).
- ``live``: LIVE release 2 — ``refimgs/``, ``{jp2k,jpeg,wn,gblur,fastfading}/`` with ``info.txt``,
  ``dmos_realigned.mat`` (``dmos_new``, ``orgs``) or ``dmos.mat`` (``dmos``, ``orgs``); DMOS, lower is
  better. A ``scores.csv`` in the generic form beside or above ``databaserelease2/`` takes precedence.
- ``csiq``: ``src_imgs/<image>.png``, ``dst_imgs/<type>/<image>.<TYPE>.<level>.png`` and the
  ``all_by_image`` sheet of ``csiq.DMOS.xlsx`` (needs openpyxl) or its CSV export ``csiq.DMOS.csv``
  (columns ``image, dst_type, dst_lev, dmos``); DMOS, lower is better.
- ``kadid10k``: ``images/I01.png``, ``images/I01_01_01.png`` and ``dmos.csv``
  (``dist_img, ref_img, dmos, var``); KADID's "DMOS" is a 1–5 opinion score, higher is better.
- ``bapps``: a 2AFC folder ``ref/ p0/ p1/ judge/`` (``judge/*.npy``: the fraction of people who
  preferred p1), as in LPIPS's BAPPS.

Length: one loader per database layout (six of them) beside the pair-table checks they all share;
each loader is short, and keeping them together keeps the layout detection beside what it detects.
"""
from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..errors import DatasetError, ParameterError
from ..imageio import load_image
from ..validate import check_choice

__all__ = [
    "LAYOUTS",
    "IMAGE_SUFFIXES",
    "MissingImagesWarning",
    "FRDataset",
    "TwoAFCDataset",
    "load_dataset",
    "detect_layout",
    "load_generic",
    "load_tid2013",
    "load_live",
    "load_csiq",
    "load_kadid10k",
    "load_bapps",
    "check_pair_sizes",
]

LAYOUTS = ("auto", "generic", "tid2013", "live", "csiq", "kadid10k", "bapps")
IMAGE_SUFFIXES = (".bmp", ".png", ".jpg", ".jpeg", ".tif", ".tiff")
LIVE_FOLDERS = (("jp2k", 227), ("jpeg", 233), ("wn", 174), ("gblur", 174), ("fastfading", 174))
CSIQ_TYPES = {"noise": "awgn", "awgn": "awgn", "jpeg": "jpeg", "jpeg 2000": "jpeg2000", "jpeg2000": "jpeg2000",
              "fnoise": "fnoise", "blur": "blur", "contrast": "contrast"}


class MissingImagesWarning(UserWarning):
    """A score table lists images that are not on disk; the dataset uses those present."""


def _as_bool(value: Any, where: str) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "higher"):
        return True
    if text in ("false", "0", "no", "lower"):
        return False
    raise DatasetError(f"{where}: higher_is_better must be true or false, got {value!r}")


@dataclass
class FRDataset:
    """Full-reference pairs with human scores.

    Attributes
    ----------
    name, layout
        A label and the layout it was read from.
    root
        The dataset folder.
    pairs
        One row per present pair: ``ref``, ``dist`` (absolute paths), ``score``, ``group`` (the
        reference's name, resampled together by bootstraps) and any extra columns (``distortion``...).
    higher_is_better
        Direction of ``score`` (MOS: True, DMOS: False).
    n_listed
        Pairs the score table lists; ``len(pairs)`` of them are on disk.
    missing
        Listed files that are not on disk.
    """

    name: str
    layout: str
    root: Path
    pairs: pd.DataFrame
    higher_is_better: bool
    n_listed: int
    missing: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.pairs)

    @property
    def human_scores(self) -> np.ndarray:
        """The human scores of the present pairs."""
        return self.pairs.score.to_numpy(dtype=np.float64)

    @property
    def groups(self) -> np.ndarray:
        """The reference name of each pair (the bootstrap resamples these)."""
        return self.pairs.group.to_numpy()

    def summary(self) -> str:
        """One line: name, pairs present of listed, references, score direction.

        Examples
        --------
        >>> from pecore.imageio import shared_data_dir
        >>> load_tid2013(shared_data_dir() / "iqa/tid2013-subset").summary()
        'tid2013-subset (tid2013): 6 of 6 listed pairs present, 6 reference images; score: MOS (higher is better)'
        """
        kind = "MOS (higher is better)" if self.higher_is_better else "DMOS (lower is better)"
        return (f"{self.name} ({self.layout}): {len(self)} of {self.n_listed} listed pairs present, "
                f"{self.pairs.group.nunique()} reference images; score: {kind}")

    def subset(self, rows: Any) -> FRDataset:
        """A dataset of some of the pairs (``rows``: positional indices or a boolean mask)."""
        pairs = self.pairs.iloc[rows] if not isinstance(rows, slice) else self.pairs.iloc[rows]
        return FRDataset(self.name, self.layout, self.root, pairs.reset_index(drop=True), self.higher_is_better,
                         self.n_listed, list(self.missing))

    def load_pair(self, i: int, *, size: int | None = None, device: str | torch.device = "cpu"
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """Reference and distorted image of pair ``i`` (RGB in [0, 1]), shorter side resized to ``size``."""
        row = self.pairs.iloc[i]
        ref, dist = load_image(row.ref, size=size, device=device), load_image(row.dist, size=size, device=device)
        if ref.shape != dist.shape:
            raise DatasetError(f"pair {i}: {row.ref} is {tuple(ref.shape[1:])} but {row.dist} is {tuple(dist.shape[1:])}")
        return ref, dist

    def identity(self) -> dict[str, Any]:
        """What identifies the data for a cache key: every file's name, size and modification time."""
        files = []
        for p in pd.unique(pd.concat([self.pairs.ref, self.pairs.dist])):
            st = os.stat(p)
            files.append([os.path.relpath(p, self.root), st.st_size, st.st_mtime_ns])
        return {"layout": self.layout, "files": files, "scores": self.human_scores.tolist()}


@dataclass
class TwoAFCDataset:
    """Two-alternative forced-choice triplets: a reference, two distortions, the human preference.

    ``triplets`` has columns ``ref``, ``p0``, ``p1`` (absolute paths) and ``judge`` (the fraction of
    people who found p1 closer to the reference).
    """

    name: str
    root: Path
    triplets: pd.DataFrame
    n_listed: int
    missing: list[str] = field(default_factory=list)
    layout: str = "bapps"

    def __len__(self) -> int:
        return len(self.triplets)

    def summary(self) -> str:
        """One line: name and triplets present of listed."""
        return f"{self.name} (2AFC): {len(self)} of {self.n_listed} listed triplets present"


def _check_root(root: str | os.PathLike) -> Path:
    path = Path(root)
    if not path.is_dir():
        raise DatasetError(f"dataset folder {path} is a file, not a folder" if path.exists()
                           else f"dataset folder {path} does not exist")
    return path


def _finish(name: str, layout: str, root: Path, table: pd.DataFrame, hib: bool) -> FRDataset:
    n_listed = len(table)
    if n_listed == 0:
        raise DatasetError(f"{name}: the score table lists no pairs")
    ok = table.ref.map(os.path.isfile) & table.dist.map(os.path.isfile)
    missing = sorted(set(table.ref[~table.ref.map(os.path.isfile)]) | set(table.dist[~table.dist.map(os.path.isfile)]))
    pairs = table[ok].reset_index(drop=True)
    if pairs.empty:
        raise DatasetError(f"{name}: none of the {n_listed} pairs listed in its score table is on disk under {root} "
                           f"(first missing: {missing[0]}{' is a folder, not an image' if os.path.isdir(missing[0]) else ''})")
    if not np.all(np.isfinite(pairs.score.to_numpy(dtype=float))):
        raise DatasetError(f"{name}: the score table has missing or non-numeric scores")
    same = pairs[pairs.ref.map(os.path.realpath) == pairs.dist.map(os.path.realpath)]
    if len(same):
        raise DatasetError(f"{name}: pair {os.path.relpath(same.iloc[0].dist, root)} uses the reference file itself as "
                           "its distorted image; a pair needs two images")
    twice = pairs[pairs.duplicated(["ref", "dist"], keep=False)]
    if len(twice):
        first = twice.iloc[0]
        raise DatasetError(f"{name}: the score table lists the pair {os.path.relpath(first.dist, root)} (reference "
                           f"{os.path.relpath(first.ref, root)}) {int((twice.dist == first.dist).sum())} times; a pair "
                           "counted twice weighs twice in every correlation: keep one row per pair")
    if len(pairs) > 1 and np.ptp(pairs.score.to_numpy(dtype=float)) == 0:
        raise DatasetError(f"{name}: every human score is {pairs.score.iloc[0]:g}; constant scores cannot be "
                           "correlated with a metric")
    if len(pairs) < n_listed:
        warnings.warn(f"{name}: {n_listed - len(pairs)} of {n_listed} listed pairs are not on disk; "
                      f"evaluating the {len(pairs)} present", MissingImagesWarning, stacklevel=3)
    if "group" not in pairs:
        pairs.insert(3, "group", pairs.ref.map(lambda p: Path(p).stem))
    return FRDataset(name, layout, root, pairs, hib, n_listed, [os.path.relpath(m, root) for m in missing])


def check_pair_sizes(dataset: FRDataset) -> FRDataset:
    """Refuse pairs whose distorted image differs in size from its reference (read from the file headers).

    Such a pair would otherwise be resized and scored silently; load the dataset with ``resize=True``
    (``pecore iqa --resize``) to accept it, and the images are then resized to the same shorter side.

    Examples
    --------
    >>> from pecore.imageio import shared_data_dir
    >>> len(check_pair_sizes(load_tid2013(shared_data_dir() / "iqa/tid2013-subset")))
    6
    """
    from PIL import Image

    sizes: dict[str, tuple[int, int]] = {}

    def size(path: str) -> tuple[int, int]:
        if path not in sizes:
            try:
                with Image.open(path) as im:
                    sizes[path] = im.size
            except Image.DecompressionBombError as exc:
                raise DatasetError(f"{dataset.name}: image {path} is too large to read safely ({exc})") from exc
            except (OSError, ValueError, SyntaxError) as exc:
                raise DatasetError(f"{dataset.name}: cannot read image {path}: {exc}") from exc
        return sizes[path]

    for ref, dist in zip(dataset.pairs.ref, dataset.pairs.dist):
        if size(ref) != size(dist):
            (w1, h1), (w2, h2) = size(ref), size(dist)
            raise DatasetError(f"{dataset.name}: distorted image {dist} is {w2}x{h2} but its reference {ref} is "
                               f"{w1}x{h1}; pass --resize (resize=True) to resize both to the same size")
    return dataset


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DatasetError(f"cannot read the score table {path}: {exc}") from exc


def load_generic(root: str | os.PathLike, table: str = "scores.csv", *, higher_is_better: bool | None = None,
                 name: str | None = None, resize: bool = False) -> FRDataset:
    """A folder of images and a CSV with ``ref, dist, score`` (+ ``higher_is_better``), paths relative to it.

    A distorted image of another size than its reference is refused unless ``resize`` (see :func:`check_pair_sizes`).

    Examples
    --------
    >>> from pecore.imageio import shared_data_dir
    >>> ds = load_generic(shared_data_dir() / "iqa/live-r2-subset")
    >>> len(ds), ds.higher_is_better, ds.pairs.group.nunique()
    (95, False, 5)
    """
    root = _check_root(root)
    path = root / table
    if not path.is_file():
        raise DatasetError(f"score table {path} does not exist")
    df = _read_csv(path)
    need = {"ref", "dist", "score"}
    if not need <= set(df.columns):
        raise DatasetError(f"{path} must have columns ref, dist, score (and higher_is_better); got {', '.join(df.columns)}")
    if higher_is_better is None:
        if "higher_is_better" not in df:
            raise DatasetError(f"{path} has no higher_is_better column; pass higher_is_better=True (MOS) or False (DMOS)")
        values = {_as_bool(v, str(path)) for v in df.higher_is_better.unique()}
        if len(values) != 1:
            raise DatasetError(f"{path}: higher_is_better must be the same for every row")
        higher_is_better = values.pop()
    df = df.copy()
    df["ref"] = [str(root / r) for r in df.ref.astype(str)]
    df["dist"] = [str(root / d) for d in df.dist.astype(str)]
    df["score"] = pd.to_numeric(df.score, errors="coerce")
    df = df.drop(columns=[c for c in ("higher_is_better",) if c in df])
    ds = _finish(name or root.name, "generic", root, df, bool(higher_is_better))
    return ds if resize else check_pair_sizes(ds)


def _index_folder(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        raise DatasetError(f"dataset folder {folder} does not exist")
    return {p.name.lower(): p for p in folder.iterdir() if p.is_file()}


def load_tid2013(root: str | os.PathLike, *, name: str | None = None) -> FRDataset:
    """TID2013 (or TID2008) in its own layout; MOS, higher is better.

    Examples
    --------
    >>> from pecore.imageio import shared_data_dir
    >>> ds = load_tid2013(shared_data_dir() / "iqa/tid2013-subset")
    >>> r = ds.pairs.iloc[0]
    >>> r.group, float(r.score), int(r.distortion), int(r.level)
    ('I01', 3.86486, 1, 5)
    """
    root = _check_root(root)
    table = root / "mos_with_names.txt"
    if not table.is_file():
        raise DatasetError(f"TID2013 score table {table} does not exist")
    refs = _index_folder(root / "reference_images")
    rows = []
    try:
        lines = table.read_text(errors="strict").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read {table}: {exc}") from exc
    for k, line in enumerate(lines, 1):
        if not line.strip():
            continue
        parts = line.split()
        m = re.fullmatch(r"i(\d+)_(\d+)_(\d+)\.\w+", parts[-1].lower()) if len(parts) == 2 else None
        if m is None:
            raise DatasetError(f"{table} line {k}: expected 'MOS iXX_YY_Z.bmp', got {line!r}")
        try:
            mos = float(parts[0])
        except ValueError:
            raise DatasetError(f"{table} line {k}: MOS {parts[0]!r} is not a number") from None
        ref_key = next((n for n in refs if Path(n).stem == f"i{m.group(1)}"), f"i{m.group(1)}.bmp")
        ref = refs.get(ref_key, root / "reference_images" / f"I{m.group(1)}.BMP")
        rows.append({"ref": str(ref), "dist": str(root / "distorted_images" / parts[-1]), "score": mos,
                     "group": f"I{m.group(1)}", "distortion": int(m.group(2)), "level": int(m.group(3))})
    df = pd.DataFrame(rows)
    if not df.empty:  # distorted names are case-insensitive on the original CD
        dists = _index_folder(root / "distorted_images")
        df["dist"] = [str(dists.get(Path(d).name.lower(), d)) for d in df.dist]
    return _finish(name or root.name, "tid2013", root, df, True)


def _live_base(root: Path) -> Path:
    return root / "databaserelease2" if (root / "databaserelease2").is_dir() else root


def load_live(root: str | os.PathLike, *, name: str | None = None) -> FRDataset:
    """LIVE release 2 (native ``.mat`` files, or a generic ``scores.csv``); DMOS, lower is better.

    Reference copies inside the distortion folders (``orgs == 1``) are not distorted images and are
    left out, as is usual.

    Examples
    --------
    >>> from pecore.imageio import shared_data_dir
    >>> ds = load_live(shared_data_dir() / "iqa/live-r2-subset")
    >>> ds.layout, len(ds), sorted(ds.pairs.distortion.unique())
    ('live', 95, ['fastfading', 'gblur', 'jpeg', 'wn'])
    """
    root = _check_root(root)
    for csv in (root / "scores.csv", root.parent / "scores.csv" if root.name == "databaserelease2" else None):
        if csv is not None and csv.is_file():
            ds = load_generic(csv.parent, csv.name, name=name or csv.parent.name, resize=True)  # load_dataset checks
            ds.layout = "live"
            return ds
    base = _live_base(root)
    mat = next((base / f for f in ("dmos_realigned.mat", "dmos.mat") if (base / f).is_file()), None)
    if mat is None or not (base / "refnames_all.mat").is_file():
        raise DatasetError(f"{root} is not LIVE release 2: no scores.csv, and no dmos_realigned.mat/dmos.mat with "
                           "refnames_all.mat")
    from scipy.io import loadmat

    try:
        m, r = loadmat(mat), loadmat(base / "refnames_all.mat")
        dmos = np.ravel(m["dmos_new"] if "dmos_new" in m else m["dmos"]).astype(float)
        orgs = np.ravel(m["orgs"]).astype(int)
        refnames = [str(np.ravel(v)[0]) for v in np.ravel(r["refnames_all"])]
    except (OSError, ValueError, KeyError, IndexError, NotImplementedError) as exc:
        raise DatasetError(f"cannot read LIVE score files in {base}: {exc}") from exc
    total = sum(n for _, n in LIVE_FOLDERS)
    if not (len(dmos) == len(orgs) == len(refnames) == total):
        raise DatasetError(f"LIVE score files in {base} must have {total} entries, got {len(dmos)}, {len(orgs)}, {len(refnames)}")
    rows, offset = [], 0
    for folder, n in LIVE_FOLDERS:
        for k in range(1, n + 1):
            i = offset + k - 1
            if not orgs[i]:
                rows.append({"ref": str(base / "refimgs" / refnames[i]), "dist": str(base / folder / f"img{k}.bmp"),
                             "score": dmos[i], "group": Path(refnames[i]).stem, "distortion": folder,
                             "live_index": i + 1})
        offset += n
    return _finish(name or root.name, "live", root, pd.DataFrame(rows), False)


def load_csiq(root: str | os.PathLike, *, name: str | None = None) -> FRDataset:
    """CSIQ: ``src_imgs/``, ``dst_imgs/<type>/`` and ``csiq.DMOS.xlsx`` or ``csiq.DMOS.csv``; lower is better.

    The score sheet's ``dst_type`` names (noise, jpeg, jpeg 2000, fnoise, blur, contrast) are mapped
    to the folder names (awgn, jpeg, jpeg2000, fnoise, blur, contrast); the distorted file is found
    by image name and level in that folder, case-insensitively.
    """
    root = _check_root(root)
    csv, xlsx = root / "csiq.DMOS.csv", root / "csiq.DMOS.xlsx"
    if csv.is_file():
        df = _read_csv(csv)
    elif xlsx.is_file():
        try:
            df = pd.read_excel(xlsx, sheet_name="all_by_image")
        except ImportError as exc:
            raise DatasetError(f"reading {xlsx} needs openpyxl (pip install openpyxl), or export its "
                               "'all_by_image' sheet to csiq.DMOS.csv") from exc
        except (OSError, ValueError) as exc:
            raise DatasetError(f"cannot read {xlsx}: {exc}") from exc
    else:
        raise DatasetError(f"CSIQ score table csiq.DMOS.csv or csiq.DMOS.xlsx not found in {root}")
    df.columns = [str(c).strip().lower() for c in df.columns]
    if not {"image", "dst_type", "dst_lev", "dmos"} <= set(df.columns):
        raise DatasetError(f"CSIQ table needs columns image, dst_type, dst_lev, dmos; got {', '.join(df.columns)}")
    src = _index_folder(root / "src_imgs")
    dst_root = root / "dst_imgs"
    if not dst_root.is_dir():
        raise DatasetError(f"CSIQ folder {dst_root} does not exist")
    folders = {p.name.lower(): p for p in dst_root.iterdir() if p.is_dir()}
    rows = []
    for _, row in df.dropna(subset=["image"]).iterrows():
        image = str(row.image).strip()
        image = image[:-2] if image.endswith(".0") else image
        kind = CSIQ_TYPES.get(str(row.dst_type).strip().lower())
        if kind is None:
            raise DatasetError(f"CSIQ table: unknown dst_type {row.dst_type!r}; known: {', '.join(sorted(CSIQ_TYPES))}")
        level = int(row.dst_lev)
        folder = folders.get(kind, dst_root / kind)
        found = [p for p in folder.glob("*") if folder.is_dir() and p.name.lower().startswith(f"{image.lower()}.")
                 and p.name.lower().rsplit(".", 2)[-2:-1] == [str(level)]] if folder.is_dir() else []
        dist = found[0] if found else folder / f"{image}.{kind.upper()}.{level}.png"
        ref = next((p for n, p in src.items() if Path(n).stem == image.lower()), root / "src_imgs" / f"{image}.png")
        rows.append({"ref": str(ref), "dist": str(dist), "score": float(row.dmos), "group": image,
                     "distortion": kind, "level": level})
    return _finish(name or root.name, "csiq", root, pd.DataFrame(rows), False)


def load_kadid10k(root: str | os.PathLike, *, name: str | None = None) -> FRDataset:
    """KADID-10k: ``images/`` and ``dmos.csv`` (``dist_img, ref_img, dmos``); its 1–5 score: higher is better."""
    root = _check_root(root)
    table = root / "dmos.csv"
    if not table.is_file():
        raise DatasetError(f"KADID-10k score table {table} does not exist")
    df = _read_csv(table)
    if not {"dist_img", "ref_img", "dmos"} <= set(df.columns):
        raise DatasetError(f"{table} needs columns dist_img, ref_img, dmos; got {', '.join(df.columns)}")
    img = root / "images" if (root / "images").is_dir() else root
    out = pd.DataFrame({"ref": [str(img / r) for r in df.ref_img], "dist": [str(img / d) for d in df.dist_img],
                        "score": pd.to_numeric(df.dmos, errors="coerce"),
                        "group": [Path(r).stem for r in df.ref_img]})
    codes = [re.fullmatch(r"I\d+_(\d+)_(\d+)", Path(d).stem) for d in df.dist_img]
    out["distortion"] = [int(c.group(1)) if c else -1 for c in codes]
    out["level"] = [int(c.group(2)) if c else -1 for c in codes]
    return _finish(name or root.name, "kadid10k", root, out, True)


def load_bapps(root: str | os.PathLike, *, name: str | None = None) -> TwoAFCDataset:
    """A BAPPS-style 2AFC folder: ``ref/``, ``p0/``, ``p1/`` images and ``judge/*.npy`` preferences."""
    root = _check_root(root)
    judge_dir = root / "judge"
    if not judge_dir.is_dir():
        raise DatasetError(f"2AFC folder {root} has no judge/ folder")
    rows, missing, listed = [], [], 0
    for j in sorted(judge_dir.glob("*.npy")):
        listed += 1
        try:
            value = float(np.ravel(np.load(j, allow_pickle=False))[0])
        except (OSError, ValueError, IndexError) as exc:
            raise DatasetError(f"cannot read {j}: {exc}") from exc
        if not 0.0 <= value <= 1.0:
            raise DatasetError(f"{j}: a judgement is a fraction in [0, 1], got {value}")
        paths = {}
        for part in ("ref", "p0", "p1"):
            hit = [root / part / f"{j.stem}{s}" for s in IMAGE_SUFFIXES if (root / part / f"{j.stem}{s}").is_file()]
            paths[part] = str(hit[0]) if hit else None
        if None in paths.values():
            missing.append(j.stem)
            continue
        rows.append({**paths, "judge": value})
    if listed == 0:
        raise DatasetError(f"2AFC folder {judge_dir} holds no .npy judgements")
    if not rows:
        raise DatasetError(f"none of the {listed} judged triplets in {root} has its ref/p0/p1 images")
    if missing:
        warnings.warn(f"{root.name}: {len(missing)} of {listed} triplets lack images; evaluating the {len(rows)} present",
                      MissingImagesWarning, stacklevel=2)
    return TwoAFCDataset(name or root.name, root, pd.DataFrame(rows), listed, missing)


def detect_layout(root: str | os.PathLike) -> str:
    """The layout of a dataset folder (see the module docstring).

    Examples
    --------
    >>> from pecore.imageio import shared_data_dir
    >>> detect_layout(shared_data_dir() / "iqa/tid2013-subset"), detect_layout(shared_data_dir() / "iqa/live-r2-subset")
    ('tid2013', 'live')
    """
    root = _check_root(root)
    if (root / "mos_with_names.txt").is_file():
        return "tid2013"
    base = _live_base(root)
    if (base / "refimgs").is_dir() or (base / "refnames_all.mat").is_file():
        return "live"
    if (root / "csiq.DMOS.csv").is_file() or (root / "csiq.DMOS.xlsx").is_file():
        return "csiq"
    if (root / "dmos.csv").is_file():
        return "kadid10k"
    if (root / "judge").is_dir() and (root / "p0").is_dir():
        return "bapps"
    if (root / "scores.csv").is_file():
        return "generic"
    raise DatasetError(f"cannot tell the layout of {root}: expected scores.csv (generic), mos_with_names.txt (TID2013), "
                       "databaserelease2/ or refimgs/ (LIVE), csiq.DMOS.* (CSIQ), dmos.csv (KADID-10k) or judge/ (BAPPS)")


def load_dataset(root: str | os.PathLike, layout: str = "auto", *, resize: bool = False,
                 **kwargs: Any) -> FRDataset | TwoAFCDataset:
    """Load a dataset folder in any supported layout ('auto' detects it).

    A full-reference pair whose distorted image differs in size from its reference is refused unless
    ``resize`` (see :func:`check_pair_sizes`).

    Raises
    ------
    DatasetError
        The folder or its score table is missing or unreadable, no listed image is on disk, or a pair's
        images differ in size (without ``resize``).
    UnknownNameError
        An unknown layout name.

    Examples
    --------
    >>> from pecore.imageio import shared_data_dir
    >>> load_dataset(shared_data_dir() / "iqa/tid2013-subset").n_listed
    6
    """
    check_choice("dataset layout", layout, LAYOUTS)
    layout = detect_layout(root) if layout == "auto" else layout
    loader = {"generic": load_generic, "tid2013": load_tid2013, "live": load_live, "csiq": load_csiq,
              "kadid10k": load_kadid10k, "bapps": load_bapps}[layout]
    if layout == "generic":
        kwargs["resize"] = resize
    try:
        ds = loader(root, **kwargs)
    except TypeError as exc:
        raise ParameterError(f"loader for {layout}: {exc}") from exc
    if isinstance(ds, FRDataset) and layout != "generic" and not resize:
        check_pair_sizes(ds)
    return ds
