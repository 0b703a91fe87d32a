# %% [markdown]
# # Perceptual efficacy (PE)
#
# PE combines a channel's frequency sensitivity μ1 and orientation selectivity μ2 into one score per
# channel of a layer {cite}`tariq2020why`. The paper's claim is that high-PE channels are the ones that make deep
# features good perceptual-quality features. This chapter shows PE per layer, the channels at both
# ends of relu2_2 with what they respond to in a natural image, **how much the ranking depends on the
# reconstructed choices** of the method ({ref}`what-is-reconstructed`), and how PE relates to the per-channel weights that
# LPIPS learned from human judgments {cite}`zhang2018lpips`.

# %% tags=["parameters"]
# Parameters (papermill injects new values after this cell)
network = "vgg16"
compare_network = "alexnet"   # a second network shown beside the first; None to skip
preset = "quick"              # probe grid used only when no stored paper-grid probe fits (another ppd or network)
device = "auto"
seed = 0
use_stored = True
ppd = None                    # pixels per degree, None for the preset value
csf = "mannos-sakrison"       # mannos-sakrison, barten, flat: the CSF of the scores shown
layer = "relu2_2"
n_examples = 6
robustness_variants = ["no-normalisation", "log-derivative", "signed-slope", "no-csf", "barten-csf",
                       "fhat-peak-activation", "mu2-circular", "pe-mean", "oriented-mean-stimulus"]
p = 25                        # top-set size of the robustness analysis, percent
n_boot = 1000

# %% tags=["hide-input"]
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import HTML, Markdown, display

import pecore
import pecore.notebook as pb
from pecore.compare import pe_vs_weights_verdicts
from pecore.experiment import display_name, overall_reading, verdict_reading
from pecore import claims, orientation
from pecore import plots
from pecore.compare import pe_vs_weights, ranking_agreement
from pecore.imageio import BUNDLED_PHOTOGRAPHS, bundled_photograph, centre_square
from pecore.weights import load_lpips_linear

params = pb.check_parameters(
    dict(network=network, compare_network=compare_network, preset=preset, device=device, seed=seed,
         use_stored=use_stored, ppd=ppd, csf=csf, layer=layer, n_examples=n_examples,
         robustness_variants=robustness_variants, p=p, n_boot=n_boot),
    {"n_examples": pb.Param((int,), check=lambda v: 1 <= v <= 12, what="an integer in 1..12"),
     "robustness_variants": pb.Param((list, tuple), check=lambda v: all(x in pecore.VARIANTS for x in v),
                                     what=f"a list of variants from {{{', '.join(pecore.VARIANTS)}}}"),
     "n_boot": pb.Param((int,), check=lambda v: v >= 50, what="an integer >= 50")})
np.random.seed(seed)
probed = pb.chapter_probe(network, preset, use_stored=use_stored, device=device, csf=csf, ppd=ppd)
prov = probed.provenance
if layer not in probed.table.layer.unique():
    raise pecore.UnknownNameError(f"notebook parameter layer: {layer!r} was not probed; probed: {sorted(probed.table.layer.unique())}")
others = {}
if compare_network and compare_network != network:
    others[compare_network] = pb.chapter_probe(compare_network, preset, use_stored=use_stored, device=device,
                                                csf=csf, ppd=ppd)
label = pb.figure_label(prov)
display(HTML(pb.page_summary("Perceptual efficacy per layer, the channels at both ends of the ranking, how much the ranking depends on the method's choices, and PE against LPIPS's learned weights.", prov, grid=pb.grid_text(prov))))
display(HTML(pb.provenance_details(params, prov)))
display(HTML(pb.rerun_box("03_pe", params)))

# %% [markdown]
# ## PE per layer

# %% tags=["hide-input"]
tables = {network: probed.table, **{k: v.table for k, v in others.items()}}
fig = plots.layer_distributions(tables, "pe")
plt.show()
labels = "; ".join(f"{display_name(k)}: {pb.figure_label(v.provenance)}" for k, v in {network: probed, **others}.items())
display(Markdown(f"**Figure 1.** PE of the live (not dead) channels of each tapped layer, "
                 f"{' beside '.join(map(display_name, tables))}. Live channels that give no activation to any straight "
                 f"grating at their f̂ are included with PE 0 (their μ2 is 0 by convention; Table 1 counts them). "
                 f"— {labels}"))
