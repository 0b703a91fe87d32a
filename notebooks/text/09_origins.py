# %% [markdown]
# # Beyond the paper: where PE comes from, and whether high-PE channels see like humans
#
# The paper ranks the channels of one ImageNet VGG-16 by a CSF-weighted frequency score (μ1) and an orientation
# score (μ2), and reads the high-PE channels as those that share "basic characteristics of human vision"
# {cite}`tariq2020why`. Two questions follow that the paper does not ask:
#
# 1. **Is PE a property of ImageNet training, of training on human judgments, or of the architecture itself?**
#    We probe three kinds of network of the same architecture: the **ImageNet** VGG-16 and AlexNet of the other
#    chapters; the **shift-tolerant** VGG-16 and AlexNet of ST-LPIPS {cite}`ghildyal2022stlpips`, trained from
#    scratch (no ImageNet) on the human similarity judgments of BAPPS {cite}`zhang2018lpips` with the
#    LPIPS ranking loss, with anti-aliased (blurred) downsampling; and **randomly initialised** networks (several
#    seeds), which have the architecture and nothing learned.
# 2. **Do high-PE channels, read as a group, show human-like contrast sensitivity and masking?** Network
#    contrast sensitivity has been measured per layer or per network {cite}`akbarinia2023contrast,cai2025foundation`,
#    never per channel subset. We measure it for the top-PE, bottom-PE, random and all channels of each layer,
#    without training anything: the contrast at which a grating's feature distance from a uniform field reaches
#    a criterion gives a threshold, its inverse the sensitivity, at each frequency. Its shape is compared with
#    the Mannos–Sakrison CSF {cite}`mannos1974effects`. Then **contrast masking**: how the threshold rises when
#    the target sits on a masker grating, which in human observers follows a slope of about 0.6 on log–log axes
#    {cite}`legge1980contrast`.
#
# **What is circular and what is not.** μ1 weights each channel's frequency response by the Mannos–Sakrison
# CSF, so the top-PE channels are chosen for CSF-like tuning: their sensitivity curve agreeing with that CSF
# is partly built in. The chapter therefore repeats the test on channels ranked by PE computed with a *flat*
# CSF, and adds the masking test, which no CSF enters. The method and its choices are on the Method page
# ({ref}`beyond-the-paper`).

# %% tags=["parameters"]
# Parameters (papermill injects new values after this cell)
preset = "book"       # book (stored: survey probe grid, VGG-16 and AlexNet families), quick (minutes), ci, paper (GPU)
device = "auto"
use_stored = True     # use the committed results when they exist for the preset
seed = 0              # seed of the bootstrap resampling

# %% tags=["hide-input"]
# %matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import HTML, Markdown, display

import pecore.notebook as pb
from pecore.experiment import display_name, overall_reading
from pecore.origins import conclusions as oc
from pecore.origins import plots as op
from pecore.origins.experiment import chapter_result
from pecore.origins.settings import OBJECTIVES, PRESETS as ORIGIN_PRESETS
from pecore.probe_result import read_pe_table
from pecore.stored import stored_results

params = pb.check_parameters(dict(preset=preset, device=device, use_stored=use_stored, seed=seed),
                             {"preset": pb.Param((str,), lambda: list(ORIGIN_PRESETS))})
result = chapter_result(preset, use_stored=use_stored, device=device)
prov = result.provenance
settings = result.settings
families = list(settings.families)
sens_labels = list(result.distances)
grid_words = (f"probe grid {settings.probe_preset}; {len(result.provenance['probes'])} networks "
              f"({settings.n_random} random seeds per family); sensitivity: {len(settings.grid.frequencies)} "
              f"frequencies {settings.grid.frequencies[0]:g}–{settings.grid.frequencies[-1]:g} cpd × "
              f"{len(settings.grid.contrasts)} contrasts, {settings.grid.size} px at {settings.grid.ppd:g} ppd, "
              f"criterion κ = {settings.grid.kappa:g}; subsets of {settings.p:g} %, {settings.n_draws} random draws")
