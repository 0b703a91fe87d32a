# %% [markdown]
# # What high-PE and low-PE channels keep: feature inversion
#
# The paper reports that images rebuilt from the features of **high-PE** channels keep the structure and
# semantic content of a photograph, while images rebuilt from **low-PE** channels keep its texture and
# colour {cite}`tariq2020why`. We test this by feature inversion {cite}`mahendran2015inverting`: starting
# from seeded noise, find an image whose features on a channel subset $M$ of one layer match those of the
# photograph,
#
# $$\min_x \; \frac{\lVert \Phi_M(x) - \Phi_M(x_0) \rVert^2}{\lVert \Phi_M(x_0) \rVert^2} + \lambda_{TV}\, \mathrm{TV}_\beta(x),$$
#
# with Adam and a learning rate that decays along a half cosine, pixels kept in [0, 1]. The algorithm, its
# defaults and what is our choice rather than the paper's are on the Method page ({ref}`feature-inversion`).
# The photographs are colour photographs of Set14 {cite}`zeyde2010set14` and Set5 {cite}`bevilacqua2012set5`
# (centre crops).
#
# **The design separates the channels from the budget.** Each layer is inverted from its top-25 % and
# bottom-25 % channels by PE, from **three random 25 % subsets** (what any subset of that size keeps) and from
# all channels. Every subset is inverted from **three noise starts (inits)** per photograph, and the whole
# design is run twice: **with the total-variation prior and without it** ($\lambda_{TV} = 0$), so a difference
# that only the prior creates shows up. Every subset, init and prior gets the same budget and the same noise.
# Every interval below resamples photographs, inits and random draws independently, so it includes the
# spread of each. A verdict is called **robust** only when it is the same under both priors and every init,
# on its own, lies on the same side.
#
# What each reconstruction keeps is **measured** (each measure is defined once, in `pecore.measures`): PSNR
# and SSIM {cite}`wang2004ssim` to the original; the **low-pass SSIM** of the luminance after a Gaussian blur
# of σ = side/40 and, for layout at a coarser scale, after σ = side/16; the **edge correlation** of the Sobel
# gradient magnitudes (texture in place also earns it); two **colour differences**, CIEDE2000 ΔE
# {cite}`sharma2005ciede2000` per pixel and after a blur of σ = side/16 (the colour of regions; lower = closer);
# and the **luma correlation within bands of spatial frequency** (1–4, 4–8, 8–16 and 16–32 cycles per image),
# which says what is kept at each scale on its own.

# %% tags=["parameters"]
# Parameters (papermill injects new values after this cell)
network = "vgg16"                 # vgg16 or alexnet
preset = "book"                   # book (stored: 64 px, 10 photographs, 3 inits, both priors), quick (minutes), paper (GPU), ci
device = "auto"
seed = 0                          # inits seed, seed+1, …; random subsets drawn with seed, seed+1, …
use_stored = True                 # use committed results (probed, reconstructions) when they match
layers = None                     # layers inverted (one at a time); None: the preset's (book: relu2_2, relu3_3)
p = 25                            # subset size, percent of the layer's channels
subsets = ["top", "bottom", "random", "all"]

# %% tags=["hide-input"]
# %matplotlib inline
import matplotlib.pyplot as plt
from IPython.display import HTML, Markdown, display

import pecore.notebook as pb
from pecore.experiment import overall_reading, verdict_table
from pecore.reconstruction import plots as rplots
from pecore.reconstruction.conclusions import (band_table, conclusions, convergence_summary, init_spread,
                                               primary_reading, robustness)
from pecore.reconstruction.experiment import chapter_result
from pecore.reconstruction.settings import PRESETS as RECONSTRUCTION_PRESETS
from pecore.selection import SUBSETS

params = pb.check_parameters(
    dict(network=network, preset=preset, device=device, seed=seed, use_stored=use_stored, layers=layers, p=p,
         subsets=subsets),
    {"preset": pb.Param((str,), lambda: list(RECONSTRUCTION_PRESETS)),
     "subsets": pb.Param((list, tuple), check=lambda v: len(v) > 0 and all(s in SUBSETS for s in v),
                         what=f"a non-empty list from {{{', '.join(SUBSETS)}}}")})
