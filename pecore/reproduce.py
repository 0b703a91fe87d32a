"""``pecore reproduce``: every experiment of a preset in one command, in the layout of ``stored/``.

``pecore reproduce --preset paper --device cuda --out stored`` is the prepared GPU run: the probe of
VGG-16 and AlexNet, the IQA grid on the LIVE subset of the datasets (``$PECORE_DATA``), the reconstructions and the
super-resolution arms, each written to ``OUT/<kind>/<network>-<preset>`` with its provenance, and chapter 09's
networks (ImageNet, ST-LPIPS, random seeds) with their contrast-sensitivity measurements in ``OUT/origins/<preset>``.
``--plan`` prints, without running anything, each step's floating-point work (counted by torch's
FLOP counter on one forward/backward pass, times the number of passes), its estimated time on this CPU
(at the throughput measured by the stored ``book`` runs, else 250 GFLOP/s) and on a GPU at
200 TFLOP/s, and the size of what it writes. ``--preset ci`` runs the same code in a minute on a CPU,
as the test of the prepared command.
"""
from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

__all__ = ["STEPS", "Step", "plan", "run_step", "add_parser"]

STEPS = ("probe", "iqa", "reconstruction", "sr", "origins")
GPU_FLOPS = 200e12
CPU_FLOPS_DEFAULT = 250e9


@dataclass(frozen=True)
class Step:
    """One step of the plan: what it runs, its FLOPs and the size of its output."""

    name: str
    what: str
    flops: float
    output_mb: float

    def row(self, cpu_flops: float) -> dict[str, object]:
        """The step as a row of the printed plan."""
        return {"step": self.name, "what": self.what, "TFLOP": round(self.flops / 1e12, 1),
                "CPU hours (here)": round(self.flops / cpu_flops / 3600, 2),
                "GPU seconds (200 TFLOP/s)": round(self.flops / GPU_FLOPS, 1), "output MB": round(self.output_mb, 1)}


def _count(fn: Callable[[], None]) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    return float(counter.get_total_flops())


def _forward_flops(network, size: tuple[int, int], layers: list[str] | None = None, backward: bool = False) -> float:
    x = torch.rand(1, 3, *size, requires_grad=backward)

    def go() -> None:
        out = network.extractor(x, layers or list(network.taps))
        if backward:
            sum(v.sum() for v in out.values()).backward()

    return _count(go)


def _probe_step(net_name: str, preset: str) -> Step:
    from .networks import load_network
    from .presets import get_preset

    net = load_network(net_name, device="cpu")
    g = get_preset(preset).probe
    n = g.n_frequencies * g.n_phases + g.n_frequencies * g.n_orientations * (g.orientation_phases or g.n_phases)
    n_ch = sum(int(net.channels[t]) for t in net.taps)
    size_mb = n_ch * g.n_frequencies * (1 + g.n_orientations) * 2 / 1e6 + 0.2
    return Step(f"probe {net_name}", f"{n} gratings of {g.size} px", n * _forward_flops(net, (g.size, g.size)), size_mb)