label = (f"preset {prov.get('preset')}" + (" (stored results)" if prov.get("stored") else "")
         + f" · {prov.get('cpu') or prov.get('device') or ''}")
display(HTML(pb.page_summary("PE of networks trained for different objectives (ImageNet, human judgments, none), "
                             "and the contrast sensitivity and masking of their top-, bottom-PE, random and all "
                             "channels.", {**prov, "network": " and ".join(display_name(f) for f in families) + " families",
                                           "weights": {"source": "ImageNet, ST-LPIPS and random initialisation"}},
                             grid=grid_words)))
display(HTML(pb.provenance_details(params, prov)))
display(HTML(pb.rerun_box("09_origins", params)))

# %% [markdown]
# ## The networks
#
# Every network is probed on the same stimulus grid and scored with the book's default scoring. The stored
# tier uses the **survey** grid: the paper's frequency sweep unchanged (64 frequencies, 4 phases, 224 px), and
# an orientation sweep with 18 orientations × 2 phases instead of 36 × 4 — a quarter of the images, so ten
# networks fit a CPU. Table 2 shows what that costs: the rank correlation of each score between the survey and
# the paper grid for the ImageNet VGG-16 (μ1 is identical by construction; μ2 and PE move in the deepest
# layers).

# %% tags=["hide-input"]
rows = []
for item in prov["probes"]:
    e = item["entry"]
    rows.append({"network": e["label"], "architecture": display_name(e["family"]), "trained for": e["objective"],
                 "weights": "random, seed " + str(e["seed"]) if e["weights"] == "random" else e["network"],
                 "probe": item["folder"], "table sha256": item["pe_table_sha256"][:12] + "…"})
display(Markdown(f"**Table 1.** The networks compared, the probe folder each was read from and the checksum of its "
                 f"score table."))
display(pb.readable(pd.DataFrame(rows)))
n_tab = 2
survey, paper = stored_results("probe", "vgg16", "survey"), stored_results("probe", "vgg16", "paper")
if settings.probe_preset == "survey" and (paper / "pe_table.csv").is_file():
    agreement = oc.survey_agreement(read_pe_table(survey / "pe_table.csv"), read_pe_table(paper / "pe_table.csv"))
    display(Markdown(f"**Table {n_tab}.** ImageNet VGG-16: Spearman ρ per layer between the scores on the survey grid "
                     f"and on the paper grid (all channels of the layer). — stored probes"))
    display(pb.readable(agreement.round(4)))
    n_tab += 1

# %% [markdown]
# ## Where PE comes from
#
# The median μ1, μ2 and PE of the **live** channels of every layer, per network (a dead channel — one that
# responds to no grating — has PE 0 by convention, not by measurement; their share is in Table 4).
# Random-initialisation seeds are thin grey lines; the shaded bands are 95 % intervals of the median PE over
# channels. Below, the differences between objectives,
# with intervals that resample channels and, for the random baseline, seeds (a seed drawn with replacement,
# then its channels), so the spread between random networks is part of every interval that uses them. A
# difference is **supported** when its interval lies above 0, **contradicted** below, **undecided** across it.

# %% tags=["hide-input"]
summary = oc.pe_by_network(result, seed=seed)
contrasts = oc.objective_contrasts(result, seed=seed)
n_fig = 0
for family in families:
    fig = op.pe_by_objective(summary, family)
    plt.show()
    n_fig += 1
    display(Markdown(f"**Figure {n_fig}.** {display_name(family)} family: median μ1, μ2 and PE per layer for the "
                     f"ImageNet, the ST-LPIPS (human judgments) and {settings.n_random} randomly initialised networks; "
                     f"bands: 95 % interval of the median PE over channels."))
display(Markdown(f"**Table {n_tab}.** Difference of median PE (live channels) between training objectives per family and layer: "
                 f"estimate, 95 % interval (channels; seeds for the random baseline), the smaller side's channel "
                 f"count, verdict of \"the first objective gives higher PE\"."))
