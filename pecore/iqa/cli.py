"""The ``pecore`` sub-commands of the iqa chapter: ``distance`` and ``iqa``."""
from __future__ import annotations

import argparse
import sys

from ..errors import ParameterError
from ..validate import check_positive

__all__ = ["add_parser"]


def _pe_table(net: str, path: str | None, preset: str, device: str):
    """Channel scores: a ``pe_table.csv`` (or folder holding one), else the stored/probed ones."""
    from ..notebook import resolve_pe_table
    from ..probe_result import read_pe_table

    if path is not None:
        read_pe_table(path)  # named errors for a missing, empty or damaged file
    table, label = resolve_pe_table(net, path, preset, device)
    return table, {"scores": label}


def _check_size(name: str, value: int | None, minimum: int = 16) -> None:
    from ..validate import check_image_memory

    if value is not None and value < minimum:
        raise ParameterError(f"{name} must be at least {minimum} pixels (the networks' pooling needs it), got {value}")
    if value is not None:
        check_image_memory(name, value)


def _add_distance(sub: argparse._SubParsersAction) -> None:
    from ..metric import METRICS
    from ..selection import SUBSETS

    p = sub.add_parser(
        "distance",
        help="print the perceptual distance between two images (lower = more similar)",
        description="Distance between a reference and a distorted image, both read as RGB in [0, 1]: LPIPS v0.1 "
        "(vgg or alex) or the channel-subset metric (features unit-normalised across channels, squared difference, "
        "spatial mean, summed over the chosen channels and layers).",
    )
    p.add_argument("ref", help="reference image file")
    p.add_argument("dist", help="distorted image file (same size)")
    p.add_argument("--metric", default="lpips-vgg", choices=METRICS, help="default: lpips-vgg")
    p.add_argument("--net", default="vgg16", choices=("vgg16", "alexnet"), help="network of the subset metric")
    p.add_argument("--layers", nargs="+", default=None, help="layers of the subset metric (default: the five taps)")
    p.add_argument("--subset", default="top", choices=SUBSETS, help="channels by PE: top, bottom, random or all")
    p.add_argument("--p", type=float, default=None, help="subset size, percent of each layer's channels (default 25; "
                   "not with --subset all)")
    p.add_argument("--seed", type=int, default=None, help="seed of a random subset (default 0; --subset random only)")
    p.add_argument("--probe-result", default=None, help="pe_table.csv (or its folder) from `pecore probe`; default: the "
                   "stored paper-preset scores, else a probe under --preset")
    p.add_argument("--preset", default="quick", help="preset of a probe when no scores are given (default quick)")
    p.add_argument("--size", type=int, default=None, help="resize both images so the shorter side has SIZE pixels")
    p.add_argument("--per-layer", action="store_true", help="also print each layer's contribution")
    p.add_argument("--device", default="auto", help="auto (CUDA if present, else CPU), cpu, cuda, cuda:N")
    p.set_defaults(run=_run_distance)


def _run_distance(args: argparse.Namespace) -> int:
    import torch

    from ..imageio import load_image
    from ..metric import create_metric

    from ..validate import check_fraction

    if args.size is not None:
        check_positive("--size", args.size, integer=True)
        _check_size("--size", args.size)
    if args.layers and args.metric != "subset":
        raise ParameterError(f"--layers applies to --metric subset only; {args.metric} uses its five fixed layers")
    from ..presets import PRESETS
    from ..validate import check_choice

    check_choice("probe preset (--preset)", args.preset, PRESETS)
    subset_options = {"--net": args.net != "vgg16", "--subset": args.subset != "top", "--p": args.p is not None,
                      "--seed": args.seed is not None, "--probe-result": args.probe_result is not None}
    if args.metric != "subset":
        given = [k for k, v in subset_options.items() if v]
        if given:
            raise ParameterError(f"{', '.join(given)} apply to --metric subset only; {args.metric} uses its own "
                                 "network, layers and learned weights")
    if args.p is not None:
        if args.subset == "all":
            raise ParameterError("--p does not apply to --subset all (every channel is used)")
        check_fraction("--p", args.p)
    if args.seed is not None:
        if args.subset != "random":
            raise ParameterError(f"--seed applies to --subset random only, not to --subset {args.subset}")
        check_positive("--seed", args.seed, integer=True, allow_zero=True)
    if args.probe_result is not None and args.subset == "all":
        raise ParameterError("--probe-result does not apply to --subset all (every channel is used, no PE ranking)")
    args.p = 25.0 if args.p is None else args.p
    args.seed = 0 if args.seed is None else args.seed
    x, y = load_image(args.ref, size=args.size), load_image(args.dist, size=args.size)
    pe_table, note = None, ""
    if args.metric == "subset" and args.subset != "all":
        pe_table, info = _pe_table(args.net, args.probe_result, args.preset, args.device)
        note = f"; channel scores: {info['scores']}"
    d = create_metric(args.metric, network=args.net if args.metric == "subset" else None, pe_table=pe_table,
                      layers=args.layers, subset=args.subset, p=args.p, seed=args.seed, device=args.device)
    with torch.inference_mode():
        per = d.layer_distances(x, y)
    total = float(sum(float(v[0]) for v in per.values()))
    print(f"{total:.6f}")
    if args.per_layer:
        for k, v in per.items():
            print(f"  {k}: {float(v[0]):.6f}")
    what = "all channels" if args.subset == "all" else f"{args.subset} {args.p:g} %"
    label = args.metric if args.metric != "subset" else f"subset metric, {what} of {args.net} {','.join(d.layers)}"
    print(f"({label}; lower = more similar; images {tuple(x.shape[1:])}{note})", file=sys.stderr)
    return 0


