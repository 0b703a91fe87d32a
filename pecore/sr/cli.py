"""The ``pecore sr`` sub-commands.

``pecore sr train --arm pixel|all|top|bottom|random --preset quick|paper [--device D] --out DIR``
    trains one arm (resuming from ``DIR/checkpoint.pt`` if present) and writes ``model.pt``,
    ``loss_log.csv`` and ``train.json`` into DIR.
``pecore sr eval DIR --data Set5|Set14|PATH [--data ...]``
    evaluates the run in DIR (or every run in its sub-folders) and bicubic upscaling, and writes
    ``metrics_<set>_per_image.csv`` and ``metrics_<set>_mean.csv`` into DIR.
``pecore sr run --preset book --out stored/sr/vgg16-book --work DIR``
    the whole experiment of a preset (λ sweep, every arm, evaluation, comparisons), as the chapter shows
    it; results written this way under ``stored/sr/<net>-<preset>`` are what the book renders.
``pecore sr apply RUN IMAGE... --out DIR``
    upscales your own images ×4 with a trained generator (a run folder, e.g.
    ``stored/sr/vgg16-book/runs/top-t0``) and writes ``<stem>_x4_<run>.png`` into DIR.
"""
from __future__ import annotations

import argparse


__all__ = ["add_parser"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``pecore sr`` with its sub-commands train, eval, run and apply."""
    p = sub.add_parser("sr", help="super-resolution with a PE-selected feature loss: train, evaluate, run, apply",
                       description="Train a small SRResNet-style x4 network with L = L_pix + lambda * L_feat(M) for one "
                       "arm (pixel, all, top, bottom, random channels of VGG-16), evaluate runs on Set5/Set14, run a "
                       "preset's whole experiment, or upscale your own images with a trained generator.")
    sr_sub = p.add_subparsers(dest="sr_command", metavar="SR_COMMAND")
    _add_train(sr_sub)
    _add_eval(sr_sub)
    _add_run(sr_sub)
    _add_apply(sr_sub)
    p.set_defaults(run=lambda args: (p.print_help(), 2)[1])


def _add_train(sr_sub: argparse._SubParsersAction) -> None:
    from .losses import ARMS
    from .settings import PRESETS

    t = sr_sub.add_parser("train", help="train one arm; resumes from DIR/checkpoint.pt",
                          description="Train one arm with the preset's budget. Every arm of a preset uses the same seed "
                          "(initial weights, training crops of BSD100) and budget.")
    t.add_argument("--arm", required=True, choices=ARMS, help="which feature loss: " + ", ".join(ARMS))
    t.add_argument("--preset", default="quick", choices=sorted(PRESETS),
                   help="budget: quick (tiny network, CPU minutes), paper (16 x 64 network, GPU), ci (tests)")
    t.add_argument("--out", required=True, help="run folder (model.pt, loss_log.csv, train.json, checkpoint.pt)")
    t.add_argument("--device", default="auto", help="auto (CUDA if present, else CPU), cpu, cuda, cuda:N")
    t.add_argument("--net", default="vgg16", help="loss network whose PE scores choose channels (default vgg16)")
    t.add_argument("--seed", type=int, default=0, help="seed of initial weights and training crops (default 0)")
    t.add_argument("--selection-seed", type=int, default=0, help="seed of the random channel subset (default 0)")
    t.add_argument("--steps", type=int, default=None, help="override the preset's number of steps")
    t.add_argument("--data", default="BSD100", help="training photographs: BSD100 (default) or a folder of HR images")
    t.add_argument("--probe-result", default=None,
                   help="folder with pe_table.csv of the loss network (default: stored paper scores, else a probe "
                        "under --preset)")
    t.add_argument("--init", default=None, metavar="RUN",
                   help="fine-tune from the generator of this finished run folder (e.g. a pixel-loss run) instead of "
                        "a random init, as the chapter's arms start from their shared start")
    t.add_argument("--restart", action="store_true", help="ignore an existing checkpoint and start afresh")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(run=_run_train)


def _add_eval(sr_sub: argparse._SubParsersAction) -> None:
    e = sr_sub.add_parser("eval", help="evaluate runs and bicubic: per-image and mean metrics CSV",
                          description="PSNR-Y and SSIM-Y (border of `scale` pixels cropped) and LPIPS-vgg of the run(s) "
                          "in DIR and of bicubic upscaling; means with 95 % bootstrap intervals over images.")
    e.add_argument("dir", help="a run folder, or a folder of run folders")
    e.add_argument("--data", action="append", default=None, metavar="SET",
                   help="Set5, Set14, BSD100 or a folder of HR images (repeatable; default Set5)")
    e.add_argument("--crop", type=int, default=None, help="evaluate centre crops of this size (default: whole images)")
    e.add_argument("--no-lpips", action="store_true", help="skip LPIPS (alex and vgg)")
    e.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    e.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples (default 2000)")
    e.set_defaults(run=_run_eval)


def _add_run(sr_sub: argparse._SubParsersAction) -> None:
    from .settings import PRESETS

    r = sr_sub.add_parser("run", help="train every arm, evaluate, compare; write the chapter's results",
                          description="The whole experiment of a preset (what the chapter shows): every arm with the same "
                          "seed and budget, evaluation on the preset's test sets, paired comparisons. Writes per_image.csv, "
                          "summary.csv, differences.csv, plateau.csv, lambda_sweep.csv, logs/, samples/, runs/ (float16 "
                          "generators) and provenance.json to --out (the form of stored/sr/vgg16-book); the full runs "
                          "and checkpoints stay in --work, so an interrupted run resumes.")
    r.add_argument("--preset", default="quick", choices=sorted(PRESETS),
                   help="quick (CPU minutes), book (the stored results, about 40 CPU minutes), paper (GPU), ci (tests)")
    r.add_argument("--out", required=True, help="results folder (e.g. stored/sr/vgg16-book for the book preset)")
    r.add_argument("--threads", type=int, default=None,
                   help="CPU threads for torch (default: torch's choice; 1 is robust on a busy 2-core machine)")
    r.add_argument("--work", default=None, help="folder of the trained runs (default: in the pecore cache); resumable")
    r.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    r.add_argument("--net", default="vgg16", help="loss network (default vgg16)")
    r.add_argument("--seed", type=int, default=0, help="seed shared by every arm (default 0)")
    r.add_argument("--quiet", action="store_true", help="no progress bars")
    r.set_defaults(run=_run_experiment)


def _add_apply(sr_sub: argparse._SubParsersAction) -> None:
    a = sr_sub.add_parser("apply", help="upscale your own images with a trained generator",
                          description="Upscale images x4 with the generator of a run folder (`pecore sr train --out`, "
                          "or runs/<arm> of `pecore sr run` results such as stored/sr/vgg16-book/runs/top-t0). Writes "
                          "<stem>_x4_<run>.png into --out.")
    a.add_argument("run_dir", metavar="RUN", help="run folder holding model.pt and train.json")
    a.add_argument("images", nargs="+", metavar="IMAGE", help="image files to upscale (at least 2 x 2 pixels)")
    a.add_argument("--out", required=True, help="folder for the upscaled PNGs")
    a.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    a.set_defaults(run=_run_apply)


def _run_apply(args: argparse.Namespace) -> int:
    from .apply import apply_run

    for path in apply_run(args.run_dir, args.images, args.out, device=args.device):
        print(f"wrote {path}")
    return 0


def _run_experiment(args: argparse.Namespace) -> int:
    import shlex
    import time

    import torch

    from ..captions import portable_command
    from ..errors import ParameterError
    from ..output import check_writable
    from ..validate import check_positive
    from .conclusions import conclusion_text
    from .experiment import machine_record, run_experiment

    if args.threads is not None:  # every option is checked before the output folder is created
        check_positive("--threads", args.threads, integer=True)
    check_positive("--seed", args.seed, integer=True, allow_zero=True)
    if not str(args.out).strip():
        raise ParameterError("--out is empty: name the results folder (e.g. results/sr-book)")
    out = check_writable(args.out)  # created when the results are written
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    start = time.perf_counter()
    res = run_experiment(args.preset, network=args.net, seed=args.seed, device=args.device, use_stored=False,
                         use_stored_probe=True, out_dir=args.work, progress=not args.quiet)
    if res.provenance.get("rank", 0):  # under torchrun, rank 0 writes the results
        return 0
    wall = round(time.perf_counter() - start, 1)
    # an interrupted and resumed run: the wall time of this call only; the training seconds add up every call
    res.provenance["wall_seconds"] = wall
    opts = [("--preset", args.preset), ("--out", _shown_path(args.out)), ("--work", _shown_path(args.work)),
            ("--device", args.device),
            ("--net", args.net), ("--seed", args.seed), ("--threads", args.threads)]
    res.provenance["command"] = portable_command("pecore sr run " + " ".join(f"{k} {shlex.quote(str(v))}"
                                                                         for k, v in opts if v is not None))
    res.provenance.setdefault("machine", machine_record())
    res.save(out)
    wide = res.summary.pivot_table(index=["dataset", "arm"], columns="metric", values="mean", sort=False)
    print(wide.to_string(float_format=lambda v: f"{v:.4f}"))
    print(conclusion_text(res.differences, against=("bottom", "random", "all", "pixel")))
    print(f"wrote {out} ({res.provenance['wall_seconds']} s)")
    return 0


def _shown_path(path: str | None) -> str | None:
    """A path as the recorded command shows it: relative to the repository when it lies inside it.

    Examples
    --------
    >>> from pecore.notebook import REPO_ROOT
    >>> _shown_path(str(REPO_ROOT / "stored" / "sr" / "vgg16-book")), _shown_path(None)
    ('stored/sr/vgg16-book', None)
    """
    if path is None:
        return None
    from pathlib import Path

    from ..notebook import REPO_ROOT

    try:
        return Path(path).resolve().relative_to(REPO_ROOT.resolve()).as_posix()
    except ValueError:
        return str(path)


def _run_train(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ..networks import load_network
    from ..probe_result import load_probe_result
    from .settings import get_settings as get_sr_settings
    from ..validate import check_positive
    from ..notebook import chapter_probe
    from ..errors import DatasetError, ParameterError
    from .train import load_run, train_arm

    from .sweep import arm_settings

    settings = arm_settings(get_sr_settings(args.preset), args.arm)  # λ = 0 for the pixel arm, no sweep fields
    if args.selection_seed and args.arm != "random":
        raise ParameterError(f"--selection-seed draws the channels of the random arm; --arm {args.arm} has no draw "
                             "(leave it out, or use --arm random)")
    check_positive("--selection-seed", args.selection_seed, integer=True, allow_zero=True)
    check_positive("--seed", args.seed, integer=True, allow_zero=True)
    if args.steps is not None:
        check_positive("--steps", args.steps, integer=True)
        settings = replace(settings, steps=args.steps, checkpoint_every=min(settings.checkpoint_every, args.steps))
    network = probed = None
    if args.arm != "pixel":
        network = load_network(args.net, device=args.device)
        if args.arm in ("top", "bottom", "random"):
            probed = load_probe_result(args.probe_result, network=args.net) if args.probe_result else \
                chapter_probe(args.net, settings.probe_preset, use_stored=True, device=args.device)
    init = None
    if args.init is not None:
        from .runs import is_run_dir

        if not is_run_dir(args.init):
            raise DatasetError(f"--init {args.init} is not a finished run folder (model.pt and train.json); "
                               "train one first with pecore sr train")
        init = load_run(args.init, device=args.device)
    run = train_arm(args.arm, settings, args.out, network=network, pe_table=probed, seed=args.seed,
                    selection_seed=args.selection_seed, data=args.data, device=args.device, preset=args.preset,
                    progress=not args.quiet, resume=not args.restart, init=init)
    last = run.log.iloc[-1] if len(run.log) else None
    tail = f", final loss {last.loss:.4f}" if last is not None else ""
    if run.steps_run == 0:
        how = "already finished, nothing to do"
    elif run.resumed_from:
        how = f"resumed at step {run.resumed_from}, trained {run.steps_run} steps"
    else:
        how = f"trained {run.steps_run} steps"
    print(f"{run.name}: {how} (preset {args.preset}, {settings.steps} steps{tail}); wrote {run.out_dir}")
    return 0


def _run_eval(args: argparse.Namespace) -> int:
    from .experiment import evaluate_dir

    data = args.data or ["Set5"]
    per_image, summary = evaluate_dir(args.dir, data, crop=args.crop, lpips=not args.no_lpips, device=args.device,
                                      n_boot=args.n_boot)
    wide = summary.pivot_table(index=["dataset", "method"], columns="metric", values="mean", sort=False)
    print(wide.to_string(float_format=lambda v: f"{v:.4f}"))
    for ds in dict.fromkeys(per_image.dataset):
        print(f"wrote {args.dir}/metrics_{ds}_per_image.csv and metrics_{ds}_mean.csv")
    return 0
