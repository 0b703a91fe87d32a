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
preset = "book"       # book (the stored CPU tier), quick (a laptop rerun, smaller images), paper (GPU, native size), ci (tests)
device = "auto"
seed = 0              # first seed of the random subsets and of the bootstrap
use_stored = True     # use the committed results (and paper-grid channel scores) when they match
data_dir = None       # a dataset folder (LIVE, TID2013, CSIQ, KADID-10k or generic), or None for the LIVE part in the data folder
layout = "auto"       # dataset layout; auto detects it
stat = "srocc"        # statistic of the figures: srocc, krocc or plcc
synthetic = True      # show the synthetic distortion check (no human data)

# %% tags=["hide-input"]
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import HTML, Markdown, display

import pecore.notebook as pb
from pecore.iqa import plots as iqa_plots
from pecore.iqa.conclusions import MIN_SCENES
from pecore.iqa.datasets import LAYOUTS
from pecore.iqa.experiment import chapter_result
from pecore.iqa.stats import STATISTICS
from pecore.iqa.settings import PRESETS as IQA_PRESETS, get_settings as get_iqa_settings

params = pb.check_parameters(
    dict(network=network, preset=preset, device=device, seed=seed, use_stored=use_stored, data_dir=data_dir,
         layout=layout, stat=stat, synthetic=synthetic),
    {"preset": pb.Param((str,), lambda: list(IQA_PRESETS)),
     "data_dir": pb.Param((str,), optional=True, what="a dataset folder or None"),
     "layout": pb.Param((str,), lambda: list(LAYOUTS)),
     "stat": pb.Param((str,), lambda: list(STATISTICS)),
     "synthetic": pb.Param((bool,))})
np.random.seed(seed)
settings = get_iqa_settings(preset)
result = chapter_result(network, preset, seed=seed, data_dir=data_dir, layout=layout, synthetic=synthetic,
                        use_stored=use_stored, device=device)
prov = result.provenance
label = pb.figure_label(prov)
scores = prov.get("scores", {})
scores_note = ("the committed paper-grid probe" if scores.get("stored")
               else f"a fresh probe under preset {scores.get('preset')}") + (f" ({scores['grid']})" if scores.get("grid") else "")
size_words = f"images at {settings.image_size} px" if settings.image_size else "images at their native size"
display(HTML(pb.page_summary(
    "Whether distances built from high-PE channels agree better with human quality scores than low-PE or random "
    "channels.", prov, grid=f"{size_words}, {settings.n_random} random subsets per size and layer, "
    f"{settings.n_boot} bootstrap resamples of the scenes; PE from {scores_note}")))
display(HTML(pb.provenance_details(params, prov)))
display(HTML(pb.rerun_box("05_iqa", params)))

# %% [markdown]
# ## The data

# %% tags=["hide-input"]
d = prov["dataset"]
size = settings.image_size
display(Markdown(
    f"{iqa_plots.dataset_line(result)} This run uses {d['pairs_used']} pairs of {d['reference_images']} reference "
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
                 f"channels it uses, and the baselines, which use no channel subset."))
iqa_plots.interval_table(result.grid, "all")

# %% tags=["hide-input"]
fig = iqa_plots.score_vs_p(result.grid, stat)
plt.show()
display(Markdown(f"**Figure 1.** {iqa_plots.STAT_NAMES[stat]} of the subset distance with the human scores against the "
                 f"subset size p, for top-, random- and bottom-PE channels, per layer and for all layers. Bars: 95 % "
                 f"bootstrap intervals over the {d['reference_images']} reference scenes; band: sd over "
                 f"{settings.n_seeds} random seeds; dotted: all channels; grey: baselines."))

# %% tags=["hide-input"]
display(Markdown(f"**Table 2.** Every layer alone: the SROCC of each subset with the human scores, estimate [95 % "
                 f"interval], and its number of channels."))
iqa_plots.interval_table(result.grid[result.grid.layers != "-"], None, stats=["srocc"]).query("layers != 'all'")

# %% [markdown]
# ## Against chance: the top and bottom subsets among random ones
#
# A top-PE subset that agrees with people no better than a typical random subset of the same size says nothing
# about PE. For every layer alone, all layers together and each p, many random subsets of the same size are drawn
# and scored, and the top- and bottom-PE subsets are placed among them: their **percentile** is the share of random
# subsets that agree less with people (50 = a typical random subset). Its 95 % interval resamples the reference
# scenes, and every random subset is scored again on each resample, so the interval holds both the scenes and the
# random draws. The paper predicts the top subsets above 50 and the bottom subsets below.

# %% tags=["hide-input"]
fig = iqa_plots.chance_figure(result.chance)
plt.show()
n_random = int(result.chance.n_random.iloc[0])
display(Markdown(f"**Figure 2.** SROCC with the human scores of the top- and bottom-PE subsets (markers) and of "
                 f"{n_random} random subsets of the same size (grey: their central 95 %; tick: their median), per "
                 f"layer and for all five together (all), at each subset size p."))
display(Markdown(f"**Table 3.** Percentile of the top- and bottom-PE subsets among {n_random} random subsets of "
                 f"their size (share that agree less with people; 50 = typical) [95 % interval, resampling the "
                 f"{d['reference_images']} reference scenes]."))
iqa_plots.chance_table(result.chance)

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
display(Markdown(f"**Figure 3.** PE of every live channel against its own SROCC with the human scores, per layer; "
                 f"the title gives Spearman ρ with its 95 % interval."))
display(Markdown(f"**Table 4.** Per layer: the channels used (live and not constant on these images), Spearman ρ "
                 f"between a channel's PE and its own SROCC with the human scores [95 % interval, resampling the "
                 f"reference scenes], the channels left out, and the median single-channel SROCC."))
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
    display(Markdown(f"**Table 5.** Synthetic check: rank consistency with the distortion level "
                     f"({settings.synthetic_images} photographs at {settings.synthetic_size} px, "
                     f"{settings.synthetic_levels} levels; 1 = always ordered)."))
    display(iqa_plots.synthetic_table(result.synthetic))

# %% [markdown]
# ## What these data can and cannot support
#
# The statements below are computed from the numbers above by the book's one rule (Method page,
# {ref}`verdicts`): top-PE subsets are compared with bottom-PE ones by the SROCC difference with a **paired**
# bootstrap interval (both scored on the same resampled scenes), and with random ones by their percentile (Table 3);
# a test is supported or contradicted only when its interval excludes 0 (50 for a percentile), and every test reads
# "too few data" when the intervals rest on fewer scenes than the rule asks for.

# %% tags=["hide-input"]
display(Markdown(f"The rule asks for at least {MIN_SCENES} reference scenes; these results rest on "
                 f"{d['reference_images']}."))
display(Markdown("\n".join(f"- {line}" for line in iqa_plots.conclusions(result, stat))))
display(Markdown(iqa_plots.limits(result)))
display(Markdown(
    "Every distance here, including PSNR, ranks these distortions well, which leaves little room for one subset to "
    f"beat another. The channel-level test uses hundreds of channels but the same {d['reference_images']} scenes. "
    "A conclusion about the paper's claim needs the full databases (`preset=\"paper\"`, `data_dir=...` on a GPU), "
    "and even then it holds only for the choices made in reconstructing PE (Method page); the PE chapter shows how "
    "much the ranking depends on them."))

# %% [markdown]
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
                   grid=f"{d['pairs_used']} pairs of {d['reference_images']} scenes; PE from {scores_note}",
                   top_set={"network": prov["network"], "layers": list(result.channel_summary.layer), "p": 25.0})
