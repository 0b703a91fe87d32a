# %% [markdown]
# # What the paper says, what we measure
#
# One row per claim of the paper {cite}`tariq2020why`: the claim, what the paper reports, what this book
# measured for it, and a verdict. The measured numbers are not typed on this page: every experiment chapter
# ends by recording the verdicts its own page shows (each from a 95 % interval), with the network, preset and
# whether it read stored results, and this page reads those records. The chapters are
# [frequency](01_frequency.ipynb), [orientation](02_orientation.ipynb), [feature inversion](04_reconstruction.ipynb),
# [image quality](05_iqa.ipynb) and [super-resolution](06_sr.ipynb). Three rows go beyond the paper: whether
# LPIPS's human-trained weights favour high-PE channels (tested in the [PE chapter](03_pe.ipynb), which defines the
# score the other claims rest on) and two on [where PE comes from](09_origins.ipynb).

# %% tags=["parameters"]
# Parameters (papermill injects new values after this cell)
preset = "quick"   # not used by this page: it shows what the chapters executed with it recorded
device = "auto"
seed = 0

# %% tags=["hide-input"]
# %matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import HTML, Markdown, display

import pecore.notebook as pb
from pecore import claims

params = pb.check_parameters(dict(preset=preset, device=device, seed=seed))
findings = claims.load_findings()
survival = pb.top_set_survival_lines(claims.top_sets(findings))
table = claims.claims_table(findings, survival=survival)
ran = sorted(set(findings.chapter))
display(HTML(pb.provenance_details(params)))
display(HTML(pb.rerun_box("07_claims", params)))
display(Markdown("Findings read from the chapters executed with this page: "
                 + (", ".join(claims.chapter_title(ch) for ch in ran) if ran else "none")
                 + ". A chapter that was not executed leaves its row marked **not run**."))

# %% [markdown]
# ## The claims
#
# How a row's verdict is reached: every test of the claim is judged from its 95 % interval, as on the
# chapter's page — **supported** when the interval lies on the side the claim predicts, **contradicted** when it
# lies on the other side, **undecided** when it includes the reference value, **too few data** when it rests on
# fewer independent units than the book trusts (the thresholds are on the Method page). The row is **supported** or **contradicted** only when every test is,
# **undecided** when no test is either, **supported in part** when some tests are supported and none
# contradicted, **not supported** when some are contradicted and none supported, and **mixed** when some are
# supported and some contradicted; the first line of a row counts the tests. Where a claim has a **primary
# measure**, named before the stored runs were made (low-pass SSIM for feature inversion, LPIPS-alex for
# super-resolution), only its tests decide the row; the others are reported beside it. A row is marked
# **provisional** when a deciding test rests on runs that had not converged, **single draw** when it compares
# with one random draw of channels, and **not robust** when a deciding test did not hold under every control of its
# chapter (prior, init). Only the tests named in a row are spelled out; all of them are counted.
#
# Claims about the top-PE channels rest on one ranking, and the ranking depends on choices the paper leaves open
# (the PE chapter scores ten of them). The last line of such a row says how much of its top set survives: the share
# of the top-p % channels of its layers that stay in the top p % under each other scoring, as the median and range
# over the nine other scorings, against the share two random sets would keep.

# %% tags=["hide-input"]
display(Markdown("**Table 1.** The paper's claims against this book's measurements. Per claim: the count of verdicts "
                 "over all its tests, then the tests spelled out — one test as estimate [95 % interval], n = the units "
                 "the interval resamples (channels, scenes, image pairs, images); a group of like tests (one measure "
                 "over several layers or subset sizes) as the count of each verdict — and the verdict with the "
                 "network, preset and source of the results (the numbered notes under the table give grids and "
                 "budgets). The chapter links lead to the sections the numbers come from; the figures below show every "
                 "test with its interval."))
display(HTML(claims.claims_html(table)))

# %% [markdown]
# ## How claim 1 is measured
#
# The paper shows the channels of a layer differing in μ1 and μ2 without a number to test. Here the spread is
# made scale-free and judged against a stated bar:

# %% tags=["hide-input"]
display(Markdown(
    f"the 10–90 % range of the score over the live channels of the layer divided by its median, "
    f"(q90 − q10) / median, with a 95 % bootstrap interval over channels. The claim is **supported** when the "
    f"interval lies above **{claims.SPREAD_THRESHOLD:g}** — the channel at the 90th percentile scoring at least "
    f"{claims.SPREAD_THRESHOLD * 100:g} % of the median more than the one at the 10th, a deliberately low bar — and "
    f"contradicted when it lies below. The layer is the chapters' `layer` parameter (relu2_2 for VGG-16)."))

# %% [markdown]
# ## The tests behind each row
#
# Every recorded test of a claim, one panel per measure: the estimate and its 95 % interval, coloured by
# verdict; the dashed line is the value the verdict is judged against (0 for a difference or a correlation,
# the bar above for the spread). Each measure keeps its chapter's sign convention and predicted side.

# %% tags=["hide-input"]
n_fig = 0
for i, c in enumerate(claims.CLAIMS, start=1):
    fig = claims.plot_claim(findings, c.key)
    if fig is None:
        display(Markdown(f"Claim {i} (the paper): *{c.text}*: no test recorded (not run)."))
        continue
    plt.show()
    n_fig += 1
    labels = "; ".join(dict.fromkeys(findings[findings.claim_id == c.key].label))
    display(Markdown(f"**Figure {n_fig}.** Claim {i} (the paper): “{c.text}” — every recorded test of it, with its "
                     f"95 % interval, coloured by the verdict of that interval. — {labels}"))

# %% [markdown]
# ## Every recorded test

# %% tags=["hide-input"]
shown = claims.findings_table(findings)
display(HTML(f"<details><summary>All {len(findings)} recorded tests</summary>"
             f"<p><b>Table 2.</b> Every test the chapters recorded: the claim it tests (numbered as in Table 1), "
             f"the chapter, what was compared where, the estimate with its 95 % interval, n and the verdict.</p>"
             f"{shown.to_html(index=False)}</details>"))

# %% [markdown]
# ## What the table cannot say
#
# A verdict holds for the settings in its row: the network, the preset (small settings make wide intervals)
# and the choices we made in reconstructing PE (Method page, {ref}`what-is-reconstructed`; the
# [PE chapter](03_pe.ipynb) measures how much the ranking depends on them). "Undecided" is not "no effect": it
# means these data do not separate the arms. The rows are read from the chapters executed into the same folder as
# this page; rerunning a chapter with other parameters replaces its record, and rerunning this page then shows
# the new numbers.
