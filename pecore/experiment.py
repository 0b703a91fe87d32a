"""The contract every experiment chapter follows, and the pieces they share.

Each chapter package (``pecore.iqa``, ``pecore.reconstruction``, ``pecore.sr``) has

- ``settings.py`` — ``PRESETS`` (``ci``, ``quick``, a CPU ``book`` tier where the chapter needs one,
  ``paper``) and ``get_settings(name, **overrides)``;
- ``experiment.py`` (or, for SR, ``runs.py`` / ``results.py``) — ``run(...) -> Result``, a ``Result``
  (an :class:`ExperimentResult`) with ``save(dir)`` and ``Result.load(dir)`` (tables as CSV, arrays,
  ``provenance.json``) and ``chapter_result(...)`` (the stored results when they match, else a run,
  through :func:`stored_or_compute`);
- ``conclusions.py`` — ``conclusions(result) -> list[Verdict]``, with doctests;
- ``plots.py`` (figures) and ``cli.py`` (``add_parser``).

A :class:`Verdict` states one claim of the paper against one measure from an interval: 'supported' when
the interval lies on the predicted side of 0, 'contradicted' when it lies on the other side, 'undecided'
when it includes 0, and 'too few data' when the interval rests on fewer pairs than the chapter trusts.

Examples
--------
>>> v = Verdict.from_interval("top-PE keeps structure better", "relu2_2", "structure", 0.1, 0.05, 0.15, n=8)
>>> v.verdict
'supported'
>>> print(overall_reading([v]))
Supported in every test (1 of 1).
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from .errors import PecoreError

__all__ = ["VERDICTS", "MIN_IMAGES", "Verdict", "judge", "verdict_table", "overall_reading", "ExperimentResult", "display_name", "DISPLAY_NAMES",
           "stored_or_compute", "read_provenance", "read_checked", "verdict_reading", "READINGS", "verdict_word"]

VERDICTS = ("supported", "contradicted", "undecided", "too few data")
#: the fewest independent images (photographs, test images, reference scenes) an interval may rest on: a bootstrap
#: over fewer has too few distinct resamples (5 images give at most 126) for its interval to be trusted, so a test
#: on fewer reads 'too few data' whatever its interval — the one threshold of every chapter that resamples images
MIN_IMAGES = 10


def judge(ci_low: float, ci_high: float, *, predicted: int = 1, n: int | None = None, min_n: int = 4) -> str:
    """The verdict of an interval for a claim that predicts its sign (``+1``: above 0, ``-1``: below 0).

    Examples
    --------
    >>> judge(0.1, 0.3), judge(-0.3, -0.1), judge(-0.1, 0.2), judge(0.1, 0.3, n=2)
    ('supported', 'contradicted', 'undecided', 'too few data')
    >>> judge(-0.3, -0.1, predicted=-1)
    'supported'
    """
    if predicted not in (1, -1):
        raise ValueError("predicted must be +1 or -1")
    if (n is not None and n < min_n) or not (np.isfinite(ci_low) and np.isfinite(ci_high)):
        return "too few data"
    if predicted * ci_low > 0 and predicted * ci_high > 0:
        return "supported"
    if predicted * ci_low < 0 and predicted * ci_high < 0:
        return "contradicted"
    return "undecided"


@dataclass(frozen=True)
class Verdict:
    """One claim tested against one measure in one scope (a layer, a test set), from an interval."""

    claim: str
    scope: str
    measure: str
    estimate: float
    ci_low: float
    ci_high: float
    n: int
    verdict: str
    note: str = ""
    predicted: int = 1  # the side of 0 the claim predicts (+1 above, -1 below)

    @classmethod
    def from_interval(cls, claim: str, scope: str, measure: str, estimate: float, ci_low: float, ci_high: float, *,
                      n: int, predicted: int = 1, min_n: int = 4, note: str = "") -> Verdict:
        """A verdict judged by :func:`judge` from the estimate's interval."""
        return cls(claim, scope, measure, float(estimate), float(ci_low), float(ci_high), int(n),
                   judge(ci_low, ci_high, predicted=predicted, n=n, min_n=min_n), note, int(predicted))

    def sentence(self, digits: int = 3) -> str:
        """One Markdown line: the scope, the claim, the estimate with its interval and the verdict."""
        return (f"**{display_name(self.scope)}** — {self.claim}: {display_name(self.measure)} {self.estimate:+.{digits}g} "
                f"[{self.ci_low:+.{digits}g}, {self.ci_high:+.{digits}g}], n = {self.n}: **{self.verdict}**"
                + (f" ({self.note})" if self.note else ""))


