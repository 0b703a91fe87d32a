# %% [markdown]
# # Spatial-frequency sensitivity (μ1)
#
# The paper's first probe {cite}`tariq2020why`: show every channel a sinusoidal grating whose
# spatial frequency sweeps from coarse to fine, record the channel's **mean activation**, and ask
# how strongly that activation changes with frequency *where the human visual system is sensitive*.
# Human sensitivity is described by a contrast sensitivity function (CSF), here Mannos–Sakrison
# {cite}`mannos1974effects` by default. The score is μ1; the frequency where the CSF-weighted
# sensitivity peaks is f̂ (used again by the orientation chapter). The definitions and which parts of them
# are our reconstruction are on the Method page ({ref}`method-scores`, {ref}`what-is-reconstructed`).

# %% tags=["parameters"]
# Parameters (papermill injects new values after this cell)
network = "vgg16"        # vgg16 or alexnet
preset = "quick"         # probe grid used only when no stored paper-grid probe fits (another ppd or network)
device = "auto"
seed = 0
use_stored = True        # use the committed paper-preset results when they exist
ppd = None               # pixels per degree, None for the preset value
csf = "mannos-sakrison"  # mannos-sakrison, barten, flat
variants = []            # score variants, e.g. ["log-derivative"]
layer = "relu2_2"        # the layer of the per-channel figures
n_examples = 3           # example channels shown at each end

# %% tags=["hide-input"]
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import HTML, Markdown, display

import pecore
import pecore.notebook as pb
from pecore import plots

params = pb.check_parameters(dict(network=network, preset=preset, device=device, seed=seed, use_stored=use_stored,
                                  ppd=ppd, csf=csf, variants=variants, layer=layer, n_examples=n_examples),
                             {"n_examples": pb.Param((int,), check=lambda v: 1 <= v <= 8, what="an integer in 1..8")})
np.random.seed(seed)
probed = pb.chapter_probe(network, preset, use_stored=use_stored, device=device, variants=variants, csf=csf, ppd=ppd)
prov = probed.provenance
config = pecore.ScoreConfig(**prov["parameters"]["score_config"])
grid = pecore.ProbeGrid(**prov["parameters"]["probe_grid"])
if layer not in probed.table.layer.unique():
    raise pecore.UnknownNameError(f"notebook parameter layer: {layer!r} was not probed; probed: {sorted(probed.table.layer.unique())}")
label = pb.figure_label(prov)
display(HTML(pb.page_summary('Frequency tuning of every channel: its mean activation against the frequency of radial gratings, μ1 and f̂, with the CSF.', prov, grid=pb.grid_text(prov))))
display(HTML(pb.provenance_details(params, prov)))
display(HTML(pb.rerun_box("01_frequency", params)))

# %% [markdown]
# ## The stimuli
#
# Frequency is swept with **radial** (concentric) gratings, so that orientation plays no role; the
# orientation chapter uses straight gratings. Each image is achromatic, has mean luminance 0.5 and
# Michelson contrast 1, and every stimulus is shown at several phases whose mean activations are averaged.

# %% tags=["hide-input"]
fig = plots.grating_gallery(grid, csf=config.csf)
plt.show()
display(Markdown(
    f"**Figure 1.** Examples of the probe stimuli at {grid.ppd:g} pixels per degree "
    f"(top: radial, middle: straight gratings), and beneath them the CSFs that weight "
    f"each frequency (bold: this page's), {grid.size} × {grid.size} pixels "
    f"({grid.size / grid.ppd:.2f}° wide); {grid.n_frequencies} frequencies from "
    f"{grid.f_min:g} to {grid.f_max:g} cpd, {grid.n_phases} phases."))

# %% [markdown]
# ## Tuning curves of strongly and weakly sensitive channels
#
# The mean activation of a channel, divided by its maximum, against frequency. A channel with a high
# μ1 changes its response steeply where the CSF (grey) is high; a channel with a low μ1 is flat there.

# %% tags=["hide-input"]
t = probed.layer(layer)
live = t[~t.dead.astype(bool)]
high = live.nlargest(n_examples, "mu1").channel.tolist()
low = live.nsmallest(n_examples, "mu1").channel.tolist()
labels = ["high μ1"] * len(high) + ["low μ1"] * len(low)
fig = plots.frequency_tuning(probed, layer, high + low, config, labels=labels)
plt.show()
display(Markdown(
    f"**Figure 2.** {layer}: the {n_examples} live channels of highest and lowest μ1; "
    f"dotted lines mark f̂."))

