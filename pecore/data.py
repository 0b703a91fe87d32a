"""The datasets behind the live runs: where each comes from, its terms, the files pecore expects and their sha256.

The book renders without them (every chapter has stored results); a rerun that computes — chapter 05 on new
parameters, the reconstruction and super-resolution runs, the tests — reads them from the data folder
(``$PECORE_DATA``, :func:`pecore.imageio.shared_data_dir`). ``pecore data list`` says what each dataset is and where
it comes from, ``pecore data check`` verifies a folder against the sha256 of every expected file, and
``pecore data fetch`` downloads an archive with pooch (a kept, well-tested fetcher, as scikit-image uses), unpacks
the expected files into the data folder and checks them. A finished download stays in pooch's cache, so an
interrupted unpack or check does not download again.

Examples
--------
>>> [d.name for d in DATASETS.values()]
['live-r2-subset', 'tid2013-subset', 'sr']
>>> check("tid2013-subset").ok
True
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DatasetError

__all__ = ["Dataset", "DATASETS", "DataCheck", "registry", "make_registry", "check", "fetch"]

_REGISTRY = Path(__file__).with_name("data_registry.json")


@dataclass(frozen=True)
class Dataset:
    """One dataset: its folder inside the data folder, what it is, where it comes from, its terms and citation.

    ``archive`` is a direct download of an archive holding the files (``None`` when the authors distribute the
    data on request), ``archive_prefix`` the folder inside the archive that corresponds to ``folder``.
    """

    name: str
    folder: str
    what: str
    source: str
    licence: str
    citation: str
    archive: str | None = None
    archive_prefix: str = ""


DATASETS: dict[str, Dataset] = {d.name: d for d in (
    Dataset("live-r2-subset", "iqa/live-r2-subset",
            "5 reference scenes and 95 distorted images of the LIVE Image Quality Assessment Database release 2, "
            "with realigned DMOS (chapter 05)",
            "https://live.ece.utexas.edu/research/quality/subjective.htm (the full database, on request)",
            "LIVE's copyright notice (kept in the folder): research use, acknowledge LIVE / UT Austin",
            "H. R. Sheikh, M. F. Sabir, A. C. Bovik, A statistical evaluation of recent full reference image quality "
            "assessment algorithms, IEEE TIP 15(11), 2006"),
    Dataset("tid2013-subset", "iqa/tid2013-subset",
            "6 reference/distorted pairs of TID2013 with their MOS, and the MOS of all 3,000 TID2013 images (tests)",
            "https://www.ponomarenko.info/tid2013.htm (the full database)",
            "free for research use, cite the paper",
            "N. Ponomarenko et al., Image database TID2013: Peculiarities, results and perspectives, Signal "
            "Processing: Image Communication 30, 2015"),
    Dataset("sr", "sr",
            "Set5, Set14 and BSD100 as cropped and downsampled by the SelfExSR authors (reruns of chapters 04 and 06, tests)",
            "https://github.com/jbhuang0604/SelfExSR (commit 8f6dd8c1d20cb7e8792a7177b4f6fd677633f598, data/)",
            "no licence file; the images belong to their datasets' authors: non-commercial research, cite them",
            "Bevilacqua et al., BMVC 2012 (Set5); Zeyde et al., Curves and Surfaces 2010 (Set14); Martin et al., "
            "ICCV 2001 (BSD100); Huang et al., CVPR 2015 (SelfExSR)",
            archive="https://github.com/jbhuang0604/SelfExSR/archive/8f6dd8c1d20cb7e8792a7177b4f6fd677633f598.zip",
            archive_prefix="SelfExSR-8f6dd8c1d20cb7e8792a7177b4f6fd677633f598/data"),
)}


@dataclass
class DataCheck:
    """The result of :func:`check`: files missing, files whose sha256 differs, and files that match."""

    name: str
    folder: Path
    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    matched: int = 0

    @property
    def ok(self) -> bool:
        """Every expected file is there with its sha256."""
        return not self.missing and not self.changed

    def line(self) -> str:
        """One line for the command's output."""
        if self.ok:
            return f"{self.name}: {self.matched} files match ({self.folder})"
        parts = []
        if self.missing:
            parts.append(f"{len(self.missing)} missing (e.g. {self.missing[0]})")
        if self.changed:
            parts.append(f"{len(self.changed)} changed (e.g. {self.changed[0]})")
        return f"{self.name}: {', '.join(parts)}; {self.matched} match ({self.folder})"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def registry() -> dict[str, dict[str, str]]:
    """Per dataset, every expected file (relative to its folder) with its sha256."""
    return json.loads(_REGISTRY.read_text())