#: words for the names of measures, score variants and arms that results carry (tables, verdicts, figures)
DISPLAY_NAMES = {
    "vgg16": "VGG-16", "alexnet": "AlexNet", "mannos-sakrison": "Mannos–Sakrison", "barten": "Barten",
    "structure": "edge correlation", "ssim_lowpass": "low-pass SSIM", "ssim_lowpass16": "low-pass SSIM (heavy blur)",
    "band_1_4": "luma 1–4 cycles/image", "band_4_8": "luma 4–8 cycles/image", "band_8_16": "luma 8–16 cycles/image",
    "band_16_32": "luma 16–32 cycles/image", "gmsd": "GMSD", "ssim": "SSIM", "psnr": "PSNR (dB)",
    "colour_de2000": "colour difference ΔE2000", "colour_de2000_blur": "ΔE2000 of blurred images",
    "lpips-vgg": "LPIPS (VGG)", "lpips-alex": "LPIPS (AlexNet)", "psnr_y": "PSNR-Y (dB)", "ssim_y": "SSIM-Y", "lpips_vgg": "LPIPS-vgg", "lpips_alex": "LPIPS-alex",
    "rho": "Spearman ρ", "srocc": "SROCC", "krocc": "KROCC", "plcc": "PLCC", "mu1": "μ1", "mu2": "μ2", "pe": "PE",
    "no-normalisation": "no normalisation", "log-derivative": "derivative in log f", "signed-slope": "signed slope",
    "no-csf": "no CSF (flat)", "barten-csf": "Barten CSF", "fhat-peak-activation": "f̂ at peak activation",
    "mu2-circular": "μ2 circular", "pe-mean": "PE as a mean", "oriented-mean-stimulus": "oriented-mean stimulus",
}


def display_name(name: str) -> str:
    """The words for a measure, variant or arm name (``random-s0`` → 'random (draw 0)'); other names unchanged.

    Examples
    --------
    >>> display_name("colour_de2000"), display_name("random-s1"), display_name("relu2_2")
    ('colour difference ΔE2000', 'random (draw 1)', 'relu2_2')
    >>> display_name("random-s1-t2"), display_name("top-t0")
    ('random (training seed 2, draw 1)', 'top (training seed 0)')
    """
    import re

    text = str(name)
    m = re.fullmatch(r"(pixel|all|top|bottom|random|pretrain)(?:-s(\d+))?-t(\d+)", text)
    if m:  # an SR run of one training seed
        draw = f", draw {m[2]}" if m[2] is not None else ""
        return f"{m[1]} (training seed {m[3]}{draw})"
    text = re.sub(r"\brandom-s(\d+)\b", r"random (draw \1)", text)
    return DISPLAY_NAMES.get(text, text)


def verdict_table(verdicts: Sequence[Verdict]) -> pd.DataFrame:
    """The verdicts as a table, one row each.

    Examples
    --------
    >>> verdict_table([Verdict("c", "s", "m", 1.0, 0.5, 1.5, 9, "supported")]).verdict.tolist()
    ['supported']
    """
    return pd.DataFrame([asdict(v) for v in verdicts],
                        columns=["claim", "scope", "measure", "estimate", "ci_low", "ci_high", "n", "verdict", "note"])


