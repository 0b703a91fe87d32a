# %% [markdown]
# # Orientation selectivity (μ2)
#
# The second probe {cite}`tariq2020why`: at each channel's own frequency f̂ (from the
# [frequency chapter](01_frequency.ipynb)), straight gratings are rotated through 180°. A channel
# whose mean activation peaks sharply at one orientation is orientation selective, like the simple
# cells of the visual cortex; μ2 measures how sharply. Definitions are on the Method page ({ref}`method-scores`).

# %% tags=["parameters"]
# Parameters (papermill injects new values after this cell)
network = "vgg16"
preset = "quick"         # probe grid used only when no stored paper-grid probe fits (another ppd or network)
device = "auto"
seed = 0
use_stored = True
ppd = None
csf = "mannos-sakrison"
variants = []
layer = "relu2_2"
n_examples = 3

# %% tags=["hide-input"]
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import HTML, Markdown, display

import pecore
import pecore.notebook as pb
from pecore import plots
from pecore import orientation
from pecore.experiment import display_name

params = pb.check_parameters(dict(network=network, preset=preset, device=device, seed=seed, use_stored=use_stored,
                                  ppd=ppd, csf=csf, variants=variants, layer=layer, n_examples=n_examples),
                             {"n_examples": pb.Param((int,), check=lambda v: 1 <= v <= 8, what="an integer in 1..8")})
np.random.seed(seed)
probed = pb.chapter_probe(network, preset, use_stored=use_stored, device=device, variants=variants, csf=csf, ppd=ppd)
prov = probed.provenance
if layer not in probed.table.layer.unique():
    raise pecore.UnknownNameError(f"notebook parameter layer: {layer!r} was not probed; probed: {sorted(probed.table.layer.unique())}")
label = pb.figure_label(prov)
display(HTML(pb.page_summary('Orientation tuning of every channel at its own frequency f̂: polar tuning curves, μ2 and the preferred orientations.', prov, grid=pb.grid_text(prov))))
display(HTML(pb.provenance_details(params, prov)))
display(HTML(pb.rerun_box("02_orientation", params)))

# %% [markdown]
# ## Sharply and broadly tuned channels

# %% tags=["hide-input"]
t = probed.layer(layer)
live = t[orientation.tuning_measured(t)]  # μ2 measured: live and answering straight gratings at f̂
high = live.nlargest(n_examples, "mu2").channel.tolist()
low = live.nsmallest(n_examples, "mu2").channel.tolist()
fig = plots.orientation_tuning(probed, layer, high + low, labels=["high μ2"] * len(high) + ["low μ2"] * len(low))
plt.show()
display(Markdown(f"**Figure 1.** {layer}: polar tuning curves (mean activation / max against grating orientation, "
                 f"mirrored to a full turn) of the {n_examples} most (blue) and least (red) orientation-selective channels, "
                 f"each probed at its own f̂."))

# %% [markdown]
# ## μ2 of every channel

# %% tags=["hide-input"]
silent = orientation.silent_at_fhat(probed.table).groupby(probed.table.layer, sort=False).sum()
dead = probed.table.dead.astype(bool).groupby(probed.table.layer, sort=False).sum()
fig = plots.per_channel_scores(probed, layer, "mu2", highlight=high[:1] + low[:1])
plt.show()
display(Markdown(f"**Figure 2.** μ2 of every {layer} channel (× marks dead channels, scored 0"
                 + (f"; the {silent[layer]} channels silent at every orientation at their f̂ sit at 0 too"
                    if silent[layer] else "") + f")."))
fig = plots.layer_distributions(probed.table, "mu2", exclude_silent=True)
plt.show()
left_out = ", ".join(f"{k} {n}" for k, n in silent.items() if n) or "none in any layer"
display(Markdown(f"**Figure 3.** Distribution of μ2 per layer over the channels whose μ2 is measured: the live channels "
                 f"that respond to straight gratings at their f̂. Left out: dead channels (silent on every grating; "
                 f"{int(dead.sum())} in all) and live channels that answer the radial gratings but give no activation "
                 f"to any straight grating at their f̂, whose μ2 is 0 by convention ({left_out})."))