def make_registry(root: str | os.PathLike) -> dict[str, dict[str, str]]:
    """The registry of the datasets found under ``root`` (for maintainers: written as ``pecore/data_registry.json``)."""
    root = Path(root)
    out = {}
    for d in DATASETS.values():
        folder = root / d.folder
        if d.name == "sr":  # the images pecore reads; Set14's img_009 is used nowhere and left out
            files = sorted(p for p in folder.rglob("*.png") if not p.name.startswith("img_009_") or "Set14" not in p.parts)
        else:
            files = sorted(p for p in folder.rglob("*") if p.is_file())
        out[d.name] = {p.relative_to(folder).as_posix(): _sha256(p) for p in files}
    return out


def _dataset(name: str) -> Dataset:
    from .validate import check_choice

    return DATASETS[check_choice("dataset", name, DATASETS)]


def _root(root: str | os.PathLike | None) -> Path:
    if root is not None:
        return Path(root)
    from .imageio import shared_data_dir

    return shared_data_dir()


def check(name: str, root: str | os.PathLike | None = None) -> DataCheck:
    """Verify dataset ``name`` under ``root`` (default: the data folder) against the registry's sha256."""
    return _check_folder(name, _root(root) / _dataset(name).folder)


def _check_folder(name: str, folder: Path, shown: Path | None = None) -> DataCheck:
    """Every expected file of ``name`` in ``folder`` against its sha256 (``shown``: the folder the result names)."""
    result = DataCheck(name, shown or folder)
    for rel, digest in registry()[name].items():
        path = folder / rel
        if not path.is_file():
            result.missing.append(rel)
        elif _sha256(path) != digest:
            result.changed.append(rel)
        else:
            result.matched += 1
    return result


def _download(url: str, sha256: str | None, progress: bool) -> Path:
    """The archive at ``url`` (http/https/ftp) through pooch's cache, or a local file as it is."""
    local = Path(url[len("file://"):] if url.startswith("file://") else url)
    if "://" not in url or url.startswith("file://"):
        if not local.is_file():
            raise DatasetError(f"no archive at {local}: give a local .zip file or an http(s) URL")
        if sha256 and _sha256(local) != sha256.lower():
            raise DatasetError(f"{local} does not match the sha256 given (--sha256): a different or damaged archive")
        return local
    import logging

    import pooch
    import requests

    pooch.get_logger().setLevel(logging.INFO if progress else logging.WARNING)
    try:
        return Path(pooch.retrieve(url, known_hash=f"sha256:{sha256}" if sha256 else None, progressbar=progress,
                                   path=pooch.os_cache("pecore")))
    except requests.exceptions.RequestException as exc:
        raise DatasetError(f"could not download {url} ({exc.__class__.__name__}): check the address and the "
                           "connection, or download it yourself and give the file") from None
    except ValueError as exc:  # pooch: hash mismatch
        raise DatasetError(f"{url}: {str(exc).splitlines()[0]}") from None


def fetch(name: str, root: str | os.PathLike | None = None, *, url: str | None = None, sha256: str | None = None,
          progress: bool = True) -> DataCheck:
    """Download (or read) an archive of dataset ``name``, unpack its expected files into the data folder and check
    them.

    ``url`` defaults to the dataset's own archive; datasets distributed on request need it (a URL or a local .zip).
    Files are unpacked into a temporary folder beside the target and moved into place only when every expected
    file matches its sha256, so a failed fetch leaves the data folder as it was.

    Raises
    ------
    DatasetError
        No archive to fetch from, a download error (one line), an archive without the expected files, or files
        that do not match the registry.
    """
    d = _dataset(name)
    url = url or d.archive
    if url is None:
        raise DatasetError(f"{name} is distributed by its authors ({d.source}): download it there, then run "
                           f"`pecore data fetch {name} --url FILE_OR_URL`")
    if root is not None or os.environ.get("PECORE_DATA"):  # a folder named by the user is made if need be
        target_root = Path(root if root is not None else os.environ["PECORE_DATA"])
    else:
        from .imageio import shared_data_dir

        try:
            target_root = shared_data_dir()
        except DatasetError:
            raise DatasetError("no data folder: set PECORE_DATA to the folder the datasets go into, or give --root") from None
    archive = _download(url, sha256, progress)
    if not zipfile.is_zipfile(archive):
        raise DatasetError(f"{archive} is not a zip archive")
    expected = registry()[name]
    prefix = d.archive_prefix.strip("/")
    target = target_root / d.folder
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}-") as scratch:
        staged = Path(scratch) / target.name
        with zipfile.ZipFile(archive) as z:
            members = {m.filename.rstrip("/"): m for m in z.infolist() if not m.is_dir()}
            for rel in expected:
                member = members.get(f"{prefix}/{rel}" if prefix else rel)
                if member is None:
                    continue
                out = staged / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                with z.open(member) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        result = _check_folder(name, staged, target)
        if not result.ok:
            raise DatasetError(f"the archive does not hold {name} as expected: {result.line()}")
        for rel in expected:  # move into place file by file; files already there are replaced by verified copies
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged / rel, dest)
    return check(name, target_root)