#: one word for a set of verdicts (:func:`verdict_word`), never stronger than they are
READINGS = ("supported", "contradicted", "undecided", "supported in part", "not supported", "mixed", "too few data")


def verdict_word(verdicts: Sequence[str]) -> str:
    """One word for a claim from the verdicts of its tests, never stronger than they are.

    'supported' / 'contradicted' when every test is; 'undecided' when none is either; 'supported in part'
    when some are supported and none contradicted; 'not supported' when some are contradicted and none
    supported; 'mixed' when some are supported and some contradicted. Tests with too few data count as
    undecided unless every test has too few data.

    Examples
    --------
    >>> verdict_word(["supported"] * 3), verdict_word(["supported", "undecided"]), verdict_word(["undecided"])
    ('supported', 'supported in part', 'undecided')
    >>> verdict_word(["contradicted", "undecided"]), verdict_word(["supported", "contradicted"])
    ('not supported', 'mixed')
    """
    v = [x for x in verdicts if x in VERDICTS]
    if not v:
        raise ValueError("verdict_word needs at least one verdict")
    if all(x == "too few data" for x in v):
        return "too few data"
    for word in ("supported", "contradicted"):
        if all(x == word for x in v):
            return word
    up, down = "supported" in v, "contradicted" in v
    return "mixed" if up and down else "supported in part" if up else "not supported" if down else "undecided"


def overall_reading(verdicts: Sequence[Verdict]) -> str:
    """One sentence that counts the verdicts, never stronger than they are.

    Examples
    --------
    >>> vs = [Verdict("c", "a", "m", 1, 0.5, 2, 9, "supported"), Verdict("c", "b", "m", 0, -1, 1, 9, "undecided")]
    >>> overall_reading(vs)
    'Supported in part: of 2 tests, 1 supported, 1 undecided.'
    """
    n = len(verdicts)
    if n == 0:
        return "Nothing was tested: the arms the claim compares were not both run."
    counts = {k: sum(v.verdict == k for v in verdicts) for k in VERDICTS}
    listing = ", ".join(f"{counts[k]} {k}" for k in VERDICTS if counts[k])
    word = verdict_word([v.verdict for v in verdicts])
    return {"too few data": f"Too few data for any verdict ({n} tests): rerun with more images or seeds.",
            "supported": f"Supported in every test ({n} of {n}).",
            "contradicted": f"Contradicted in every test ({n} of {n}).",
            "undecided": f"Undecided: no interval excludes zero ({listing}).",
            }.get(word, f"{word.capitalize()}: of {n} tests, {listing}.")


class ExperimentResult:
    """Base of every chapter's result: ``provenance`` plus ``save`` / ``load`` of one folder.

    Subclasses are dataclasses with their tables and arrays and a ``provenance`` dict; they write
    ``provenance.json`` with :meth:`write_provenance` and implement :meth:`save` and :meth:`load`.
    """

    provenance: dict[str, Any]

    def save(self, out_dir: str | os.PathLike) -> Path:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def load(cls, folder: str | os.PathLike):  # pragma: no cover - abstract
        raise NotImplementedError

    def write_provenance(self, out: Path) -> None:
        """Write ``provenance.json`` into ``out`` atomically."""
        from .cache import atomic_write_text

        atomic_write_text(out / "provenance.json", json.dumps(self.provenance, indent=2, default=str) + "\n")

    def write_checked(self, out: Path, files: dict[str, bytes]) -> Path:
        """Write ``files`` and a ``provenance.json`` that holds their sha256 and its own digest, all or none
        (:func:`pecore.output.write_result_files`); :func:`read_checked` verifies them on reading back."""
        import hashlib

        from .output import write_result_files
        from .probe_result import provenance_digest

        core = {k: v for k, v in self.provenance.items() if k != "store"}
        prov = {**core, "store": {"sha256": {n: hashlib.sha256(d).hexdigest() for n, d in files.items()},
                                  "provenance_sha256": provenance_digest(core)}}
        return write_result_files(out, {**files, "provenance.json": (json.dumps(prov, indent=2, default=str) + "\n").encode()})


