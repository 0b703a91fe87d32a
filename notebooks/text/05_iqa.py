# %% [markdown]
# # Do high-PE channels predict human quality judgments?
#
# The paper's central claim {cite}`tariq2020why` is that channels with a high perceptual efficacy (PE) are the
# ones that make deep features good image-quality features. This chapter tests it against **real human
# scores**: a distance built only from a PE-selected subset of channels — an LPIPS-style distance
# {cite}`zhang2018lpips` with features unit-normalised across channels, squared difference, spatial mean,
# summed over the chosen channels and layers — is compared with people's quality ratings. Subsets are the top,
# bottom and random p % of each layer's channels by PE, and all channels; baselines are PSNR, SSIM
# {cite}`wang2004ssim` and LPIPS v0.1 with its learned weights (DISTS {cite}`ding2020dists`, another
# distance on VGG-16 features, which weighs structure and texture, is not among them). Then the claim is tested **channel by channel**:
# does a channel's PE predict how well that channel alone agrees with people?
#
# The human data is a subset of the LIVE Image Quality Assessment Database release 2
# {cite}`sheikh2006live` (95 distorted images of 5 scenes, realigned DMOS: lower is better; courtesy of
# LIVE / UT Austin, see its copyright notice). Users with the full LIVE, TID2013 {cite}`ponomarenko2015tid2013`,
# CSIQ or KADID-10k databases can point `data_dir` at them; the same code runs unchanged (preset `paper`, GPU).
# What the metric and the subsets reconstruct rather than copy from the paper is listed on the
# Method page ({ref}`channel-subset-distance`, {ref}`iqa-statistics`).

# %% tags=["parameters"]
# Parameters (papermill injects new values after this cell)
network = "vgg16"     # vgg16 or alexnet: the network whose channels are selected by PE
preset = "quick"      # quick (CPU, reduced resolution), paper (GPU, native resolution), ci (tests)
device = "auto"
seed = 0              # first seed of the random subsets and of the bootstrap
use_stored = True     # use the committed paper-preset channel scores when they exist
data_dir = None       # a dataset folder (LIVE, TID2013, CSIQ, KADID-10k or generic), or None for the shared LIVE part
layout = "auto"       # dataset layout; auto detects it
stat = "srocc"        # statistic of the figures: srocc, krocc or plcc
synthetic = True      # run the synthetic distortion check (no human data)

# %% tags=["hide-input"]
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import HTML, Markdown, display

import pecore.notebook as pb
from pecore.errors import ParameterError
from pecore.imageio import shared_data_dir
from pecore.iqa import plots as iqa_plots
from pecore.iqa.datasets import LAYOUTS, FRDataset, load_dataset
from pecore.iqa.experiment import run as run_iqa
from pecore.iqa.stats import STATISTICS
from pecore.iqa.synthetic import synthetic_check
from pecore.iqa.settings import get_settings as get_iqa_settings

params = pb.check_parameters(
    dict(network=network, preset=preset, device=device, seed=seed, use_stored=use_stored, data_dir=data_dir,
         layout=layout, stat=stat, synthetic=synthetic),
    {"data_dir": pb.Param((str,), optional=True, what="a dataset folder or None"),
     "layout": pb.Param((str,), lambda: list(LAYOUTS)),
     "stat": pb.Param((str,), lambda: list(STATISTICS)),
     "synthetic": pb.Param((bool,))})
np.random.seed(seed)
settings = get_iqa_settings(preset)
probed = pb.chapter_probe(network, preset, use_stored=use_stored, device=device)
dataset = load_dataset(data_dir or shared_data_dir() / "iqa" / "live-r2-subset", layout)
if not isinstance(dataset, FRDataset):
    raise ParameterError(f"notebook parameter data_dir: {data_dir!r} is a 2AFC dataset; this chapter needs full-reference pairs")
result = run_iqa(dataset, network, probed, settings=settings, preset=preset, device=device, seed=seed)
prov = result.provenance
prov["stored"] = False
label = pb.figure_label(prov)
scores_note = ("the committed paper-preset probe" if probed.provenance.get("stored")
               else f"a fresh probe under preset {probed.provenance.get('preset')}")
size_words = f"images at {settings.image_size} px" if settings.image_size else "images at their native size"
display(HTML(pb.page_summary(
    "Whether distances built from high-PE channels agree better with human quality scores than low-PE or random "
    "channels.", prov, grid=f"{size_words}, {settings.n_seeds} random subsets per size, {settings.n_boot} bootstrap "
    f"resamples; PE from {scores_note} ({pb.grid_text(probed.provenance)})")))
display(HTML(pb.provenance_details(params, prov)))

# %% [markdown]
# ## The data

# %% tags=["hide-input"]
d = prov["dataset"]
size = settings.image_size
display(Markdown(
    f"{iqa_plots.dataset_line(dataset)} This run uses {d['pairs_used']} pairs of {d['reference_images']} reference "
    "scenes" + (f" (the first {settings.max_pairs} evenly spaced pairs, preset {preset})" if settings.max_pairs else "")
    + ". Images are "
    + (f"**resized so that their shorter side is {size} pixels** (bicubic, antialiased) to fit a CPU budget; "
       "every metric, PSNR and SSIM included, sees the same resized images. The `paper` preset uses the native size."
       if size else "used at their native size.")
    + f" PE comes from {scores_note}."))