result = chapter_result(network, preset, layers=layers, p=p, subsets=subsets, seed=seed, use_stored=use_stored,
                        device=device)
prov = result.provenance
settings = prov["parameters"]
layers = settings["layers"]
priors = result.priors
main = priors[0]
n_inits, n_draws = result.table.seed.nunique(), settings["n_random_draws"]
label = pb.figure_label(prov) + f" · PE from the {prov.get('scores', 'stored paper-preset probe')}"
grid = (f"{settings['image_size']} × {settings['image_size']} px, {len(result.image_names)} photographs × {n_inits} "
        f"inits, {n_draws} random draws, priors λ_TV = {', '.join(f'{v:g}' for v in priors)}, "
        f"{settings['steps']} Adam steps, layers {', '.join(layers)}; PE from the "
        f"{prov.get('scores', 'stored paper-preset probe')}")
display(HTML(pb.page_summary("Feature inversions from the top-PE, bottom-PE, random and all channels of each layer, "
                             "under two priors and several inits; what each keeps, and the paper's claim tested "
                             "on them.", prov, grid=grid)))
display(HTML(pb.provenance_details(params, prov)))
display(HTML(pb.rerun_box("04_reconstruction", params)))

# %% [markdown]
# ## The reconstructions
#
# One figure per layer: the top row is the original, each row below the reconstruction from one channel
# subset, with the total-variation prior (first init; first random draw). Under each panel: its low-pass
# SSIM (↑, layout) and mean colour difference ΔE (↓).

# %% tags=["hide-input"]
n_fig = 0
names = result.image_names
shown = list(range(min(5, len(names))))  # five columns keep every panel legible; the tables hold every photograph
for layer in layers:
    fig = rplots.reconstruction_grid(result, layer, subsets, images=shown, tv_weight=main)
    plt.show()
    n_fig += 1
    sizes = ", ".join(f"{s}: {n}" for s, n in result.table[result.table.layer == layer]
                      .drop_duplicates("subset").set_index("subset").n_channels.items())
    display(Markdown(f"**Figure {n_fig}.** {layer}: {', '.join(names[i] for i in shown)} rebuilt from each channel subset "
                     f"(channels: {sizes}); {settings['image_size']} × {settings['image_size']} px, "
                     f"{settings['steps']} Adam steps, {rplots.prior_label(main)}, first init"
                     + (f"; {len(shown)} of the {len(names)} photographs, all of them in the tables." if len(shown) < len(names) else ".")))

# %% [markdown]
# ## What each subset keeps
#
# Mean over photographs × inits (× random draws) with a 95 % interval that resamples each of them. With few
# photographs the intervals are wide: overlapping intervals mean "no difference shown", not "no difference".

# %% tags=["hide-input"]
summary = result.summary()
fig = rplots.measure_panels(summary[summary.tv_weight == main])
plt.show()
n_fig += 1
display(Markdown(f"**Figure {n_fig}.** Each measure per layer and subset, {rplots.prior_label(main)}: mean and 95 % "
                 f"interval over {len(names)} photographs × {n_inits} inits (× {n_draws} draws for random). Arrows: "
                 f"which direction is better."))
n_tab = 1
for tv in priors:
    display(Markdown(f"**Table {n_tab}.** The structure and colour measures per layer and subset, "
                     f"{rplots.prior_label(tv)}: mean [95 % interval]."))
    display(rplots.summary_table(summary[summary.tv_weight == tv].drop(columns="tv_weight"),
                                 ["ssim_lowpass", "ssim_lowpass16", "structure", "colour_de2000_blur"]))
    n_tab += 1

# %% [markdown]
# ## What is kept at each scale
#
# The luma of a reconstruction and of its photograph compared within one band of spatial frequencies at a
# time: top − bottom of that correlation, with its 95 % interval. Above zero, the top-PE channels keep more of
# that band; below zero, the bottom-PE channels do. The paper names no band, so this describes what the
# subsets keep rather than testing the claim.

# %% tags=["hide-input"]
bands = band_table(result)
fig = rplots.band_figure(bands)
plt.show()
n_fig += 1
display(Markdown(f"**Figure {n_fig}.** Top − bottom luma correlation per band of spatial frequency (cycles per image), "
                 f"per layer; filled circles: {rplots.prior_label(priors[0])}"
                 + (f", open squares: {rplots.prior_label(priors[1])}" if len(priors) > 1 else "")
                 + f". 95 % intervals over photographs × inits."))

