"""pecore: why deep representations are good perceptual quality features, reproduced.

Probe every channel of a CNN with sinusoidal gratings, score its spatial-frequency sensitivity
(μ1, weighted by a contrast sensitivity function) and orientation selectivity (μ2), and combine
them into Perceptual Efficacy (PE) — Tariq et al., ECCV 2020.

Examples
--------
>>> import pecore
>>> net = pecore.load_network("alexnet", device="cpu")
>>> probed = pecore.score_network(net, pecore.get_preset("ci"), progress=False)
>>> len(pecore.select_channels(probed.table, "relu2", "top", p=25))
48
"""
from ._version import __version__
from .csf import CSFS, barten, flat, get_csf, mannos_sakrison
from .device import resolve_device
from .errors import *  # noqa: F401,F403
from .networks import NETWORKS, FeatureExtractor, Network, load_network
from .pipeline import score_network
from .presets import PRESETS, Preset, ProbeGrid, get_preset
from .probe import probe_frequency, probe_orientation
from .channel import ChannelProfile, channel_profile
from .probe_result import ProbeResult, load_probe_result
from .rescore import rescore
from .efficacy import VARIANTS, ScoreConfig, make_config
from .selection import channel_mask, select_channels
from .stimuli import oriented_gratings, radial_gratings

__all__ = [
    "__version__", "CSFS", "barten", "flat", "get_csf", "mannos_sakrison", "resolve_device", "NETWORKS",
    "FeatureExtractor", "Network", "load_network", "ProbeResult", "load_probe_result", "score_network", "rescore", "ChannelProfile", "channel_profile", "PRESETS",
    "Preset", "ProbeGrid", "get_preset", "probe_frequency", "probe_orientation", "VARIANTS", "ScoreConfig",
    "make_config", "channel_mask", "select_channels", "oriented_gratings", "radial_gratings",
]
