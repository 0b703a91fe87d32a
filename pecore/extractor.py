"""A feature extractor over a CNN's named layers that stops at the deepest requested one."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from .errors import ImageError, ParameterError, UnknownNameError
from .validate import check_choice, check_image

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "FeatureExtractor", "too_small_error"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class _Stop(Exception):
    pass


def too_small_error(exc: RuntimeError, size: tuple[int, ...], layer: str) -> Exception:
    """Turn torch's "output size is too small" / "kernel size can't be greater" into a named ImageError.

    Any other error is returned unchanged, for the caller to raise.

    Examples
    --------
    >>> type(too_small_error(RuntimeError("Output size is too small"), (8, 8), "relu5")).__name__
    'ImageError'
    """
    text = str(exc)
    if any(p in text for p in ("too small", "can't be greater than actual input size", "Kernel size can't be greater")):
        return ImageError(f"images of {size} pixels are too small to reach layer {layer} of this network (its "
                          "pooling and strides leave no pixels there): use larger images (a larger --size or "
                          "image size, or a larger preset)")
    return exc


def _check_normalize(normalize: Any) -> tuple[list[float], list[float]]:
    """``(mean, std)`` as two lists of three finite numbers (std > 0), or a named error."""
    import math

    ok = isinstance(normalize, (tuple, list)) and len(normalize) == 2
    if ok:
        try:
            mean, std = [float(v) for v in normalize[0]], [float(v) for v in normalize[1]]
        except (TypeError, ValueError):
            ok = False
    if not ok or len(mean) != 3 or len(std) != 3 or not all(math.isfinite(v) for v in mean + std) or min(std) <= 0:
        raise ParameterError(f"normalize must be (mean, std), each three numbers (std > 0) — e.g. (IMAGENET_MEAN, "
                             f"IMAGENET_STD) — or None, got {normalize!r}")
    return mean, std


class FeatureExtractor(nn.Module):
    """Run a CNN on images in [0, 1] and return the outputs of named layers.

    The forward pass stops after the deepest requested layer. For an ``nn.Sequential`` it simply
    runs the children in order; any other module is run with forward hooks that abort the pass
    once every requested layer has fired.

    Parameters
    ----------
    module
        A torchvision-style CNN (or its ``features``).
    layers
        Layer name → child index (``nn.Sequential``) or dotted submodule path.
    normalize
        ``(mean, std)`` applied to the [0, 1] input, or ``None`` to feed it as is.

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    >>> fx = FeatureExtractor(net, {"relu": 1}, normalize=None)
    >>> fx(torch.rand(2, 3, 8, 8))["relu"].shape
    torch.Size([2, 4, 6, 6])
    """

    def __init__(
        self,
        module: nn.Module,
        layers: Mapping[str, int | str],
        normalize: tuple[Sequence[float], Sequence[float]] | None = (IMAGENET_MEAN, IMAGENET_STD),
    ) -> None:
        super().__init__()
        if not isinstance(module, nn.Module):
            raise ParameterError(f"a FeatureExtractor needs a torch.nn.Module, got {type(module).__name__}")
        if not isinstance(layers, Mapping):
            raise ParameterError(f"layers must map layer names to child indices or submodule paths (e.g. "
                                 f"{{'relu1': 1}}), got {type(layers).__name__}")
        if not layers:
            raise ParameterError("a FeatureExtractor needs at least one layer")
        self.module = module
        self.layers = dict(layers)
        for m in module.modules():  # an in-place op would overwrite a tapped output
            if hasattr(m, "inplace"):
                m.inplace = False
        self._sequential = isinstance(module, nn.Sequential) and all(isinstance(v, int) for v in self.layers.values())
        named = dict(module.named_modules())
        if self._sequential:
            n = len(module)
            bad = {k: v for k, v in self.layers.items() if not 0 <= v < n}
            if bad:
                raise UnknownNameError(f"layer indices {bad} out of range for a Sequential of {n} modules")
        else:
            bad = {k: v for k, v in self.layers.items() if str(v) not in named}
            if bad:
                raise UnknownNameError(
                    f"layers {bad} are not submodules; known: {', '.join(k for k in named if k)}"
                )
        targets: dict[str, str] = {}
        for k, v in self.layers.items():
            if str(v) in targets:
                raise ParameterError(f"layers {targets[str(v)]!r} and {k!r} name the same submodule ({v!r}); give each "
                                     "tap one name")
            targets[str(v)] = k
        self._order = {str(path): i for i, path in enumerate(named)}
        if normalize is not None:
            normalize = _check_normalize(normalize)
        if normalize is None:
            self.register_buffer("mean", None)
            self.register_buffer("std", None)
        else:
            self.register_buffer("mean", torch.tensor(normalize[0], dtype=torch.float32).view(1, -1, 1, 1))
            self.register_buffer("std", torch.tensor(normalize[1], dtype=torch.float32).view(1, -1, 1, 1))

    @property
    def layer_names(self) -> list[str]:
        """Known layer names, shallowest first."""
        key = (lambda k: self.layers[k]) if self._sequential else (lambda k: self._order[str(self.layers[k])])
        return sorted(self.layers, key=key)

    def check_layers(self, layers: Sequence[str] | None) -> list[str]:
        """Return ``layers`` (default: all) sorted by depth; raise on an unknown name."""
        if layers is None:
            return self.layer_names
        if isinstance(layers, str):
            layers = [layers]
        if not isinstance(layers, (list, tuple)):
            layers = list(layers) if hasattr(layers, "__iter__") and not isinstance(layers, Mapping) else layers
            if not isinstance(layers, list):
                raise ParameterError(f"layers must be a layer name or a list of them, got {type(layers).__name__}")
        if len(layers) == 0:
            raise ParameterError("layers must name at least one layer")
        for name in layers:
            check_choice("layer", name, self.layer_names)
        return [n for n in self.layer_names if n in set(layers)]

    def forward(self, x: torch.Tensor, layers: Sequence[str] | None = None, *, check: bool = True) -> dict[str, torch.Tensor]:
        """Outputs of ``layers`` (default: all known layers) for images ``x`` in [0, 1]."""
        wanted = self.check_layers(layers)
        if check:
            x = check_image(x, "x")
        param = next(self.module.parameters(), None)
        if param is not None and x.dtype != param.dtype and not torch.is_autocast_enabled(x.device.type):
            x = x.to(param.dtype)  # float64 / float16 images follow the network's dtype
        try:
            return self._forward(x, wanted)
        except RuntimeError as exc:
            err = too_small_error(exc, tuple(x.shape[-2:]), wanted[-1])
            if err is exc:
                if isinstance(exc, torch.cuda.OutOfMemoryError):
                    raise
                err = ParameterError(f"the network cannot run on images of shape {tuple(x.shape)} up to layer "
                                     f"{wanted[-1]} (does it take RGB input of any size?): {str(exc).splitlines()[0]}")
            raise err from exc

    def _forward(self, x: torch.Tensor, wanted: list[str]) -> dict[str, torch.Tensor]:
        if self.mean is not None:
            x = (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)
        if self._sequential:
            by_index = {self.layers[n]: n for n in wanted}
            deepest = max(by_index)
            out: dict[str, torch.Tensor] = {}
            for i, child in enumerate(self.module):
                x = child(x)
                if i in by_index:
                    out[by_index[i]] = x
                if i == deepest:
                    break
            return out
        return self._run_with_hooks(x, wanted)

    def _run_with_hooks(self, x: torch.Tensor, wanted: list[str]) -> dict[str, torch.Tensor]:
        named = dict(self.module.named_modules())
        out: dict[str, torch.Tensor] = {}
        calls: dict[str, int] = {}
        handles = []
        # the first pass runs the whole module and counts the calls of every tapped module: one that runs
        # more than once (a module object reused, as torchvision's ResNet blocks reuse one ReLU) is refused
        checking = not getattr(self, "_taps_checked", False)
        taps = list(self.layers) if checking else wanted

        def make_hook(name: str):
            def hook(_m: nn.Module, _inp: Any, output: torch.Tensor) -> None:
                calls[name] = calls.get(name, 0) + 1
                out.setdefault(name, output)
                if not checking and len(out) == len(wanted):
                    raise _Stop

            return hook

        for name in taps:
            handles.append(named[str(self.layers[name])].register_forward_hook(make_hook(name)))
        try:
            self.module(x)
        except _Stop:
            pass
        finally:
            for h in handles:
                h.remove()
        reused = {n: k for n, k in calls.items() if k > 1}
        if reused:
            name, k = next(iter(reused.items()))
            raise ParameterError(f"tap {name!r} (module {self.layers[name]!r}) runs {k} times in one forward pass — the "
                                 "model reuses that module object, so which call a tap sees would be arbitrary; tap a "
                                 "module that runs once (for example the output of a block)")
        self._taps_checked = True
        out = {n: out[n] for n in wanted if n in out}
        missing = [n for n in wanted if n not in out]
        if missing:
            raise ParameterError(f"layers {missing} were never run by the module's forward pass")
        return out
