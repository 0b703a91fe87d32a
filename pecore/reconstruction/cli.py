"""The ``pecore`` sub-commands of the reconstruction chapter.

``pecore reconstruct IMAGE --layer relu2_2 --subset top --p 25 --out OUT.png`` rebuilds one image
from a channel subset and writes, next to ``OUT.png``: ``OUT.loss.csv`` (the loss history) and
``OUT.metrics.json`` (PSNR, SSIM, structure and colour scores against the resized original, the
channels used and the provenance).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path


__all__ = ["add_parser"]


def _add_reconstruct(sub: argparse._SubParsersAction) -> None:
    from ..networks import NETWORKS
    from .settings import PRESETS
    from ..selection import SUBSETS
    from .invert import PARAMETERISATIONS

    p = sub.add_parser(
        "reconstruct",
        help="rebuild an image from the features of a PE-chosen channel subset of a layer",
        description="Invert the features of a channel subset (top / bottom / random p % by PE, or all channels) of "
        "one layer: start from seeded noise and minimise the normalised feature distance plus a TV prior with Adam. "
        "Writes OUT (PNG), OUT's stem + .loss.csv (loss history) and + .metrics.json (PSNR, SSIM, structure, colour "
        "against the resized original, with provenance).",
    )
    p.add_argument("image", help="an image file (any format PIL reads)")
    p.add_argument("--net", default="vgg16", choices=sorted(NETWORKS), help="network (default: vgg16)")
    p.add_argument("--layer", default="relu2_2", help="layer to invert (default: relu2_2)")
    p.add_argument("--subset", default="top", choices=list(SUBSETS), help="channel subset (default: top)")
    p.add_argument("--p", type=float, default=None,
                   help="subset size in percent of the layer (default: 25; not with --subset all)")
    p.add_argument("--preset", default="quick", choices=sorted(PRESETS),
                   help="defaults of size/steps/lr/TV, and the probe grid of the PE scores if none are stored")
    p.add_argument("--probe-result", default=None,
                   help="folder with a pe_table.csv from `pecore probe` (default: stored paper results, else a probe)")
    p.add_argument("--steps", type=int, default=None, help="Adam steps (default: the preset's)")
    p.add_argument("--size", type=int, default=None, help="resize so the shorter side is SIZE pixels (default: the preset's)")
    p.add_argument("--lr", type=float, default=None, help="Adam learning rate (default: the preset's)")
    p.add_argument("--tv-weight", type=float, default=None, help="weight of the TV prior (default: the preset's)")
    p.add_argument("--jitter", type=int, default=None, help="random shift in pixels per step (default: the preset's)")
    p.add_argument("--parameterisation", default=None, choices=list(PARAMETERISATIONS),
                   help="keep pixels in [0, 1] by clamping after each step, or through a sigmoid (default: the preset's)")
    p.add_argument("--seed", type=int, default=0, help="noise seed, and the draw of a random subset (default: 0)")
    p.add_argument("--device", default="auto", help="auto (CUDA if present, else CPU), cpu, cuda, cuda:N")
    p.add_argument("--out", required=True, help="output PNG")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_run_reconstruct)


def _check_reconstruct_args(args: argparse.Namespace):
    """Check every option of ``pecore reconstruct`` before anything is loaded or written."""
    from ..errors import OutputError, ParameterError
    from ..output import check_writable
    from ..validate import check_fraction, check_positive
    from .settings import get_settings

    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise OutputError(f"--out must name a .png file, got {out}")
    if out.is_dir():
        raise OutputError(f"--out {out} is a folder; name a .png file to write")
    check_writable(out.parent if str(out.parent) else ".", kind="folder of --out")
    if Path(args.image).resolve() == out.resolve():
        raise OutputError(f"--out {out} is the input image: name another file, so the photograph is not overwritten")
    stem = out.with_suffix("")
    for extra in (Path(f"{stem}.loss.csv"), Path(f"{stem}.metrics.json")):
        if extra.is_dir():
            raise OutputError(f"{extra} (written beside --out) is a folder")
    settings = get_settings(args.preset)
    size = check_positive("--size", args.size if args.size is not None else settings.image_size, integer=True)
    from ..validate import check_image_memory

    check_image_memory("--size", size, batch=1)
    if size < 16:
        raise ParameterError(f"--size {size} is too small: reconstructions need at least 16 pixels")
    for name, value, integer, zero in (("--steps", args.steps, True, False), ("--lr", args.lr, False, False),
                                       ("--tv-weight", args.tv_weight, False, True),
                                       ("--jitter", args.jitter, True, True)):
        if value is not None:
            check_positive(name, value, integer=integer, allow_zero=zero)
    check_positive("--seed", args.seed, integer=True, allow_zero=True)
    if args.subset == "all" and (args.p is not None or args.probe_result is not None):
        raise ParameterError(f"{'--p' if args.p is not None else '--probe-result'} does not apply to --subset all (every "
                             "channel of the layer is used)")
    args.p = 25.0 if args.p is None else args.p
    check_fraction("--p", args.p)
    return out, stem, settings, size


def _run_reconstruct(args: argparse.Namespace) -> int:
    import numpy as np

    from ..captions import recorded_command
    from ..errors import UnknownNameError
    from ..imageio import image_bytes, load_image, portable_data_path
    from ..output import write_result_files
    from ..networks import load_network
    from ..provenance import provenance_record
    from ..selection import select_channels
    from ..validate import check_choice
    from .invert import invert
    from .measures import measure

    out, stem, settings, size = _check_reconstruct_args(args)
    net = load_network(args.net, device=args.device)
    scores_label = None
    if args.subset == "all":
        check_choice(f"layer of {args.net}", args.layer, net.extractor.layer_names)
        channels = None
    else:
        from ..notebook import resolve_pe_table
        from ..probe_result import read_pe_table

        if args.probe_result is not None:
            read_pe_table(args.probe_result)
        table, scores_label = resolve_pe_table(args.net, args.probe_result, args.preset, args.device)
        scored = [n for n in net.extractor.layer_names if n in set(table.layer)]
        if args.layer not in scored:
            raise UnknownNameError(f"--layer {args.layer!r} has no PE scores; with --subset {args.subset} the layer "
                                   f"must be one of {', '.join(scored)} (--subset all takes any layer of {args.net})")
        channels = select_channels(table, args.layer, args.subset, args.p, seed=args.seed)
    image = load_image(args.image, size=size)
    inv = invert(net, image, args.layer, channels, steps=args.steps if args.steps is not None else settings.steps,
                 lr=args.lr if args.lr is not None else settings.lr,
                 tv_weight=args.tv_weight if args.tv_weight is not None else settings.tv_weights[0],
                 tv_beta=settings.tv_beta, jitter=args.jitter if args.jitter is not None else settings.jitter,
                 parameterisation=args.parameterisation or settings.parameterisation, seed=args.seed,
                 device=args.device, progress=not args.quiet)
    hist = inv.history().drop(columns="image")
    metrics = measure(inv.image[0], image)  # everything is computed before the first file is written
    chans = inv.channels[args.layer]
    prov = provenance_record(network=net, preset=args.preset, device=net.device,
                             parameters={**{k: v for k, v in inv.settings.items() if k != "weights"},
                                         "image": portable_data_path(args.image), "subset": args.subset,
                                         "p": args.p if args.subset != "all" else 100.0, "scores": scores_label},
                             command=recorded_command())
    record = {"metrics": metrics, "final_loss": float(inv.loss[-1, 0]), "layer": args.layer, "subset": args.subset,
              "n_channels": int(len(chans)), "channels": np.asarray(chans).tolist(), "provenance": prov}
    # the three files together or none of them, files they replace restored on failure
    write_result_files(out.parent, {out.name: image_bytes(inv.image[0]),
                                    f"{stem.name}.loss.csv": hist.to_csv(index=False, float_format="%.6g").encode(),
                                    f"{stem.name}.metrics.json": (json.dumps(record, indent=2, default=str)
                                                                  + "\n").encode()})
    print(f"wrote {out} ({args.layer}, {args.subset} {len(chans)} channels, {inv.loss.shape[0]} steps: loss "
          f"{inv.loss[0, 0]:.3g} → {inv.loss[-1, 0]:.3g}; " + ", ".join(f"{k} {v:.3g}" for k, v in metrics.items())
          + f"), {stem.name}.loss.csv and {stem.name}.metrics.json")
    return 0


def _add_reconstruction(sub: argparse._SubParsersAction) -> None:
    from ..networks import NETWORKS
    from .settings import PRESETS

    p = sub.add_parser(
        "reconstruction",
        help="the whole reconstruction experiment of a preset (what chapter 04 shows); resumable",
        description="Invert every layer x subset (top, bottom, random draws, all) x photograph of a preset, measure "
        "each reconstruction and write metrics.csv, arrays.npz, images/ and provenance.json to --out (the form of "
        "stored/reconstruction/vgg16-book). Each finished batch is cached, so an interrupted run resumes where it "
        "stopped when the same command is run again.",
    )
    p.add_argument("--preset", default="quick", choices=sorted(PRESETS),
                   help="budget: book (the stored tier, < 1 h on a 2-core CPU), quick (minutes), paper (GPU), ci")
    p.add_argument("--net", default="vgg16", choices=sorted(NETWORKS), help="network (default: vgg16)")
    p.add_argument("--p", type=float, default=25.0, help="subset size in percent of each layer (default: 25)")
    p.add_argument("--layers", nargs="+", default=None,
                   help="layers to invert (default: the preset's; on AlexNet the taps at the same depths)")
    p.add_argument("--seed", type=int, default=0, help="base seed of noise starts and random draws (default: 0)")
    p.add_argument("--images", nargs="+", default=None, metavar="NAME",
                   help="photographs to invert (Set5/Set14 names or files; default: the preset's). Every photograph "
                        "gets the same noise starts, so runs on disjoint photographs can be combined "
                        "(`pecore reconstruction-combine`)")
    p.add_argument("--device", default="auto", help="auto (CUDA if present, else CPU), cpu, cuda, cuda:N")
    p.add_argument("--out", required=True, help="results folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_run_reconstruction)


def _run_reconstruction(args: argparse.Namespace) -> int:
    import time

    from ..captions import recorded_command
    from ..notebook import chapter_probe
    from ..networks import load_network
    from ..output import check_writable
    from ..validate import check_fraction, check_positive
    from .experiment import run
    from .settings import get_settings

    from ..errors import ParameterError

    settings = get_settings(args.preset)
    if args.images is not None:
        from dataclasses import replace

        if len(set(args.images)) != len(args.images):
            raise ParameterError(f"--images names a photograph twice: {' '.join(args.images)}")
        settings = replace(settings, images=tuple(args.images))
    check_fraction("--p", args.p)
    check_positive("--seed", args.seed, integer=True, allow_zero=True)
    out = check_writable(args.out)
    start = time.perf_counter()
    net = load_network(args.net, device=args.device)
    probed = chapter_probe(args.net, settings.probe_preset, use_stored=True, device=args.device)
    from .settings import layers_for

    layers = layers_for(net.taps, args.layers or settings.layers)
    res = run(net, probed.table, settings, layers=layers, p=args.p, seed=args.seed, preset=args.preset,
              device=args.device, progress=not args.quiet)
    res.provenance["scores"] = ("stored paper-preset probe" if probed.provenance.get("stored")
                                else f"probe under preset {settings.probe_preset}")
    res.provenance["wall_seconds"] = round(time.perf_counter() - start, 1)
    res.provenance["command"] = recorded_command()
    res.save(out)
    conv = res.table.rel_change_last10
    print(f"wrote {out} ({len(res.table)} reconstructions, {res.provenance['wall_seconds']} s; objective change over the "
          f"last 10 % of steps: median {conv.median():.4f}, {int((conv < 0.01).sum())}/{len(conv)} runs below 1 %)")
    return 0


def _add_combine(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "reconstruction-combine", help="join reconstruction results of one design on disjoint photographs",
        description="Join results of `pecore reconstruction` made with the same preset, layers, subsets, seeds and "
                    "channel scores on disjoint photographs (--images) into one result, as one run on all of them "
                    "would have made it. The provenance keeps each part's commit, command and wall time.")
    p.add_argument("parts", nargs="+", help="result folders of `pecore reconstruction` (at least two)")
    p.add_argument("--out", required=True, help="results folder (not one of the parts)")
    p.set_defaults(run=_run_combine)


def _run_combine(args: argparse.Namespace) -> int:
    from ..captions import recorded_command
    from ..errors import ParameterError
    from ..output import check_writable
    from ..provenance import git_commit
    from .combine import combine
    from .experiment import ReconstructionResult

    if len(args.parts) < 2:
        raise ParameterError(f"reconstruction-combine needs at least two result folders, got {len(args.parts)}")
    out = check_writable(args.out)
    if any(Path(part).resolve() == out.resolve() for part in args.parts):
        raise ParameterError(f"--out {args.out} is one of the parts: write the combined result to a new folder")
    parts = [ReconstructionResult.load(part) for part in args.parts]
    res = combine(parts)
    res.provenance["git_commit"] = git_commit()
    res.provenance["command"] = recorded_command()
    res.save(out)
    print(f"wrote {out} ({len(res.table)} reconstructions of {len(res.image_names)} photographs from {len(parts)} "
          "results)")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add this chapter's commands to the ``pecore`` sub-parsers."""
    _add_reconstruct(sub)
    _add_reconstruction(sub)
    _add_combine(sub)
