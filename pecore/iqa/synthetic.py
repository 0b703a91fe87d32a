"""A synthetic check that needs no human data: graded distortions of real photographs.

Five kinds of distortion (Gaussian noise, Gaussian blur, JPEG, contrast reduction, a colour cast)
at five levels each are applied to real photographs (Set5, then Set14). A good distance grows with
the level; a metric is scored by its **rank consistency**: the Spearman correlation between its
distance and the level within each (photograph, kind) sequence, averaged. This tests the pipeline
and the metrics' monotonicity; it is **not** a human study and says nothing about perceived quality.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from PIL import Image

from ..cache import atomic_write_text, cache_dir, cache_key
from ..errors import ParameterError
from ..imageio import load_image, save_image, shared_data_dir, to_uint8
from ..validate import check_choice, check_image
from .datasets import FRDataset, load_generic
from .stats import srocc

__all__ = ["KINDS", "LADDERS", "distort", "photographs", "synthetic_dataset", "rank_consistency", "synthetic_check"]

KINDS = ("noise", "blur", "jpeg", "contrast", "colour")
#: the five levels of each kind, mildest first: noise σ, blur σ (pixels), JPEG quality,
#: contrast factor, colour-cast amplitude (added to R, subtracted from B)
LADDERS: dict[str, tuple[float, ...]] = {
    "noise": (0.02, 0.04, 0.07, 0.11, 0.16),
    "blur": (0.6, 1.0, 1.6, 2.4, 3.5),
    "jpeg": (60, 35, 20, 10, 4),
    "contrast": (0.85, 0.7, 0.55, 0.4, 0.25),
    "colour": (0.03, 0.06, 0.1, 0.15, 0.2),
}


def _blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    r = max(1, int(np.ceil(3 * sigma)))
    t = torch.arange(-r, r + 1, dtype=x.dtype)
    g = torch.exp(-t**2 / (2 * sigma**2))
    g = (g / g.sum()).to(x.device)
    y = F.pad(x[None], (r, r, r, r), mode="reflect")
    y = F.conv2d(y, g.view(1, 1, 1, -1).repeat(3, 1, 1, 1), groups=3)
    y = F.conv2d(y, g.view(1, 1, -1, 1).repeat(3, 1, 1, 1), groups=3)
    return y[0]


def distort(image: torch.Tensor, kind: str, level: int, *, seed: int = 0) -> torch.Tensor:
    """Apply distortion ``kind`` at ``level`` (1 = mildest … 5) to an RGB image in [0, 1], ``(3, H, W)``.

    Examples
    --------
    >>> x = torch.full((3, 16, 16), 0.5)
    >>> float(distort(x, "contrast", 5).std()), round(float(distort(x, "colour", 1)[0, 0, 0]), 4)
    (0.0, 0.53)
    """
    x = check_image(image, "image (RGB in [0, 1])")
    if x.shape[0] != 1:
        raise ParameterError(f"distort takes one image, got a batch of {x.shape[0]}")
    x = x[0]
    check_choice("distortion kind", kind, KINDS)
    if isinstance(level, bool) or not isinstance(level, (int, np.integer)) or not 1 <= level <= len(LADDERS[kind]):
        raise ParameterError(f"distortion level must be an integer in 1..{len(LADDERS[kind])}, got {level!r}")
    a = LADDERS[kind][level - 1]
    if kind == "noise":
        g = torch.Generator().manual_seed(seed)
        y = x + a * torch.randn(x.shape, generator=g).to(x.device)
    elif kind == "blur":
        y = _blur(x, a)
    elif kind == "jpeg":
        buf = io.BytesIO()
        Image.fromarray(to_uint8(x)).save(buf, format="JPEG", quality=int(a))
        buf.seek(0)
        arr = np.asarray(Image.open(buf).convert("RGB"), dtype=np.float32) / 255.0
        y = torch.from_numpy(arr).permute(2, 0, 1).to(x.device)
    elif kind == "contrast":
        y = x.mean() + a * (x - x.mean())
    else:  # colour cast
        y = x + torch.tensor([a, 0.0, -a], dtype=x.dtype, device=x.device).view(3, 1, 1)
    return y.clamp(0, 1)


def photographs(n: int) -> list[Path]:
    """The first ``n`` real photographs of Set5 then Set14 (HR images) from the shared data.

    Examples
    --------
    >>> [p.name for p in photographs(2)]
    ['img_001_SRF_4_HR.png', 'img_002_SRF_4_HR.png']
    """
    root = shared_data_dir() / "sr"
    paths = sorted((root / "Set5" / "image_SRF_4").glob("*_HR.png")) + sorted((root / "Set14" / "image_SRF_4").glob("*_HR.png"))
    if not 1 <= n <= len(paths):
        raise ParameterError(f"the synthetic check can use 1..{len(paths)} photographs (Set5 + Set14), got {n}")
    return paths[:n]


def synthetic_dataset(n_images: int = 3, size: int = 128, levels: int = 5, *, seed: int = 0,
                      folder: str | os.PathLike | None = None) -> FRDataset:
    """Write the graded distortions of ``n_images`` photographs to a folder and load it as a dataset.

    The 'score' of a pair is its distortion level (higher is worse: ``higher_is_better`` false) and
    ``group`` is the photograph; ``sequence`` names the (photograph, kind) sequence. The folder
    (default: under the pecore cache, named by the inputs) is reused when it exists.

    Examples
    --------
    >>> ds = synthetic_dataset(1, size=32, levels=2)
    >>> len(ds), sorted(ds.pairs.distortion.unique())[:2]
    (10, ['blur', 'colour'])
    """
    if isinstance(levels, bool) or not isinstance(levels, int) or not 2 <= levels <= 5:
        raise ParameterError(f"levels must be an integer in 2..5, got {levels!r}")
    paths = photographs(n_images)
    key = cache_key("iqa-synthetic", {"images": [p.name for p in paths], "size": size, "levels": levels, "seed": seed,
                                      "ladders": {k: list(v) for k, v in LADDERS.items()}, "version": 1})
    out = Path(folder) if folder is not None else cache_dir() / key
    table = out / "scores.csv"
    if not table.is_file():
        rows = []
        for i, path in enumerate(paths):
            name = f"{path.parent.parent.name}_{path.stem.split('_SRF')[0]}"
            ref = load_image(path, size=size)
            ref_rel = f"ref/{name}.png"
            save_image(ref, out / ref_rel)
            for kind in KINDS:
                for level in range(1, levels + 1):
                    rel = f"dist/{name}_{kind}_{level}.png"
                    save_image(distort(ref, kind, level, seed=seed + 1000 * i + level), out / rel)
                    rows.append({"ref": ref_rel, "dist": rel, "score": level, "higher_is_better": False,
                                 "distortion": kind, "sequence": f"{name}/{kind}"})
        atomic_write_text(table, pd.DataFrame(rows).to_csv(index=False))
    return load_generic(out, name="synthetic distortions")


def rank_consistency(pred: np.ndarray, dataset: FRDataset, *, pred_higher_is_better: bool = False) -> pd.DataFrame:
    """Spearman ρ between a metric and the distortion level within each sequence, per kind and overall.

    Returns one row per kind plus 'all': the mean ρ over sequences and the fraction of sequences
    ordered perfectly (ρ = 1).

    Examples
    --------
    >>> ds = synthetic_dataset(1, size=32, levels=3)
    >>> float(rank_consistency(ds.human_scores, ds).set_index("kind").loc["all", "rho"])
    1.0
    """
    pred = np.asarray(pred, dtype=np.float64)
    if pred.shape != (len(dataset),):
        raise ParameterError(f"pred must have one value per pair ({len(dataset)}), got shape {pred.shape}")
    sign = -1.0 if pred_higher_is_better else 1.0
    rows = []
    for seq, idx in dataset.pairs.groupby("sequence", sort=False).groups.items():
        i = dataset.pairs.index.get_indexer(idx)
        x, lev = sign * pred[i], dataset.human_scores[i]
        rho = srocc(x, lev) if np.ptp(x) > 0 else 0.0
        rows.append({"kind": dataset.pairs.distortion.iloc[i[0]], "rho": rho})
    per = pd.DataFrame(rows)
    out = per.groupby("kind", sort=False).agg(rho=("rho", "mean"), perfect=("rho", lambda r: float(np.mean(np.isclose(r, 1.0)))),
                                              sequences=("rho", "size")).reset_index()
    total = pd.DataFrame([{"kind": "all", "rho": per.rho.mean(), "perfect": float(np.mean(np.isclose(per.rho, 1.0))),
                           "sequences": len(per)}])
    return pd.concat([out, total], ignore_index=True)


def synthetic_check(network, pe_table, *, settings=None, preset: str = "quick", device: str = "auto", seed: int = 0,
                    cache: bool = True, progress: bool = False) -> pd.DataFrame:
    """Rank consistency of every subset metric (all layers) and the baselines on the synthetic set.

    Parameters
    ----------
    network
        'vgg16', 'alexnet' or a loaded :class:`pecore.networks.Network`.
    pe_table
        Its channel scores (table or ``ProbeResult``).
    settings
        :class:`pecore.iqa.settings.IQASettings` (default: the preset's): ``synthetic_images``,
        ``synthetic_size``, ``synthetic_levels``, ``ps``, ``n_seeds``.

    Returns
    -------
    pandas.DataFrame
        One row per metric (``metric``, ``subset``, ``p``) and one column per distortion kind plus
        ``all`` (mean Spearman ρ with the level) and ``perfect`` (fraction of perfectly ordered sequences).
    """
    from ..networks import Network, load_network
    from .settings import get_settings as get_iqa_settings
    from ..weights import load_lpips_linear
    from .experiment import subset_predictions
    from .terms import dataset_terms

    settings = settings or get_iqa_settings(preset)
    table = getattr(pe_table, "table", pe_table)
    net = network if isinstance(network, Network) else load_network(network, device=device)
    ds = synthetic_dataset(settings.synthetic_images, settings.synthetic_size, settings.synthetic_levels, seed=seed)
    nets = {net.name: net}
    for name in ("vgg16", "alexnet"):
        if name not in nets:
            nets[name] = load_network(name, device=net.device)
    terms, base = dataset_terms(list(nets.values()), ds, size=None, batch_size=settings.batch_size, cache=cache,
                                progress=progress)
    studied = terms[net.name]
    preds: list[tuple[str, str, float, np.ndarray, bool]] = [
        ("PSNR", "psnr", np.nan, base.psnr.to_numpy(), True), ("SSIM", "ssim", np.nan, base.ssim.to_numpy(), True)]
    for metric, name in (("LPIPS-vgg", "vgg16"), ("LPIPS-alex", "alexnet")):
        preds.append((metric, metric.lower(), np.nan, terms[name].weighted([w.numpy() for w in load_lpips_linear(name)[0]]),
                      False))
    rows = []
    for label, subset, p, pred, hib in preds:
        rc = rank_consistency(pred, ds, pred_higher_is_better=hib).set_index("kind")
        rows.append({"metric": label, "subset": subset, "p": p, **rc.rho.to_dict(), "perfect": rc.loc["all", "perfect"]})
    for subset in ("top", "bottom", "random", "all"):
        for p in (settings.ps if subset != "all" else (100.0,)):
            seeds = range(seed, seed + settings.n_seeds) if subset == "random" else [seed]
            pred, _ = subset_predictions(studied, table, studied.layers, subset, p, list(seeds))
            rcs = [rank_consistency(row, ds).set_index("kind") for row in pred]
            rho = pd.concat([r.rho for r in rcs], axis=1).mean(axis=1)
            rows.append({"metric": f"{net.name} {subset}" + (f" {p:g} %" if subset != "all" else ""),
                         "subset": subset, "p": p, **rho.to_dict(),
                         "perfect": float(np.mean([r.loc["all", "perfect"] for r in rcs]))})
    return pd.DataFrame(rows)