# %% [markdown]
# ## μ1 of every channel
#
# The paper plots μ1 of every relu2_2 channel of VGG-16; the channels differ widely.

# %% tags=["hide-input"]
fig = plots.per_channel_scores(probed, layer, "mu1", highlight=high[:1] + low[:1])
plt.show()
display(Markdown(
    f"**Figure 3.** μ1 of every {layer} channel (× marks dead channels, scored 0). "
    f""))
table = probed.table.assign(live=~probed.table.dead.astype(bool))
summary = pd.DataFrame({
    "channels": table.groupby("layer", sort=False).size(),
    "dead channels": table.groupby("layer", sort=False).dead.sum(),
    "median μ1 (live)": table[table.live].groupby("layer", sort=False).mu1.median(),
    "largest μ1": table.groupby("layer", sort=False).mu1.max()})
display(Markdown(
    f"**Table 1.** Per layer: channels, dead channels (silent on every grating, scored 0), "
    f"the median μ1 of the live channels (as in Figure 4) and the largest μ1."))
summary.round(3)

# %% [markdown]
# ## μ1 per layer

# %% tags=["hide-input"]
fig = plots.layer_distributions(probed.table, "mu1")
plt.show()
display(Markdown(
    f"**Figure 4.** Distribution of μ1 over the live channels of each tapped layer "
    f"(box: quartiles; dots: channels)."))

# %% [markdown]
# ## Reading the figures
#
# μ1 rewards a channel whose response *changes* with frequency where people are sensitive: the CSF
# weights each frequency (the band of this page's CSF is given below). Near the top of the grid the gratings approach the
# Nyquist limit (30 cpd at 60 pixels per degree is two pixels per cycle): there a grating is sampled so coarsely
# that a channel's response reflects the pixel grid as much as the frequency, and some channels' f̂ land there.
# Read tuning at those frequencies with care, or rerun with a larger `ppd`. The numbers depend on the stimulus grid and on
# the method's reconstructed choices ({ref}`what-is-reconstructed`); the [PE chapter](03_pe.ipynb) measures how much. Rerun this chapter
# with another CSF or network with papermill, for example:
#
# ```
# papermill notebooks/01_frequency.ipynb out.ipynb -p csf barten -p network alexnet -p layer relu2
# ```

# %% tags=["hide-input"]
from pecore.csf import sensitive_band
from pecore.experiment import display_name

band = sensitive_band(config.csf_function(), grid.f_min, grid.f_max)
csf_name = display_name(config.csf)
display(Markdown(
    f"With the **{csf_name}** CSF of this page, the frequencies weighted at least half as "
    f"much as its peak are {band[0]:.1f}–{band[1]:.0f} cpd; a channel's μ1 comes mostly "
    f"from how its response changes there." if band else
    f"With the **{csf_name}** CSF of this page every frequency is weighted equally: μ1 is "
    "the plain mean slope of the tuning curve over the whole grid."))
edges = probed.fhat_at_grid_edges()
display(Markdown(
    f"**Table 2.** Live channels whose f̂ lies at the lowest ({grid.f_min:g} cpd) or the "
    f"highest ({grid.f_max:g} cpd) frequency of the grid. Their weighted slope is "
    f"steepest at the edge of what was probed, so their tuning may continue beyond it: "
    f"their f̂ is a bound, not a preference."))
pb.readable(edges[["live", "at lowest", "at highest"]])

# %% tags=["hide-input"]
# The paper's claim 1 on this page: the channels of the layer differ widely in μ1 (recorded for the claims page too).
from pecore.claims import SPREAD_THRESHOLD, record_finding, spread_verdict
from pecore.tables import interval_text

spread = spread_verdict(probed.table, "mu1", layer, seed=seed)
_ = record_finding("spread", [spread], prov, chapter="01_frequency", grid=pb.grid_text(prov))
display(Markdown(
    f"**The paper's claim 1 tested here.** The spread of μ1 over the {spread.n} live channels of {layer}, "
    f"(q90 − q10) / median: {interval_text(spread.estimate, spread.ci_low, spread.ci_high, signed=False)} "
    f"(95 % bootstrap interval over channels), judged against a deliberately low bar of {SPREAD_THRESHOLD:g} — "
    f"**{spread.verdict}**. The [claims page](07_claims.html) sets this beside the paper's other claims."))