# %% [markdown]
# ## Preferred frequency and orientation per layer
#
# Deeper layers see the image through larger receptive fields, so their f̂ should move to lower
# frequencies. Preferred orientations of ImageNet networks are often said to favour the cardinal directions,
# 0° and 90° (θ is the direction of modulation: 0° = vertical bars, 90° = horizontal bars). Whether they do
# here is read against chance for each axis on its own: θ̂ can only take the probed orientations, and a share
# of them lies near each axis by construction. Only a layer with more θ̂ than chance near **both** axes shows a
# cardinal preference; an excess near one axis alone is reported as such.

# %% tags=["hide-input"]
fig = plots.preference_histograms(probed)
plt.show()
display(Markdown(f"**Figure 4.** Per layer, the distribution of f̂ over the live channels (left) and of the preferred "
                 f"orientation θ̂ over the live channels that respond to straight gratings at their f̂ (right: the "
                 f"share of a layer's channels in each 15° bin, dotted: the share by chance; θ is the direction of "
                 f"modulation, 0° = vertical bars; −90° and 90° are one orientation, drawn as one bin at 90°)."))
grid = pecore.ProbeGrid(**prov["parameters"]["probe_grid"])
table = probed.table
summary = orientation.layer_summary(table)
display(Markdown(f"**Table 1.** Per layer: the live channels (not dead), how many of them give no activation to any "
                 f"straight grating at their f̂, the median f̂ over the live channels and the median μ2 over the "
                 f"live channels that respond at f̂."))
display(summary)
axes, axis_verdicts = orientation.axis_preference(table, grid.orientations)
display(Markdown(f"**Table 2.** Per layer: the share of channels whose θ̂ lies within 7.5° of 0° and of 90°, each "
                 f"with its 95 % Clopper–Pearson interval, against the share expected by chance on this grid of "
                 f"{grid.n_orientations} orientations, and which axes lie above chance by their intervals. Channels: live and responding "
                 f"to straight gratings at their f̂."))
display(orientation.axis_table(axes))

# %% [markdown]
# ## Reading
#

# %% tags=["hide-input"]
near = orientation.share_near_nyquist(table, layer, ppd=grid.ppd)
display(Markdown(
    f"- The median f̂ {orientation.depth_trend(summary['median f̂ (cpd)'])} (Table 1).\n"
    f"- **Cardinal preference** (Table 2, each axis against chance): {orientation.axis_reading(axes)} A share at chance "
    "means θ̂ is spread evenly over the probed orientations there.\n"
    f"- **Close to the Nyquist limit.** Of the {near['n_top']} most orientation-selective {layer} channels (the top "
    f"10 % by μ2), {near['n_near']} ({100 * near['share_top']:.0f} %) have f̂ above {near['f_limit']:g} cpd, against "
    f"{100 * near['share_layer']:.0f} % of the layer's channels. At {grid.ppd:g} ppd such a grating has fewer than three "
    f"pixels per cycle (the Nyquist limit, two pixels per cycle, is {near['nyquist']:g} cpd), where the pixel grid "
    "shapes a response as much as the grating does, as the [frequency chapter](01_frequency.html) warns: read the "
    "top of the μ2 ranking with care, or rerun with a larger `ppd`."))

# %% tags=["hide-input"]
# The paper's claim 1 on this page: the channels of the layer differ widely in μ2 (recorded for the claims page too).
from pecore.claims import SPREAD_THRESHOLD, record_finding, spread_verdict
from pecore.tables import interval_text

spread = spread_verdict(probed.table, "mu2", layer, seed=seed)
_ = record_finding("spread", [spread], prov, chapter="02_orientation", grid=pb.grid_text(prov))
display(Markdown(
    f"**The paper's claim 1 tested here.** The spread of μ2 over the {spread.n} live channels of {layer}, "
    f"(q90 − q10) / median: {interval_text(spread.estimate, spread.ci_low, spread.ci_high, signed=False)} "
    f"(95 % bootstrap interval over channels), judged against a deliberately low bar of {SPREAD_THRESHOLD:g} — "
    f"**{spread.verdict}**. The [claims page](07_claims.html) sets this beside the paper's other claims."))