display(pb.readable(contrasts.drop(columns="depth").round(4)))
n_tab += 1
depth_names = summary.groupby("depth", sort=False).layer.apply(lambda v: " · ".join(dict.fromkeys(v)))
dead = summary.pivot_table(index="label", columns="depth", values="dead_share", sort=False).rename(columns=depth_names)
display(Markdown(f"**Table {n_tab}.** Share of dead channels (no response to any grating of the probe), percent, per "
                 f"network and layer."))
display(pb.readable((100 * dead).round(1).rename_axis(columns=None)))
n_tab += 1

# %% [markdown]
# ## Which frequencies the channels prefer
#
# A channel's preferred frequency f̂ against the band where the Mannos–Sakrison CSF is at least half its peak
# (shaded): a network whose channels prefer frequencies inside the band earns a high μ1 there. The table gives
# the share of the top-25 % and of all live channels inside the band.
#
# Channel k of one network has nothing to do with channel k of another trained from scratch, so the top sets
# of two networks cannot be compared channel by channel; Table 6 checks that their overlap is at chance, as it
# must be (a higher overlap would signal a bookkeeping error).

# %% tags=["hide-input"]
band = oc.fhat_band_share(result)
for family in families:
    fig = op.fhat_histograms(result.tables, family, (band.band_low.iloc[0], band.band_high.iloc[0]))
    plt.show()
    n_fig += 1
    display(Markdown(f"**Figure {n_fig}.** {display_name(family)} family: distribution of f̂ per layer and training "
                     f"objective (live channels; random seeds pooled); shaded: the CSF's sensitive band "
                     f"{band.band_low.iloc[0]:.1f}–{band.band_high.iloc[0]:.1f} cpd."))
display(Markdown(f"**Table {n_tab}.** Share of live channels with f̂ in the CSF band: top-{settings.p:g} % by PE / all, per "
                 f"network and layer. "
                 f""))
band_view = band.assign(share=[f"{a:.0%} / {b:.0%}" for a, b in zip(band.top_in_band, band.all_in_band)])
display(pb.readable(band_view.pivot_table(index="label", columns="depth", values="share", aggfunc="first",
                                          sort=False).rename(columns=depth_names).rename_axis(columns=None)))
n_tab += 1
overlap = oc.top_overlap(result)
display(Markdown(f"**Table {n_tab}.** Jaccard overlap of each network's top-{settings.p:g} % with the ImageNet "
                 f"network's at the same layer, and its chance level: a check, expected at chance."))
display(pb.readable(overlap.round(3)))
n_tab += 1

# %% [markdown]
# ## Contrast sensitivity of PE strata
#
# For every measured network and layer: sensitivity (1 / threshold contrast) against frequency for the top-PE,
# bottom-PE, random (matched size; the geometric mean over draws) and all channels, each divided by its peak so
# that shapes compare; the two human CSFs (Mannos–Sakrison, solid; Barten, dashed) drawn the same way. Bands:
# 95 % intervals over channels (and draws). A sensitivity of 1 / (largest contrast) is a bound: the distance
# never reached the criterion at that frequency.

# %% tags=["hide-input"]
stats = oc.subset_statistics(result, settings.n_boot, seed)
sens, curves = oc.sensitivity_table(result, stats=stats)
unmeasured = [e["entry"]["label"] for e in prov["probes"] if e["entry"]["label"] not in sens_labels]
display(Markdown(f"Measured for this page: {', '.join(sens_labels)}"
                 + (f"; not measured (probed only): {', '.join(unmeasured)}." if unmeasured else ".")))
for lab in sens_labels:
    fig = op.sensitivity_curves_figure(curves, lab)
    plt.show()
    n_fig += 1
    obj = result.tables[result.tables.label == lab].objective.iloc[0]
    display(Markdown(f"**Figure {n_fig}.** {lab} ({obj}): contrast sensitivity of each channel subset per layer, "
                     f"peak-normalised, with the human CSFs."))