def _iqa_step(preset: str) -> Step:
    from .imageio import shared_data_dir
    from .iqa.datasets import load_dataset
    from .iqa.settings import get_settings
    from .networks import load_network

    s = get_settings(preset)
    ds = load_dataset(shared_data_dir() / "iqa" / "live-r2-subset", "auto")
    n_images = len(ds) + int(ds.pairs.group.nunique())
    side = s.image_size or 512
    flops = sum(n_images * _forward_flops(load_network(n, device="cpu"), (side, side * 4 // 3)) for n in
                ("vgg16", "alexnet"))
    return Step("iqa", f"{n_images} LIVE images at {side} px, VGG-16 and AlexNet", flops, 0.5)


def _reconstruction_step(preset: str) -> Step:
    from .networks import load_network
    from .reconstruction.settings import get_settings

    s = get_settings(preset)
    net = load_network("vgg16", device="cpu")
    runs = 3 + s.n_random_draws  # top, bottom, all, random draws
    priors = len(s.tv_weights)
    per = sum(_forward_flops(net, (s.image_size, s.image_size), [layer], backward=True) for layer in s.layers)
    n = runs * priors * len(s.images) * s.n_seeds * s.steps
    mb = len(s.layers) * runs * priors * len(s.images) * s.image_size ** 2 * 3 * 0.6 / 1e6  # images of one init kept
    return Step("reconstruction", f"{len(s.layers)} layers × {runs} subsets × {priors} priors × {len(s.images)} images × "
                f"{s.n_seeds} inits × {s.steps} steps at {s.image_size} px", per * n, mb)


def _sr_step(preset: str) -> Step:
    from .networks import load_network
    from .sr.experiment import arm_runs
    from .sr.model import build_model
    from .sr.settings import get_settings

    s = get_settings(preset)
    model = build_model(s, 0)
    net = load_network("vgg16", device="cpu")
    lr = torch.rand(1, 3, s.crop // s.scale, s.crop // s.scale)

    def model_pass() -> None:
        model(lr).sum().backward()

    per_sample_pix = _count(model_pass)
    layers = list(net.taps[: s.feature_depth])
    per_sample_feat = per_sample_pix + _forward_flops(net, (s.crop, s.crop), layers, backward=True) * 4 / 3
    arms = arm_runs(s)
    sweep = len(s.lambda_grid) * s.sweep_steps / max(s.steps, 1)
    reused = 1 if s.lambda_grid and s.sweep_steps == s.steps else 0  # the chosen sweep run is the first 'all' run
    feat_arms = sum(1 for a, _, _ in arms if a != "pixel") + sweep - reused
    pix_arms = sum(1 for a, _, _ in arms if a == "pixel")
    pretrain = len(s.train_seeds) * s.pretrain_steps / max(s.steps, 1)
    flops = s.batch_size * s.steps * ((pix_arms + pretrain) * per_sample_pix + feat_arms * per_sample_feat)
    n_params = sum(p.numel() for p in model.parameters())
    saved = len(arms) // len(s.train_seeds)  # generators of the first training seed are kept
    return Step("sr", f"{len(s.train_seeds)} shared starts × {s.pretrain_steps} steps, then {len(arms)} runs × "
                f"{s.steps} steps, batch {s.batch_size} of {s.crop} px, λ sweep {list(s.lambda_grid)}", flops,
                saved * n_params * 2 / 1e6 + 1.0)


def _origins_step(preset: str) -> Step:
    from .networks import load_network
    from .origins.settings import get_settings
    from .presets import get_preset

    s = get_settings(preset)
    g = get_preset(s.probe_preset).probe
    n_probe = g.n_frequencies * g.n_phases + g.n_frequencies * g.n_orientations * (g.orientation_phases or g.n_phases)
    gr = s.grid
    n_sens = (len(gr.frequencies) * len(gr.contrasts) + len(gr.maskers) * (len(gr.targets) + 1)) * \
        len(gr.orientations) * gr.n_phases
    flops = 0.0
    measured = {e.label for e in s.measured()}
    for e in s.networks():
        net = load_network(e.network, weights=e.weights, seed=e.seed, device="cpu")
        flops += n_probe * _forward_flops(net, (g.size, g.size))
        if e.label in measured:
            flops += n_sens * _forward_flops(net, (gr.size, gr.size))
    return Step("origins", f"{len(s.networks())} networks probed on the {s.probe_preset} grid; {n_sens} sensitivity "
                f"images for each of {len(measured)} networks", flops, 3.0 * len(s.networks()))


def _cpu_flops() -> float:
    """CPU throughput measured by the stored book reconstruction run (FLOPs / wall time), if present."""
    from .stored import stored_results

    prov = stored_results("reconstruction", "vgg16", "book") / "provenance.json"
    try:
        rec = json.loads(prov.read_text())
        return _reconstruction_step("book").flops / float(rec["wall_seconds"])
    except (OSError, KeyError, ValueError, TypeError):
        return CPU_FLOPS_DEFAULT


def plan(preset: str, steps: tuple[str, ...] = STEPS) -> list[Step]:
    """The steps of ``preset`` with their FLOPs and output sizes (nothing is run but FLOP counts).

    Examples
    --------
    >>> [s.name for s in plan("ci", ("probe",))]
    ['probe vgg16', 'probe alexnet']
    """
    out: list[Step] = []
    for step in steps:
        if step == "probe":
            out += [_probe_step("vgg16", preset), _probe_step("alexnet", preset)]
        elif step == "iqa":
            out.append(_iqa_step(preset))
        elif step == "reconstruction":
            out.append(_reconstruction_step(preset))
        elif step == "sr":
            out.append(_sr_step(preset))
        elif step == "origins":
            out.append(_origins_step(preset))
    return out


def _probe_result(out: Path, probe_preset: str, device: str):
    """The VGG-16 scores a step uses: those this command just probed into ``out``, else the chapters'."""
    from .notebook import chapter_probe
    from .probe_result import load_probe_result

    fresh = out / "probe" / f"vgg16-{probe_preset}"
    if (fresh / "pe_table.csv").is_file():
        return load_probe_result(fresh)
    return chapter_probe("vgg16", probe_preset, device=device)


def run_step(step: str, preset: str, out: Path, device: str, progress: bool, command: str | None = None) -> list[Path]:
    """Run one step of ``preset`` and write its results under ``out`` (the layout of ``stored/``)."""
    written = []
    if step == "probe":
        from .networks import load_network
        from .pipeline import score_network
        from .presets import get_preset

        for name in ("vgg16", "alexnet"):
            start = time.perf_counter()
            probed = score_network(load_network(name, device=device), get_preset(preset), device=device,
                                   progress=progress)
            probed.provenance.update(command=command, wall_seconds=round(time.perf_counter() - start, 1))
            written.append(probed.save(out / "probe" / f"{name}-{preset}"))
        return written
    start = time.perf_counter()
    if step == "iqa":
        from .imageio import shared_data_dir
        from .iqa.datasets import load_dataset
        from .iqa.experiment import run

        probed = _probe_result(out, preset, device)
        result = run(load_dataset(shared_data_dir() / "iqa" / "live-r2-subset", "auto"), "vgg16", probed,
                     preset=preset, device=device, progress=progress)
    elif step == "reconstruction":
        from .networks import load_network
        from .reconstruction.experiment import run as run_reconstruction
        from .reconstruction.settings import get_settings

        settings = get_settings(preset)
        probed = _probe_result(out, settings.probe_preset, device)
        result = run_reconstruction(load_network("vgg16", device=device), probed.table, settings, preset=preset,
                                    device=device, progress=progress)
    elif step == "origins":
        from .origins.experiment import run as run_origins
        from .origins.settings import get_settings as origins_settings

        target = out / "origins" / preset
        result = run_origins(origins_settings(preset), target, preset=preset, probe_root=out / "probe", device=device,
                             progress=progress)
        result.provenance.update(command=command, wall_seconds=round(time.perf_counter() - start, 1))
        written.append(result.save(target))
        return written
    else:
        from .sr.experiment import run_experiment

        result = run_experiment(preset, network="vgg16", device=device, use_stored=False, use_stored_probe=True,
                                progress=progress)
    result.provenance.update(command=command, wall_seconds=round(time.perf_counter() - start, 1))
    written.append(result.save(out / step / f"vgg16-{preset}"))
    return written


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``pecore reproduce`` to the sub-parsers."""
    p = sub.add_parser("reproduce", help="every experiment of a preset in one command (the GPU paper run); --plan",
                       description="Run the probe (VGG-16, AlexNet), IQA, reconstruction, super-resolution and chapter 09 "
                       "(origins) of a preset and write each to OUT/<kind>/<network>-<preset> (origins: OUT/origins/"
                       "<preset>) with provenance. --plan prints each "
                       "step's FLOPs, estimated CPU and GPU time and output size without running it.")
    p.add_argument("--preset", default="paper", choices=["ci", "quick", "book", "paper"],
                   help="paper (GPU, default), book (the CPU tiers), quick, ci (a one-minute test of this command)")
    p.add_argument("--steps", nargs="+", default=list(STEPS), choices=list(STEPS), help="steps to run (default: all)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    p.add_argument("--out", default="results/reproduce", help="output root, laid out like stored/ (default: "
                   "results/reproduce; 'stored' to replace the committed results)")
    p.add_argument("--plan", action="store_true", help="print the plan (FLOPs, time, size) and run nothing")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    import pandas as pd

    from .device import resolve_device
    from .errors import ParameterError

    from .errors import OutputError

    steps = tuple(s for s in STEPS if s in args.steps)
    if args.preset == "book" and ("probe" in steps or "iqa" in steps):
        raise ParameterError("the book preset exists for reconstruction, sr and origins only: add --steps "
                             "reconstruction sr origins")
    resolve_device(args.device)
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise OutputError(f"--out {args.out} is a file: name a folder (it is laid out like stored/)")
    if args.plan:
        cpu = _cpu_flops()
        rows = pd.DataFrame([s.row(cpu) for s in plan(args.preset, steps)])
        print(rows.to_string(index=False))
        print(f"total: {rows['TFLOP'].sum():.1f} TFLOP, {rows['GPU seconds (200 TFLOP/s)'].sum() / 60:.1f} GPU minutes, "
              f"{rows['CPU hours (here)'].sum():.1f} CPU hours at {cpu / 1e9:.0f} GFLOP/s, "
              f"{rows['output MB'].sum():.1f} MB")
        return 0
    from .captions import portable_command

    out = Path(args.out)
    command = portable_command(f"pecore reproduce --preset {args.preset} --device {args.device} --out {args.out} "
                               f"--steps {' '.join(steps)}")
    for step in steps:
        start = time.perf_counter()
        for path in run_step(step, args.preset, out, args.device, not args.quiet, command):
            print(f"[pecore reproduce] {step}: wrote {path} ({time.perf_counter() - start:.0f} s)", flush=True)
    return 0