def _add_iqa(sub: argparse._SubParsersAction) -> None:
    from ..iqa.datasets import LAYOUTS

    p = sub.add_parser(
        "iqa",
        help="score PE channel subsets against human quality judgments; write CSV tables",
        description="Run the IQA experiment on a full-reference dataset: top/bottom/random/all PE channel subsets for "
        "each p and layer, PSNR/SSIM/LPIPS baselines, SROCC/KROCC/PLCC with bootstrap intervals over reference images, "
        "and each channel's SROCC against PE. Writes grid.csv, channels.csv, channel_summary.csv, pairs.csv and "
        "provenance.json into --out.",
    )
    p.add_argument("--data", required=True, help="dataset folder (TID2013, LIVE release 2, CSIQ, KADID-10k or a "
                   "folder with a generic scores.csv)")
    p.add_argument("--layout", default="auto", choices=LAYOUTS, help="dataset layout (default: detect it)")
    p.add_argument("--net", default="vgg16", choices=("vgg16", "alexnet"), help="network whose channels are studied")
    p.add_argument("--preset", default="quick", help="grid and budgets: quick (laptop CPU), book (the stored tier, CPU), paper (GPU), ci (tests)")
    p.add_argument("--probe-result", default=None, help="pe_table.csv (or its folder) from `pecore probe`; default: the "
                   "stored paper-preset scores, else a probe under --preset")
    p.add_argument("--size", type=int, default=None, help="override the preset's image size (shorter side, pixels)")
    p.add_argument("--native-size", action="store_true", help="use the images at their native size (not with --size)")
    p.add_argument("--resize", action="store_true", help="accept distorted images of another size than their "
                   "reference, resizing both to the same shorter side (not with --native-size)")
    p.add_argument("--max-pairs", type=int, default=None, help="use at most this many pairs")
    p.add_argument("--seed", type=int, default=0, help="first seed of the random subsets and the bootstrap")
    p.add_argument("--device", default="auto", help="auto (CUDA if present, else CPU), cpu, cuda, cuda:N")
    p.add_argument("--no-cache", action="store_true", help="recompute the per-channel terms")
    p.add_argument("--synthetic", action="store_true", help="also run the synthetic distortion check (Set5 photographs "
                   "from the data folder) and save it as synthetic.csv")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_run_iqa)


def _run_iqa(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ..captions import recorded_command
    from ..output import check_writable
    from .settings import get_settings as get_iqa_settings
    from .datasets import FRDataset, load_dataset
    from .experiment import run as run_iqa

    out = check_writable(args.out)
    settings = get_iqa_settings(args.preset)
    if args.native_size and args.size is not None:
        raise ParameterError("--native-size and --size exclude each other: use the images at their native size, or "
                             "resize them to --size")
    if args.native_size and args.resize:
        raise ParameterError("--resize and --native-size exclude each other: pairs of different sizes cannot be "
                             "compared at their native size")
    if args.native_size:
        settings = replace(settings, image_size=None)
    elif args.size is not None:
        _check_size("--size", args.size)
        settings = replace(settings, image_size=args.size)
    if args.max_pairs is not None:
        if args.max_pairs < 3:
            raise ParameterError(f"--max-pairs must be at least 3, got {args.max_pairs}")
        settings = replace(settings, max_pairs=args.max_pairs)
    check_positive("--seed", args.seed, integer=True, allow_zero=True)
    ds = load_dataset(args.data, args.layout, resize=args.resize)
    if not isinstance(ds, FRDataset):
        raise ParameterError(f"{args.data} is a 2AFC dataset; `pecore iqa` needs full-reference pairs with scores")
    if args.probe_result is None:
        from ..notebook import chapter_probe

        table = chapter_probe(args.net, settings.probe_preset, device=args.device)
    else:
        table, _ = _pe_table(args.net, args.probe_result, settings.probe_preset, args.device)
    result = run_iqa(ds, args.net, table, settings=settings, preset=args.preset, device=args.device, seed=args.seed,
                     cache=not args.no_cache, progress=not args.quiet)
    if args.probe_result is not None:
        from ..imageio import portable_data_path

        result.provenance["scores"] = {"source": "pe_table.csv given by --probe-result",
                                       "file": portable_data_path(args.probe_result)}
    if args.synthetic:
        import time

        from .synthetic import synthetic_check

        t0 = time.perf_counter()
        result.synthetic = synthetic_check(args.net, table, settings=settings, preset=args.preset, device=args.device,
                                           seed=args.seed, cache=not args.no_cache, progress=not args.quiet)
        result.provenance.setdefault("seconds", {})["synthetic_check"] = round(time.perf_counter() - t0, 2)
    result.provenance["command"] = recorded_command()
    result.save(out)
    best = result.grid[result.grid.layers == "all"].sort_values("srocc", ascending=False).iloc[0]
    print(f"{ds.summary()}")
    extra = ", synthetic.csv" if args.synthetic else ""
    print(f"wrote {out}/grid.csv ({len(result.grid)} rows), channels.csv, channel_summary.csv, pairs.csv, chance.csv{extra}, "
          f"provenance.json; best all-layer subset: {best.subset} {best.p:g} % (SROCC {best.srocc:.3f} "
          f"[{best.srocc_lo:.3f}, {best.srocc_hi:.3f}])")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add this chapter's commands to the ``pecore`` sub-parsers."""
    _add_distance(sub)
    _add_iqa(sub)