# %% [markdown]
# ## Did the optimisation converge?
#
# The objective per Adam step (median over photographs and inits), and how many runs met the convergence
# criterion: an objective that changed by less than 1 % over the last 10 % of steps. The learning rate decays
# to 1/100 of its start, so a small final change also reflects the smaller steps: the curves show whether the
# objective had levelled off before the decay.

# %% tags=["hide-input"]
fig = rplots.loss_curves(result)
plt.show()
n_fig += 1
display(Markdown(f"**Figure {n_fig}.** Objective against Adam step per layer and subset (median over photographs "
                 f"and inits; log scale); solid: {rplots.prior_label(priors[0])}"
                 + (f", dashed: {rplots.prior_label(priors[1])}" if len(priors) > 1 else "") + f"."))
display(Markdown(f"**Table {n_tab}.** Runs that met the convergence criterion, per layer and prior."))
display(rplots.convergence_table(convergence_summary(result)))
n_tab += 1

# %% [markdown]
# ## Top-PE against bottom-PE
#
# The same photograph and init, rebuilt from the top and from the bottom subset: the paired difference
# (top − bottom) per measure with its 95 % interval. Each part of the claim is judged from its interval:
# **supported** when it lies on the predicted side of zero, **contradicted** when it lies on the other side,
# **undecided** when it includes zero. The verdicts are read under the total-variation prior; the second table
# repeats them without the prior and checks every init on its own.

# %% tags=["hide-input"]
verdicts = conclusions(result)
display(Markdown(f"**Table {n_tab}.** Each part of the claim per layer, {rplots.prior_label(main)}: the paired "
                 f"difference top − bottom, its 95 % interval over photographs × inits, the verdict, and whether the "
                 f"verdict is robust (Table {n_tab + 1})."))
display(pb.readable(rplots.verdicts_table(verdict_table(verdicts))))
n_tab += 1
display(Markdown(f"**Table {n_tab}.** Robustness: the verdict of each test under each prior, and whether the mean "
                 f"difference of every init on its own lies on the verdict's side."))
display(pb.readable(rplots.robustness_display(robustness(result))))
n_tab += 1
display(Markdown(f"**Table {n_tab}.** Between-init spread: the standard deviation of a measure over the "
                 f"{n_inits} inits of one photograph (and draw), averaged over photographs."))
display(rplots.init_spread_table(init_spread(result)))
n_tab += 1

# %% [markdown]
# ## Conclusion

# %% tags=["hide-input"]
display(Markdown(primary_reading(verdicts)))
display(Markdown(f"**All tests** (Table {n_tab - 3}), each taken alone: {overall_reading(verdicts)} A colour test "
                 "read alone can agree with the paper where its layer's structure tests contradict it; the layer "
                 "readings below say what each layer shows."))
display(Markdown("\n\n".join(rplots.layer_readings(verdicts))))
display(Markdown(rplots.caveats(result)))

# %% [markdown]
# **What the CPU tier cuts.** The stored `book` tier is sized for a 2-core CPU (run as two calls of five
# photographs, joined by `pecore reconstruction-combine`; the page box gives the wall time): 64 × 64 pixel crops,
# ten photographs, relu2_2 and relu3_3 only, 450 steps. The `paper` preset runs the same design at 224 px with 2,000 steps, five
# random draws and relu1_2 as well, on a GPU (`make paper`).
#
# Rerun the chapter with other parameters with papermill, or the whole experiment from the command line
# (the book's stored run is `pecore reconstruction --preset book`):
#
# ```
# papermill notebooks/04_reconstruction.ipynb out.ipynb -p preset quick -p layers '["relu2_2"]'
# pecore reconstruction --preset book --out results/reconstruction-book
# pecore reconstruct photo.png --layer relu2_2 --subset top --out top.png
# ```

# %% tags=["remove-cell"]
# For the claims page: this chapter's verdicts, recorded beside the notebook.
from pecore.claims import record_finding
_ = record_finding("reconstruction", verdicts, prov, chapter="04_reconstruction", grid=grid,
                   top_set={"network": prov["network"], "layers": prov["parameters"]["layers"],
                            "p": prov["parameters"]["p"]})