# %% [markdown]
# ## Channel subsets against human scores
#
# For every layer alone and for all five together, the distance uses the top-p %, bottom-p % or a random p % of
# each layer's channels (by PE), or all of them. SROCC and KROCC are rank correlations; PLCC is the Pearson
# correlation after a 4-parameter logistic fit. Signs are set so that **positive means agreement with people**
# (a distance against DMOS). Brackets are 95 % bootstrap intervals that resample **reference scenes**, so all
# distortions of a scene move together; random subsets show the mean ± sd over seeds and the interval of that mean.

# %% tags=["hide-input"]
display(Markdown(f"**Table 1.** All five layers together: each subset's agreement with the human scores, estimate "
                 f"[95 % interval] (random subsets: mean ± sd over seeds [interval of the mean]), with the number of "
                 f"channels it uses, and the baselines, which use no channel subset. — {label}"))
iqa_plots.interval_table(result.grid, "all")

# %% tags=["hide-input"]
fig = iqa_plots.score_vs_p(result.grid, stat)
plt.show()
display(Markdown(f"**Figure 1.** {iqa_plots.STAT_NAMES[stat]} of the subset distance with the human scores against the "
                 f"subset size p, for top-, random- and bottom-PE channels, per layer and for all layers. Bars: 95 % "
                 f"bootstrap intervals over the {d['reference_images']} reference scenes; band: sd over "
                 f"{settings.n_seeds} random seeds; dotted: all channels; grey: baselines. — {label}"))

# %% tags=["hide-input"]
display(Markdown(f"**Table 2.** Every layer alone: the SROCC of each subset with the human scores, estimate [95 % "
                 f"interval], and its number of channels. — {label}"))
iqa_plots.interval_table(result.grid[result.grid.layers != "-"], None, stats=["srocc"]).query("layers != 'all'")

# %% [markdown]
# ## Channel by channel
#
# Each channel alone is a distance. Its SROCC with the human scores measures how well that channel by itself
# ranks the images as people do. If high-PE channels are the perceptually useful ones, a channel's PE should
# correlate with its SROCC: the Spearman ρ below, with a 95 % interval from resampling the reference scenes
# (every resample recomputes every channel's SROCC). Dead channels and channels that never change are left out.

# %% tags=["hide-input"]
fig = iqa_plots.channel_scatter(result.channels, result.channel_summary)
plt.show()
display(Markdown(f"**Figure 2.** PE of every live channel against its own SROCC with the human scores, per layer; "
                 f"the title gives Spearman ρ with its 95 % interval. — {label}"))
display(Markdown(f"**Table 3.** Per layer: the channels used (live and not constant on these images), Spearman ρ "
                 f"between a channel's PE and its own SROCC with the human scores [95 % interval, resampling the "
                 f"reference scenes], the channels left out, and the median single-channel SROCC. — {label}"))
iqa_plots.channel_table(result.channel_summary)

# %% [markdown]
# ## A synthetic check (no human data)
#
# To test the pipeline itself, five kinds of distortion (Gaussian noise, blur, JPEG, contrast reduction, a colour
# cast) at five levels each are applied to real photographs (Set5 {cite}`bevilacqua2012set5`). A sound distance grows
# with the level. The table gives, per kind, the mean Spearman ρ between the distance and the level within each
# (photograph, kind) sequence. **This is not a human study**: it checks monotonicity, not perceived quality.

# %% tags=["hide-input"]
if synthetic:
    syn = synthetic_check(network, probed, settings=settings, preset=preset, device=device, seed=seed)
    display(Markdown(f"**Table 4.** Synthetic check: rank consistency with the distortion level "
                     f"({settings.synthetic_images} photographs at {settings.synthetic_size} px, "
                     f"{settings.synthetic_levels} levels; 1 = always ordered). — {label}"))
    display(iqa_plots.synthetic_table(syn))

# %% [markdown]
# ## What these data can and cannot support
#
# The statements below are computed from the numbers above. Top-PE subsets are compared with bottom-PE and random
# ones by the SROCC difference with a **paired** bootstrap interval (both scored on the same resampled scenes); a
# difference is called only when that interval excludes 0.

# %% tags=["hide-input"]
display(Markdown("\n".join(f"- {line}" for line in iqa_plots.conclusions(result, stat))))
display(Markdown(iqa_plots.limits(result)))

# %% [markdown]
# Every distance here, including PSNR, ranks LIVE's distortions well, which leaves little room for one subset to
# beat another. The channel-level test uses hundreds of channels but the same five scenes. A conclusion about the
# paper's claim needs the full databases (`preset="paper"`, `data_dir=...` on a GPU), and even then it holds only for
# the choices we made in reconstructing PE ({ref}`what-is-reconstructed`); the PE chapter shows how much the ranking
# depends on them.
#
# Rerun this chapter on another dataset or network with papermill, for example:
#
# ```
# papermill notebooks/05_iqa.ipynb out.ipynb -p network alexnet -p data_dir /data/tid2013 -p preset paper
# ```

# %% tags=["remove-cell"]
# For the claims page: this chapter's verdicts, recorded beside the notebook.
from pecore.claims import record_finding
from pecore.iqa.conclusions import conclusions as iqa_verdicts
_ = record_finding("iqa", iqa_verdicts(result), prov, chapter="05_iqa",
                   grid=f"{d['pairs_used']} pairs of {d['reference_images']} scenes; PE from {scores_note}")