def read_checked(folder: str | os.PathLike, names: Sequence[str], command: str) -> dict[str, Any]:
    """The provenance of a result folder written by :meth:`ExperimentResult.write_checked`, after checking that
    each of ``names`` matches the sha256 recorded there and that the provenance itself was not edited.

    ``command`` names what remakes the folder, for the error message.

    Raises
    ------
    DatasetError
        A file is missing, changed or truncated, or ``provenance.json`` was edited.
    """
    import hashlib

    from .errors import DatasetError
    from .probe_result import provenance_digest

    folder = Path(folder)
    prov = read_provenance(folder)
    store = prov.get("store") or {}
    if store.get("provenance_sha256") != provenance_digest(prov):
        raise DatasetError(f"{folder / 'provenance.json'} was edited after {command} wrote it (or has no checksums): "
                           f"restore it (git checkout) or rerun {command}")
    for name in names:
        path = folder / name
        if not path.is_file():
            raise DatasetError(f"{folder} is not a complete result: no {name}; rerun {command}")
        if store.get("sha256", {}).get(name) != hashlib.sha256(path.read_bytes()).hexdigest():
            raise DatasetError(f"{path} does not match the sha256 in its provenance.json: the file was changed or "
                               f"truncated; restore it (git checkout) or rerun {command}")
    return prov


def read_provenance(folder: str | os.PathLike) -> dict[str, Any]:
    """The ``provenance.json`` of a result folder.

    Raises
    ------
    PecoreError
        The file is missing or not JSON.
    """
    path = Path(folder) / "provenance.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise PecoreError(f"{path} is missing or unreadable ({exc.__class__.__name__}): not a saved result") from None


R = TypeVar("R", bound=ExperimentResult)


def stored_or_compute(folder: Path, load: Callable[[Path], R], mismatch: Callable[[R], str | None],
                      compute: Callable[[], R], *, use_stored: bool = True) -> R:
    """The stored result in ``folder`` when allowed, present and matching, else a freshly computed one.

    ``mismatch(result)`` returns ``None`` when the stored result answers the request, else a short reason
    (e.g. "other layers"). The returned result's provenance says ``stored`` (True / False) and, for a
    computed one, ``stored_reason``: why the stored result was not used — chapters show it at the top
    of the page.
    """
    if not use_stored:
        reason = "stored results not requested (use_stored=False)"
    elif not (folder / "provenance.json").is_file():
        reason = f"no stored results at {folder.parent.name}/{folder.name}"
    else:
        stored = load(folder)
        reason = mismatch(stored)
        if reason is None:
            stored.provenance["stored"] = True
            return stored
    result = compute()
    result.provenance["stored"] = False
    result.provenance.setdefault("stored_reason", reason)
    return result


def verdict_reading(verdicts: Sequence[Verdict]) -> str:
    """:func:`pecore.experiment.overall_reading` of ``verdicts``, naming the scopes (in words) whose test was
    supported and those whose test was contradicted: one sentence for a page, instead of one per test.

    Examples
    --------
    >>> vs = [Verdict("c", "vgg16 relu1_2", "m", -0.4, -0.6, -0.1, 64, "contradicted"),
    ...       Verdict("c", "alexnet relu1", "m", 0.1, -0.1, 0.3, 64, "undecided")]
    >>> verdict_reading(vs)
    'Not supported: of 2 tests, 1 contradicted, 1 undecided; contradicted in VGG-16 relu1_2.'
    """
    named = [f"{k} in {', '.join(' '.join(display_name(w) for w in v.scope.split(' ')) for v in verdicts if v.verdict == k)}"
             for k in ("supported", "contradicted") if any(v.verdict == k for v in verdicts)]
    return overall_reading(verdicts).rstrip(".") + ("; " + "; ".join(named) if named else "") + "."