t = probed.table
live = t[~t.dead.astype(bool)]
summary = pd.DataFrame({"channels": t.groupby("layer", sort=False).size(),
                        "dead channels": t.dead.astype(bool).groupby(t.layer, sort=False).sum(),
                        "silent at f̂ (PE 0)": orientation.silent_at_fhat(t).groupby(t.layer, sort=False).sum(),
                        "median PE": live.groupby("layer", sort=False).pe.median().round(3),
                        "90th percentile of PE": live.groupby("layer", sort=False).pe.quantile(0.9).round(3)})
summary.index.name = "layer"
display(Markdown(f"**Table 1.** {display_name(network)} per layer: channels, dead channels (silent on every grating, "
                 f"scored 0), live channels silent at every orientation at their f̂ (PE 0), and the median and 90th "
                 f"percentile of PE over the live channels — the channels of Figure 1. — {pb.figure_label(prov)}"))
display(summary)

# %% [markdown]
# ## The top and bottom channels of the layer
#
# Their tuning in frequency and orientation, and their feature maps on a natural photograph (Chelsea the cat, a
# CC0 photograph that ships with scikit-image {cite}`vanderwalt2014skimage`, so the figure needs no dataset), each
# map scaled to its own maximum.

# %% tags=["hide-input"]
t = probed.layer(layer)
live = t[~t.dead.astype(bool)]
top = live.nlargest(n_examples, "pe").channel.tolist()
bottom = live.nsmallest(n_examples, "pe").channel.tolist()
config = pecore.ScoreConfig(**prov["parameters"]["score_config"])
fig = plots.frequency_tuning(probed, layer, top[:3] + bottom[:3], config, labels=["top PE"] * 3 + ["bottom PE"] * 3)
plt.show()
display(Markdown(f"**Figure 2.** {layer}: frequency tuning of the three highest- and lowest-PE channels."))
fig = plots.orientation_tuning(probed, layer, top[:3] + bottom[:3], labels=["high PE"] * 3 + ["low PE"] * 3)
plt.show()
display(Markdown(f"**Figure 3.** {layer}: orientation tuning of the same channels (blue: top PE, red: bottom PE)."))

# %% tags=["hide-input"]
net = pecore.load_network(network, device=device)
image = centre_square(bundled_photograph("chelsea", size=192, device=net.device))
import torch
with torch.inference_mode():
    maps = net.extractor(image[None], [layer])[layer]
chans = top + bottom
titles = [f"top {i + 1}: ch {c}" for i, c in enumerate(top)] + [f"bottom {i + 1}: ch {c}" for i, c in enumerate(bottom)]
fig = plots.feature_maps(maps, chans, titles, image.cpu())
plt.show()
display(Markdown(f"**Figure 4.** {layer} feature maps of the {n_examples} highest-PE (first) and lowest-PE (then) channels on a "
                 f"photograph ({BUNDLED_PHOTOGRAPHS['chelsea'][1]}), resized to 192 px and centre-cropped square."))

# %% [markdown]
# ## How much does the ranking depend on the reconstructed choices?
#
# The paper's equations are not available to us (Method page, {ref}`what-is-reconstructed`); each reconstructed choice has named
# alternatives. Here every alternative is scored one at a time and compared with the default: the
# Spearman ρ of the per-layer PE rankings and the Jaccard overlap of the top-p % sets. High values mean a
# conclusion drawn from the top set does not hinge on that choice.

# %% tags=["hide-input"]
from pecore.compare import chance_jaccard

agreements, rob_labels = {}, {}
for name in [network, *others]:
    results = pb.chapter_variants(name, preset, robustness_variants, use_stored=use_stored, device=device, ppd=ppd)
    tables = {k: v.table for k, v in results.items()}
    agreements[name] = ranking_agreement(tables["default"], {k: v for k, v in tables.items() if k != "default"}, p=p)
    rob_labels[name] = pb.figure_label(results["default"].provenance)