display(Markdown(f"**Table {n_tab}.** Per network, layer and subset: correlation r of log sensitivity with the log "
                 f"Mannos–Sakrison CSF over frequency (r_barten: the Barten CSF), the peak frequency (cpd) and the "
                 f"masking slope, each with its "
                 f"95 % interval."))
display(pb.readable(sens.round(3)))
n_tab += 1

# %% [markdown]
# ## Contrast masking
#
# The threshold of a target grating on a masker grating of the same frequency and orientation, in phase (a
# pedestal), against the masker's contrast: the slope of log threshold on log masker contrast, fitted over
# maskers at least twice the unmasked threshold. Human observers give about 0.6; a linear system gives 0 (no
# masking). No CSF enters this test.

# %% tags=["hide-input"]
for lab in sens_labels:
    fig = op.masking_figure(sens, lab, settings.human_masking_slope)
    plt.show()
    n_fig += 1
    display(Markdown(f"**Figure {n_fig}.** {lab}: masking slope per layer and subset with its 95 % interval; dashed: "
                     f"the human slope."))

# %% [markdown]
# ## Do high-PE channels see more like humans?
#
# Five tests per network and layer. **CSF shape**: r(top) − r(bottom) and r(top) − r(random) (circular: the
# ranking used the CSF), and r(top) − r(bottom) with both subsets ranked by PE under a flat CSF (not circular).
# **Masking**: |slope(bottom) − 0.6| − |slope(top) − 0.6|, and the same against random — above 0 when the top-PE
# channels mask more like humans. Shaded: the side the claim predicts.

# %% tags=["hide-input"]
tests = oc.sensitivity_contrasts(result, stats=stats)
for lab in sens_labels:
    fig = op.tests_figure(tests, lab)
    plt.show()
    n_fig += 1
    display(Markdown(f"**Figure {n_fig}.** {lab}: each test per layer, estimate and 95 % interval (channels; draws "
                     f"for random)."))
display(Markdown(f"**Table {n_tab}.** Every test with its verdict."))
display(pb.readable(tests.round(4)))
n_tab += 1

# %% [markdown]
# ## Conclusion

# %% tags=["hide-input"]
found = oc.verdicts(contrasts, tests)
display(Markdown("**Where PE comes from** (ImageNet and human-judgment training against random initialisation, "
                 "every layer of every family): " + overall_reading(found[oc.CLAIM_ORIGIN])))
human = found[oc.CLAIM_HUMANLIKE]
display(Markdown("**Whether high-PE channels see like humans** (ImageNet VGG-16): masking, which no CSF enters — "
                 + overall_reading([v for v in human if v.measure == "slope"])
                 + " CSF shape, non-circular ranking — "
                 + overall_reading([v for v in human if v.measure == "r" and not v.note])
                 + " CSF shape, circular ranking — "
                 + overall_reading([v for v in human if v.measure == "r" and v.note])))
display(Markdown(oc.reading(contrasts, tests)))

# %% [markdown]
# **Rerun this chapter.** The stored tier is one command; any other preset computes live (the probes of a
# missing network too):
#
# ```
# pecore origins --preset book --out stored/origins/book --probe-root stored/probe
# papermill notebooks/09_origins.ipynb out.ipynb -p preset quick
# pecore probe --net stlpips-vgg16 --preset survey --out results/probe-st
# pecore probe --net vgg16 --weights random --weights-seed 3 --preset survey --out results/probe-random3
# ```

# %% tags=["remove-cell"]
# For the claims page: this chapter's verdicts, recorded beside the notebook.
from pecore.claims import record_finding
for claim, vs in found.items():
    _ = record_finding(claim, vs, {**prov, "network": "vgg16"}, chapter="09_origins", grid=grid_words,
                       top_set={"network": "vgg16", "layers": list(settings.layers), "p": settings.p}
                       if claim == oc.CLAIM_HUMANLIKE else None)