for i, (name, agreement) in enumerate(agreements.items()):
    fig = plots.agreement_heatmap(agreement, ("spearman", "jaccard_top"), p=p)
    plt.show()
    display(Markdown(f"**Figure {5 + i}.** {display_name(name)}: Spearman ρ between the default PE ranking and each alternative's "
                     f"(left), and the overlap (Jaccard index) of their top-{p:g} % sets (right), per layer; two "
                     f"top-{p:g} % sets drawn at random overlap by {chance_jaccard(128, p):.2f} (chance), so a Jaccard near "
                     f"that says the two scorings pick unrelated channels. "
                     f"— {rob_labels[name]}"))
agreement = agreements[network]

# %% tags=["hide-input"]
from pecore.experiment import display_name

lines = []
for net_name, agr in agreements.items():
    worst = agr.groupby("variant").spearman.min().sort_values()
    worst.index = [display_name(v) for v in worst.index]
    lines.append(
        f"- **{display_name(net_name)}**: least stable under **" + "**, **".join(worst.index[:3])
        + "** (lowest per-layer ρ: " + ", ".join(f"{v:.2f}" for v in worst.values[:3])
        + "), most stable under **" + worst.index[-1]
        + f"** (ρ ≥ {worst.values[-1]:.2f} in every layer).")
display(Markdown("How stable the ranking is, per network:\n\n" + "\n".join(lines)
                 + "\n\nConclusions that depend on which channels are in the top set inherit this sensitivity."))

# %% [markdown]
# ## PE against LPIPS's learned channel weights
#
# LPIPS v0.1 {cite}`zhang2018lpips` weights each channel of the same five VGG-16 (and AlexNet) layers with
# a non-negative weight learned from human two-alternative judgments. If high-PE channels are the
# perceptually useful ones, they might carry larger learned weights. The Spearman ρ between PE and the
# weight per layer, with a 95 % bootstrap interval over channels:

# %% tags=["hide-input"]
rows = []
for name, s in {network: probed, **others}.items():
    lin, _ = load_lpips_linear(name)
    w = {k: v.numpy() for k, v in zip(s.table.layer.unique(), lin)}
    res = pe_vs_weights(s.table, w, n_boot=n_boot, seed=seed)
    res.insert(0, "network", name)
    rows.append(res)
    fig = plots.pe_weight_scatter(s.table, w, f"{display_name(name)}: PE against LPIPS v0.1 weight per channel")
    plt.show()
lpips_agreement = pd.concat(rows, ignore_index=True)
verdicts = pe_vs_weights_verdicts(lpips_agreement)
display(Markdown(f"**Figure 7.** PE against LPIPS's learned per-channel weight, one panel per layer (live channels). "
                 f"— {labels}"))
display(Markdown(f"**Table 2.** Per network and layer: the live channels, Spearman ρ between PE and LPIPS's learned "
                 f"weight with its 95 % bootstrap interval over channels, and the verdict on \"the learned weights favour "
                 f"high-PE channels\" (supported when the interval lies above 0). — {labels}"))
display(pd.DataFrame({
    "network": [display_name(n) for n in lpips_agreement.network], "layer": lpips_agreement.layer,
    "live channels": lpips_agreement.n_channels,
    "Spearman ρ(PE, LPIPS weight) [95 %]": [claims.interval_text(v.estimate, v.ci_low, v.ci_high) for v in verdicts],
    "verdict": [v.verdict for v in verdicts]}).set_index(["network", "layer"]))

# %% tags=["hide-input"]
display(Markdown(
    f"**Reading (Table 2).** {verdict_reading(verdicts)}"
    + " A positive ρ would mean LPIPS's human-trained weights favour high-PE channels, as the paper's argument predicts; "
    "a negative or null ρ does not refute PE by itself — LPIPS weights are fitted jointly, so correlated channels share "
    "weight, and its training data (BAPPS patches, 64 px) differ from the gratings PE is measured with. The channel-level "
    "test against human quality scores is in the [image-quality chapter](05_iqa.html)."))

# %% tags=["remove-cell"]
# For the claims page: this chapter's one test, recorded beside the notebook.
from pecore.claims import record_finding
_ = record_finding("lpips", verdicts, prov, chapter="03_pe", grid=pb.grid_text(prov))
