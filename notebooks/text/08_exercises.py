# %% [markdown]
# # Exercises
#
# Seven exercises for a class on the method of {cite}`tariq2020why`, from reading a stored probe (★) to
# probing a network of your own and inverting features (★★★). Each one says what to do, what to look at
# and what to answer; its worked solution — code, figures, tables and its "Result:" line — is folded under the
# exercise (click **Show code cell content** to open it), and a short answer in prose is folded under
# **Answer**. Try the exercise before opening either. For a class, download the
# {download}`student notebook <../downloads/08_exercises_student.ipynb>` (no solutions, no outputs) and the
# {download}`solutions notebook <../downloads/08_exercises_solutions.ipynb>`; both open with `make lab`. The
# exercises use VGG-16, as the chapters do.
#
# Everything runs on a laptop CPU in about a minute or two, on photographs that ship with scikit-image
# {cite}`vanderwalt2014skimage` (no dataset needed). The solutions that read the **stored
# paper-grid probe** (exercises 1, 2, 7, and the channel rankings of 5 and 6) rescore its sweeps
# ({ref}`rescoring`): no forward pass, the same numbers on every run. What the exercises probe, measure or
# invert themselves (3–6) runs on the **page's preset**, a small grid and budget, so those numbers change with it. The scores μ1, μ2, PE, f̂ and θ̂ are defined on the Method page
# ({ref}`method-scores`).
#
# | no. | exercise | difficulty |
# | --- | --- | --- |
# | 1 | One channel, two orientation scores | ★ |
# | 2 | Another contrast sensitivity function | ★ |
# | 3 | Viewing distance: ppd and the preferred frequency | ★★ |
# | 4 | Probing a network you built | ★★ |
# | 5 | A distance from a channel subset | ★★ |
# | 6 | Inverting the features of top- and bottom-PE channels | ★★★ |
# | 7 | How sure is a ranking agreement? (optional) | ★★ |

# %% tags=["parameters"]
# Parameters (papermill injects new values after this cell)
preset = "quick"      # grid of the probes the exercises run (3, 4) and budget of exercises 5 and 6
network = "vgg16"     # the network whose stored paper-grid probe the exercises read (vgg16, as the chapters, or alexnet)
layer = "relu2_2"     # the layer exercises 1, 6 and 7 look at (alexnet: e.g. "relu2")
device = "auto"
seed = 0
p = 25                # size of the top / bottom channel sets, percent

# %% tags=["hide-input"]
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import HTML, Markdown, display

import pecore
import pecore.notebook as pb
from pecore.experiment import display_name
from pecore.imageio import BUNDLED_PHOTOGRAPHS, bundled_photograph, centre_square

params = pb.check_parameters(dict(preset=preset, network=network, layer=layer, device=device, seed=seed, p=p))
np.random.seed(seed)
torch.manual_seed(seed)
dev = str(pecore.resolve_device(device))

# the stored paper-grid probe (exercises 1, 2, 7 rescore its sweeps; no forward pass)
folder = pb.stored_probe_dir(network)
stored = pb.chapter_probe(network, preset, device=device)
if layer not in stored.table.layer.unique():
    raise pecore.UnknownNameError(f"notebook parameter layer: {layer!r} was not probed; probed: {sorted(stored.table.layer.unique())}")
label_stored = pb.figure_label(stored.provenance)

# budgets of the exercises that measure or invert images, per preset
# (exercise 6 at quick is the reconstruction chapter's stored design for one photograph: 64 px, 450 steps)
BUDGET = {"ci": dict(image=96, invert_size=48, invert_steps=40, n_boot=200),
          "quick": dict(image=160, invert_size=64, invert_steps=450, n_boot=1000),
          "paper": dict(image=256, invert_size=128, invert_steps=1000, n_boot=2000)}[preset]


def photograph(name: str, size: int) -> torch.Tensor:
    """A photograph that ships with scikit-image, resized and centre-cropped to size × size, as a (1, 3, H, W) batch."""
    return centre_square(bundled_photograph(name, size=size))[None]


display(HTML(pb.page_summary(
    "Graded exercises with worked solutions: rescoring a stored probe, probing your own network, viewing "
    "distance, channel-subset distances, feature inversion and bootstrap intervals.",
    stored.provenance, grid=pb.grid_text(stored.provenance))))
display(HTML(pb.provenance_details(params, stored.provenance)))
display(HTML(pb.rerun_box("08_exercises", params)))

# %% [markdown]
# ## Exercise 1 — One channel, two orientation scores ★
#
# μ2 measures how sharply a channel's mean activation a(θ) peaks over the grating orientation θ, at the
# channel's own frequency f̂. pecore's default, our reconstruction of the paper's rule, is the **peak ratio** $\mu_2 = 1 - \operatorname{mean}_\theta a / \max_\theta a$; the
# variant `"mu2-circular"` uses the length of the mean resultant on the doubled-angle circle,
# $\mu_2 = \lvert \sum_\theta a\, e^{2i\theta} \rvert / \sum_\theta a$ (θ and θ + 180° are the same grating).
#
# 1. Score the stored probe both ways: `pecore.rescore(folder)` and `pecore.rescore(folder, "mu2-circular")`
#    (`folder = pecore.notebook.stored_probe_dir(network)`).
# 2. In `layer`, find the live channel whose μ2 **rank** changes most between the two rules, in each direction.
#    Read them with `pecore.channel_profile(folder, layer, ch)` and `pecore.channel_profile(..., config="mu2-circular")`
#    and draw their tuning curves `profile.orientation_at()`.
# 3. Per layer, compute Spearman ρ (`pecore.compare.spearman`) between the two μ2 columns and between the two PE columns.
#
# **Question.** What shape of tuning curve does the peak ratio call selective but the circular rule does not,
# and the other way round? Does the PE ranking of a layer survive the change of rule?

# %% tags=["hide-cell", "solution"]
from pecore.compare import spearman

default = pecore.rescore(folder)                    # pecore's default scoring: μ2 = 1 − mean/max
circular = pecore.rescore(folder, "mu2-circular")   # μ2 = |Σ a·e^{2iθ}| / Σ a

d, c = default.layer(layer), circular.layer(layer)  # rows by channel
live = ~d.dead.to_numpy(bool)
shift = (d.mu2.rank(ascending=False) - c.mu2.rank(ascending=False))[live]  # < 0: peak ratio ranks it higher
picks = {"peak ratio ranks it higher": int(shift.idxmin()), "circular ranks it higher": int(shift.idxmax())}

fig, axes = plt.subplots(1, 2, figsize=(6.8, 3.3), sharey=True)
for ax, (what, ch) in zip(axes, picks.items()):
    a = pecore.channel_profile(folder, layer, ch)
    b = pecore.channel_profile(folder, layer, ch, config="mu2-circular")
    curve = a.orientation_at()
    ax.plot(a.orientations, curve / curve.max(), "-o", ms=3)
    ax.axhline(curve.mean() / curve.max(), color="0.5", ls=":", label="mean / max")
    ax.set_title(f"ch {ch}: peak ratio {a.mu2:.2f} (rank {int(d.mu2.rank(ascending=False)[ch])})\n"
                 f"circular {b.mu2:.2f} (rank {int(c.mu2.rank(ascending=False)[ch])})", fontsize=10)
    ax.set_xticks([-90, -45, 0, 45, 90])
    ax.set_xlabel("orientation θ (degrees)")
    ax.legend(fontsize=9, frameon=False)
axes[0].set_ylabel("activation / max")
fig.tight_layout()
plt.show()
display(Markdown(f"**Figure 1.** The two {layer} channels whose μ2 rank moves most between the peak-ratio and the "
                 f"circular rule: mean activation / max against grating orientation at each channel's f̂. Left: the "
                 f"peak ratio ranks it higher; right: the circular rule does. Titles: μ2 under each rule and its rank "
                 f"among {live.sum()} live channels (1 = most selective). — {label_stored}"))

rows = []
for name in dict.fromkeys(default.table.layer):
    x, y = default.layer(name), circular.layer(name)
    rows.append({"layer": name, "ρ of μ2": spearman(x.mu2.to_numpy(), y.mu2.to_numpy()),
                 "ρ of PE": spearman(x.pe.to_numpy(), y.pe.to_numpy())})
agreement = pd.DataFrame(rows).set_index("layer")
display(Markdown(f"**Table 1.** Spearman ρ between the peak-ratio and the circular scores, over all channels of each "
                 f"layer. — {label_stored}"))
display(agreement.round(3))
rho_pe = agreement["ρ of PE"]
print(f"Result: the PE rankings of the two rules agree clearly but not perfectly (Table 1): Spearman ρ of PE from "
      f"{rho_pe.min():.3f} in {rho_pe.idxmin()} to {rho_pe.max():.3f} in {rho_pe.idxmax()}")

# %% [markdown]
# ```{admonition} Answer
# :class: dropdown
#
# The peak ratio only compares the maximum with the mean, so a curve with **one narrow spike** and a
# quiet floor scores high even when it has **a second lobe** elsewhere; on the doubled-angle circle two
# lobes at different orientations point different ways and partly cancel, so the circular rule calls the
# same channel unselective. The other way round, a **single broad lobe** has a mean close to its
# maximum (low peak ratio) but a resultant that points one way (high circular μ2). Table 1 answers the
# second part: the rankings agree clearly (ρ well above 0) but not perfectly; which channels count as "orientation
# selective" is one of the method's reconstructed choices, and the robustness section of the [PE chapter](03_pe.ipynb)
# measures how much it matters.
# ```

# %% [markdown]
# ## Exercise 2 — Another contrast sensitivity function ★
#
# μ1 weights a channel's sensitivity to frequency by a contrast sensitivity function (CSF) S(f). The default
# is Mannos–Sakrison; Barten's model (`pecore.barten`, at 100 cd/m² and a 10° field) peaks at a lower frequency.
#
# 1. Draw both CSFs (`pecore.mannos_sakrison(f)`, `pecore.barten(f)`) over the probed frequencies
#    (`result.frequency.frequencies`), each divided by its maximum.
# 2. Rescore the stored probe with `pecore.rescore(folder, "barten-csf")` (or `pecore.make_config(csf="barten")`).
# 3. Per layer, compute the Jaccard overlap of the top-p % PE sets (`pecore.compare.top_jaccard`) and Spearman ρ of PE.
#
# **Question.** Which layer's top set changes most? Relate it to where that layer's preferred frequencies f̂ lie.

# %% tags=["hide-cell", "solution"]
from pecore.compare import spearman, top_jaccard

default = pecore.rescore(folder)
barten = pecore.rescore(folder, "barten-csf")
f = default.frequency.frequencies

fig, ax = plt.subplots(figsize=(6.5, 3.3))
for name, s in (("Mannos–Sakrison (default)", pecore.mannos_sakrison(f)), ("Barten", pecore.barten(f))):
    ax.plot(f, s / s.max(), label=name)
live = default.table[~default.table.dead.astype(bool)]
for i, (name, g) in enumerate(live.groupby("layer", sort=False)):
    ax.axvline(g.fhat.median(), color=f"C{i + 2}", ls=":", label=f"median $\\hat{{f}}$ of {name}")
ax.set_xscale("log")
ax.set_xticks([0.5, 1, 2, 5, 10, 20], ["0.5", "1", "2", "5", "10", "20"])
ax.set_xlabel("spatial frequency (cycles per degree)")
ax.set_ylabel("CSF / max")
ax.legend(fontsize=9, frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
fig.tight_layout()
plt.show()
display(Markdown(f"**Figure 2.** The two CSFs over the probed frequencies, each divided by its maximum, with each "
                 f"layer's median f̂ under the default scoring. — {label_stored}"))

rows = []
for name in dict.fromkeys(default.table.layer):
    x, y = default.layer(name), barten.layer(name)
    rows.append({"layer": name, f"Jaccard of top {p} %": top_jaccard(x.pe.to_numpy(), y.pe.to_numpy(), p),
                 "ρ of PE": spearman(x.pe.to_numpy(), y.pe.to_numpy()),
                 "median f̂ (cpd)": float(x.fhat[~x.dead.astype(bool)].median())})
csf_change = pd.DataFrame(rows).set_index("layer")
display(Markdown(f"**Table 2.** Per layer: overlap of the top-{p} % PE sets and Spearman ρ of PE between the "
                 f"Mannos–Sakrison and the Barten CSF. — {label_stored}"))
display(csf_change.round(3))
jac, fmed = csf_change[f"Jaccard of top {p} %"], csf_change["median f̂ (cpd)"]
print(f"Result: the top-{p} % PE set changes most in {jac.idxmin()} (Jaccard {jac.min():.3f}) and least in "
      f"{jac.idxmax()} ({jac.max():.3f}); the highest median preferred frequency is {fmed.max():.2f} cpd, in "
      f"{fmed.idxmax()} (Table 2)")

# %% [markdown]
# ```{admonition} Answer
# :class: dropdown
#
# The two CSFs differ most above a few cycles per degree: Barten's falls off from a lower peak, so it
# gives **less weight to high frequencies** than Mannos–Sakrison, so the channels that respond to high
# frequencies have their μ1, and so their PE, reweighted most. Compare, in Table 2, each layer's median f̂
# with how much its top set changes: the layers whose channels prefer higher frequencies tend to change more, but
# not in step — a layer's median f̂ is only part of the answer, since what moves a channel in the ranking is
# where its whole curve lies against the two CSFs. Read the Jaccard overlap |A ∩ B| / |A ∪ B| with care: for two
# top sets of k channels sharing s, it is s / (2k − s), so an overlap of about 0.45 still means that about 60 % of
# the top set survives the change of CSF.
# ```

# %% [markdown]
# ## Exercise 3 — Viewing distance: ppd and the preferred frequency ★★
#
# The gratings are specified in cycles per degree (cpd) of visual angle, and ppd (pixels per degree,
# 60 by default) says how many pixels one degree covers: a grating of f cpd has f / ppd cycles per
# **pixel**. The network only ever sees pixels.
#
# 1. Load the network (`pecore.load_network(network, device=device)`) and probe it twice with
#    `pecore.score_network(net, pecore.get_preset(preset, ...), progress=False)`: once at the preset's ppd,
#    once at twice that ppd with the frequency range doubled too (`f_min`, `f_max`), so that both probes
#    show the same gratings in pixels (the Nyquist limit is ppd / 2).
# 2. Compare each channel's f̂ in the two probes, and the median of the per-channel ratio.
# 3. Rescore both with `"fhat-peak-activation"` (f̂ = the frequency of the largest activation) and compare again.
#
# **Question.** Why does f̂ in cpd scale with ppd? Under the default rule, why is not every channel's ratio exactly the ppd ratio?

# %% tags=["hide-cell", "solution"]
from pecore import plots
from pecore.figures import log_axis_ticks

net = pecore.load_network(network, device=device)
grid = pecore.get_preset(preset).probe
near = pecore.get_preset(preset)                                   # e.g. 60 ppd, 0.5–30 cpd
far = pecore.get_preset(preset, ppd=2 * grid.ppd, f_min=2 * grid.f_min, f_max=2 * grid.f_max)  # twice as far away
probes = {g.probe.ppd: pecore.score_network(net, g, device=device, progress=False) for g in (near, far)}
(ppd1, r1), (ppd2, r2) = probes.items()

t1, t2 = r1.table, r2.table
live = ~(t1.dead.to_numpy(bool) | t2.dead.to_numpy(bool))
ratio = t2.fhat.to_numpy()[live] / t1.fhat.to_numpy()[live]
peak1, peak2 = (pecore.rescore(r, "fhat-peak-activation").table for r in (r1, r2))
ratio_peak = peak2.fhat.to_numpy()[live] / peak1.fhat.to_numpy()[live]

fig, axes = plt.subplots(1, 2, figsize=(6.8, 3.6), sharex=True, sharey=True)
layers = list(dict.fromkeys(t1.layer))
for ax, (a, b, what) in zip(axes, ((t1, t2, "default rule (CSF-weighted)"), (peak1, peak2, "peak-activation rule"))):
    for i, name in enumerate(layers):
        m = (a.layer == name).to_numpy() & live
        ax.scatter(a.fhat[m], b.fhat[m], s=10, alpha=0.6, label=name, color=plots.layer_color(name, layers))
    lim = np.array([grid.f_min, 2 * grid.f_max])
    ax.plot(lim, lim * ppd2 / ppd1, "k--", lw=1, label=f"$\\hat{{f}}$ × {ppd2 / ppd1:g}")
    for axis in ("x", "y"):  # round values, not 10⁰ 10¹
        log_axis_ticks(ax, lim * np.array([1, ppd2 / ppd1]), axis, candidates=(0.5, 1, 2, 5, 10, 20, 50, 100))
    ax.set_xlabel(f"$\\hat{{f}}$ at {ppd1:g} ppd (cpd)")
    ax.set_title(what, fontsize=10)
axes[0].set_ylabel(f"$\\hat{{f}}$ at {ppd2:g} ppd (cpd)")
axes[1].legend(fontsize=9, frameon=False, loc="lower right", borderaxespad=0.2)  # below the line: empty
fig.tight_layout()
plt.show()
display(Markdown(f"**Figure 3.** Each live channel's preferred frequency f̂ probed at {ppd1:g} and at {ppd2:g} pixels per "
                 f"degree, with the frequency grid scaled so both probes show the same gratings in pixels. "
                 f"— {pb.figure_label(r1.provenance)}"))
print(f"Result: ppd {ppd1:g} -> {ppd2:g} (ratio {ppd2 / ppd1:.3f}); median per-channel ratio of preferred frequencies {np.median(ratio):.3f} "
      f"(default rule), {np.median(ratio_peak):.3f} (peak-activation rule); channels with a ratio of exactly "
      f"{ppd2 / ppd1:g}: {np.mean(np.isclose(ratio, ppd2 / ppd1)):.0%} (default), {np.mean(np.isclose(ratio_peak, ppd2 / ppd1)):.0%} (peak activation)")

# %% [markdown]
# ```{admonition} Answer
# :class: dropdown
#
# Doubling ppd is viewing the screen from twice as far: every pixel pattern now subtends half the angle,
# so the same pattern has twice as many cycles per degree. Since the network responds to pixels, not to
# degrees, its best pattern (in cycles per pixel) is unchanged and **f̂ in cpd doubles** — exactly so under
# the peak-activation rule, whose argmax sees identical activations. The default rule takes the argmax of
# S(f)·|dā/df|, and the CSF S is a function of cpd: at the larger ppd every pixel frequency sits at a
# different place on the CSF, and the upper part of the doubled grid lies where S is close to 0. For a channel
# whose response changes most at high pixel frequencies the weighted argmax then jumps to a much lower
# frequency (the points well below the line in Figure 3), though the median ratio stays at 2.
# μ1 changes for the same reason: PE is a property of the network **and** the viewing condition.
# ```

# %% [markdown]
# ## Exercise 4 — Probing a network you built ★★
#
# `pecore.Network.from_module(module, layers, ...)` wraps any CNN that takes RGB images (read its docstring:
# `help(pecore.Network.from_module)`); `layers` maps your names to submodule paths or `nn.Sequential` indices.
#
# 1. Build an `nn.Sequential` whose first convolution has four hand-set filters, the same on every colour
#    channel: a horizontal derivative (Sobel x), a vertical derivative (Sobel y), a Laplacian and a box blur;
#    a ReLU; then a second, randomly initialised convolution (fixed seed) and a ReLU.
# 2. Wrap it (tap both ReLUs; its inputs are in [0, 1], so pass `normalize=None`) and score it with
#    `pecore.score_network(net, preset, progress=False)`.
# 3. Look at μ2, θ̂ and f̂ of the four hand-set channels, and their frequency tuning
#    (`pecore.plots.frequency_tuning(result, "edges", [0, 1, 2, 3])`).
#
# **Question.** Do the two Sobel channels get θ̂ = 0° and ±90° (θ is the direction of modulation; 0° = vertical
# bars)? Why is μ2 of the Laplacian small but not 0? A box blur is a low-pass filter, yet the probe gives it μ1 = 0:
# why? And why is the Sobel channels' f̂ below the frequency where their activation peaks?

# %% tags=["hide-cell", "solution"]
from torch import nn
from pecore import plots

torch.manual_seed(seed)
first = nn.Conv2d(3, 4, kernel_size=5, padding=2, bias=False)
sobel_x = torch.tensor([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
laplacian = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
with torch.no_grad():
    first.weight.zero_()
    first.weight[0, :, 1:4, 1:4] = sobel_x / 3        # responds to vertical edges: modulation along x
    first.weight[1, :, 1:4, 1:4] = sobel_x.T / 3      # horizontal edges
    first.weight[2, :, 1:4, 1:4] = laplacian / 3      # isotropic band-pass
    first.weight[3] = 1 / 75                          # 5 × 5 box: low-pass
module = nn.Sequential(first, nn.ReLU(), nn.Conv2d(4, 8, kernel_size=3, padding=1), nn.ReLU())
toy = pecore.Network.from_module(module, {"edges": 1, "mixed": 3}, name="toy", normalize=None,
                                 weights_label=f"hand-set in this exercise; second layer random, seed {seed}")
toy_probe = pecore.score_network(toy, preset, device=device, progress=False)

names = ["Sobel, vertical edges", "Sobel, horizontal edges", "Laplacian", "box blur (low-pass)"]
edges = toy_probe.layer("edges").assign(filter=names).set_index("filter")
display(Markdown(f"**Table 3.** The four hand-set channels of the toy network's first layer. — "
                 f"{pb.figure_label(toy_probe.provenance)}"))
display(pb.readable(edges[["mu1", "mu2", "pe", "fhat", "theta_hat"]].round(3)))
fig = plots.frequency_tuning(toy_probe, "edges", [0, 1, 2, 3], labels=names)
plt.show()
display(Markdown(f"**Figure 4.** Frequency tuning of the four hand-set filters (radial gratings), with the CSF the "
                 f"scores weight it by; dotted lines mark each channel's f̂. — {pb.figure_label(toy_probe.provenance)}"))
sobel_x, sobel_y, lap, box = (edges.loc[n] for n in names)
print(f"Result: preferred orientation {sobel_x.theta_hat:g}° for the Sobel filter of vertical edges and "
      f"{sobel_y.theta_hat:g}° for that of horizontal edges, with equal selectivity (μ2 {sobel_x.mu2:.3f} and "
      f"{sobel_y.mu2:.3f}); Laplacian nearly untuned (μ2 {lap.mu2:.3f}); box blur flat to the probe "
      f"(μ1 {box.mu1:.3f}) (Table 3)")

# %% [markdown]
# ```{admonition} Answer
# :class: dropdown
#
# Yes: the Sobel-x channel peaks for gratings modulated along x (θ̂ = 0°, vertical bars) and Sobel-y at
# −90° (the same as +90°), both with the same μ2 — about the value a rectified cosine tuning gives,
# 1 − mean/max = 1 − 2/π ≈ 0.36. The Laplacian is isotropic only for slowly varying patterns; on a pixel grid
# its response at a given frequency differs a little between the axes and the diagonals, so μ2 is small but not 0.
#
# The box blur is the lesson: the probe records the **mean activation over the grating's phases**. The
# blurred grating is 0.5 plus an attenuated sinusoid, never negative, so the ReLU never clips it, and the
# mean over phases of an unclipped linear response is its response to the mean luminance — the same at every
# frequency. The curve in Figure 4 is flat, μ1 = 0 and f̂ is arbitrary: the probe only sees what a
# nonlinearity turns into a change of mean activation. Finally, f̂ is the argmax of S(f)·|dā/df| (the
# frequency where the response changes most, weighted by the CSF), not of the activation itself; the
# `"fhat-peak-activation"` rule of exercise 3 would put it at the activation peak. The probe
# recovers what was built in, with these caveats — a useful check before trusting it on a network nobody designed.
# ```

# %% [markdown]
# ## Exercise 5 — A distance from a channel subset ★★
#
# `pecore.metric.create_metric("subset", network=..., pe_table=..., subset="top", p=25)` is an LPIPS-like distance
# ({ref}`channel-subset-distance`) that only uses the top (or bottom) p % of each layer's channels by PE.
#
# 1. Build the top-p % and the bottom-p % distances from the stored PE table (`pecore.rescore(folder).table`).
# 2. Take a photograph (`pecore.imageio.bundled_photograph("coffee")`, or one of your own with
#    `pecore.imageio.load_image`) and distort it with Gaussian noise of growing σ and
#    with Gaussian blur of growing σ.
# 3. For every distorted copy compute both subset distances, LPIPS (`pecore.measures.lpips`) and PSNR
#    (`pecore.measures.psnr`) against the clean photograph.
#
# **Question.** Does every distance order the clean image first and grow with the distortion? Compare a noisy and
# a blurred copy of about the same PSNR: which distances find the blurred one worse?

# %% tags=["hide-cell", "solution"]
import torchvision.transforms.functional as TF
from matplotlib.ticker import MaxNLocator
from pecore import measures
from pecore.metric import create_metric

table = pecore.rescore(folder).table
distance = {s: create_metric("subset", network=network, pe_table=table, subset=s, p=p, device=device)
            for s in ("top", "bottom")}
clean = photograph("coffee", BUDGET["image"]).to(dev)
gen = torch.Generator().manual_seed(seed)


def distort(kind: str, sigma: float) -> torch.Tensor:
    if sigma == 0:
        return clean.clone()
    if kind == "noise":
        return (clean + sigma * torch.randn(clean.shape, generator=gen).to(dev)).clamp(0, 1)
    return TF.gaussian_blur(clean, kernel_size=2 * int(np.ceil(3 * sigma)) + 1, sigma=sigma)


rows = []
for kind, levels in (("noise", [0, 0.02, 0.05, 0.1, 0.2]), ("blur", [0, 0.5, 1.0, 2.0, 3.0])):
    for sigma in levels:
        y = distort(kind, sigma)
        with torch.no_grad():
            rows.append({"distortion": kind, "σ": sigma, "PSNR (dB)": float(measures.psnr(y, clean)),
                         "LPIPS": float(measures.lpips(y, clean, net=network, device=dev)),
                         f"top {p} %": float(distance["top"](y, clean)),
                         f"bottom {p} %": float(distance["bottom"](y, clean))})
res = pd.DataFrame(rows)

cols = ["LPIPS", f"top {p} %", f"bottom {p} %"]
fig, axes = plt.subplots(1, 2, figsize=(6.8, 3.3), sharey=True)
for ax, (kind, g) in zip(axes, res.groupby("distortion", sort=False)):
    for col in cols:
        ax.plot(g["σ"], g[col] / res[col].max(), "-o", ms=3, label=col)
    ax.set_title(f"Gaussian {kind}", fontsize=10)
    ax.xaxis.set_major_locator(MaxNLocator(4, steps=[1, 2, 5, 10]))  # few, round ticks: 0, 0.05 … or 0, 1, 2, 3
    ax.xaxis.set_major_formatter("{x:g}")
    ax.set_xlabel("σ" + (" (image in [0, 1])" if kind == "noise" else " (pixels)"))
axes[0].set_ylabel("distance / largest")
axes[1].legend(fontsize=9, frameon=False)
fig.tight_layout()
plt.show()
display(Markdown(f"**Figure 5.** LPIPS and the top- and bottom-{p} % PE subset distances of {display_name(network)} between a "
                 f"{BUDGET['image']} px photograph ({BUNDLED_PHOTOGRAPHS['coffee'][1]}) and its noisy or blurred copies, each divided by its largest value "
                 f"over both distortions. — {label_stored} (PE table); preset {preset} (image size)"))
clean_row = res[res["σ"] == 0].iloc[0]          # the σ = 0 copies of both distortions are the clean image
shown = {"clean image (σ = 0)": clean_row}
shown.update({f"Gaussian {r.distortion}, σ = {r['σ']:g}" + (" px" if r.distortion == "blur" else ""): r
              for _, r in res[res["σ"] > 0].iterrows()})
table4 = pd.DataFrame({name: {"PSNR (dB)": "∞ (identical)" if r["σ"] == 0 else f"{r['PSNR (dB)']:.2f}",
                              **{col: f"{r[col]:.4f}" for col in cols}} for name, r in shown.items()}).T
table4.index.name = "copy of the photograph"
display(Markdown(f"**Table 4.** The distances of Figure 5, and PSNR, of each copy against the clean photograph (the "
                 f"clean image is identical to itself: its PSNR is infinite). — {label_stored} (PE table); preset {preset}"))
display(table4)
# a noisy copy of the same PSNR as each blurred one, interpolated along the noise curve
noisy = res[(res.distortion == "noise") & (res["σ"] > 0)].sort_values("PSNR (dB)")
matched = []
for _, b in res[(res.distortion == "blur") & (res["PSNR (dB)"].between(noisy["PSNR (dB)"].min(), noisy["PSNR (dB)"].max()))].iterrows():
    matched.append({"blur σ": b["σ"], "PSNR (dB)": b["PSNR (dB)"],
                    **{f"{col}: blur / noise": b[col] / np.interp(b["PSNR (dB)"], noisy["PSNR (dB)"], noisy[col])
                       for col in cols}})
matched = pd.DataFrame(matched).set_index("blur σ")
display(Markdown(f"**Table 5.** Each distance of a blurred copy divided by that of a noisy copy of the same PSNR "
                 f"(interpolated along the noise levels of Table 4); above 1: the distance finds the blur worse. "
                 f"— {label_stored} (PE table); preset {preset}"))
display(matched.round(3))
ordered = [col for col in cols if all(g.sort_values("σ")[col].iloc[0] == 0 and g.sort_values("σ")[col].is_monotonic_increasing
                                      and g[col].is_unique for _, g in res.groupby("distortion"))]
print(f"Result: 0 for the clean image and growing with σ under both distortions (Table 4): "
      + (", ".join(ordered) or "none") + (f"; not: {', '.join(c for c in cols if c not in ordered)}" if len(ordered) < len(cols) else "")
      + "; blur / noise at equal PSNR: " + ", ".join(f"{c.split(':')[0]} {v:.2f}" for c, v in matched.mean().items()
                                                 if c != "PSNR (dB)") + " (mean over the blur levels of Table 5)")

# %% [markdown]
# ```{admonition} Answer
# :class: dropdown
#
# Every distance is 0 for the clean image and grows with σ for both distortions (Table 4). PSNR treats
# all errors of the same energy alike; the feature distances do not (Table 5): a slight blur counts as
# less harmful than noise of the same PSNR, and the ratio of blur to noise grows as the blur removes more of the
# oriented mid- and high-frequency structure the channels respond to. Compare the rows of Table 5 between the two subsets: the
# subset with the larger blur / noise ratios weighs the loss of structure more, and the noise less, than the
# other — the paper's argument predicts the top-PE subset.
# One photograph is an anecdote; the
# [IQA chapter](05_iqa.ipynb) asks the question on human-rated datasets.
# ```

# %% [markdown]
# ## Exercise 6 — Inverting the features of top- and bottom-PE channels ★★★
#
# `pecore.reconstruction.invert.invert(network, target, layer, channels, steps=...)` starts from noise and
# optimises an image until the chosen channels of `layer` respond to it as they do to the target
# ({ref}`feature-inversion`).
#
# 1. Choose the top-p % and bottom-p % channels of `layer` with `pecore.select_channels(table, layer, "top", p)`.
# 2. Invert a small crop of a photograph from each set (a few dozen pixels, tens to a few hundred steps: it runs on a CPU).
# 3. Show the target and both reconstructions, their PSNR and SSIM (`pecore.measures.ssim`) against the
#    target and the loss curves (`Inversion.loss`).
#
# **Question.** Which subset keeps more of the image's structure? How many images, seeds and steps would you
# need before calling the difference a finding?

# %% tags=["hide-cell", "solution"]
from pecore import measures
from pecore.reconstruction.invert import invert

net = pecore.load_network(network, device=device)
table = pecore.rescore(folder).table
target = photograph("astronaut", BUDGET["invert_size"])
recs = {}
for subset in ("top", "bottom"):
    channels = pecore.select_channels(table, layer, subset, p)
    recs[subset] = invert(net, target, layer, channels, steps=BUDGET["invert_steps"], lr_schedule="cosine",
                          seed=seed, device=device)

scores = {s: (float(measures.psnr(r.image, target)), float(measures.ssim(r.image, target))) for s, r in recs.items()}
fig = plt.figure(figsize=(6.5, 5.6), layout="constrained")
grid = fig.add_gridspec(2, 3, height_ratios=[1.1, 1])
images = [fig.add_subplot(grid[0, i]) for i in range(3)]
images[0].imshow(target[0].permute(1, 2, 0).numpy()); images[0].set_title("target", fontsize=10)
for ax, (s, r) in zip(images[1:], recs.items()):
    ax.imshow(r.image[0].permute(1, 2, 0).numpy())
    ax.set_title(f"{s} {p} % of {layer}\nPSNR {scores[s][0]:.1f} dB, SSIM {scores[s][1]:.2f}", fontsize=10)
for ax in images:
    ax.axis("off")
curve = fig.add_subplot(grid[1, :])
for s, r in recs.items():
    curve.plot(r.feature_loss[:, 0], label=f"{s} {p} %")
curve.set_yscale("log"); curve.set_xlabel("Adam step"); curve.set_ylabel("feature loss (normalised)")
curve.legend(fontsize=9, frameon=False)
plt.show()
display(Markdown(f"**Figure 6.** A {BUDGET['invert_size']} px crop of a photograph "
                 f"({BUNDLED_PHOTOGRAPHS['astronaut'][1]}) rebuilt from noise by matching only the top or "
                 f"only the bottom {p} % of {display_name(network)} {layer}'s channels by PE "
                 f"({BUDGET['invert_steps']} steps, seed {seed}; top row), and the feature loss along the way (below). — {label_stored} (PE table); preset {preset} (budget)"))
print("Result: " + "; ".join(f"{s} {p} %: PSNR {v[0]:.2f} dB, SSIM {v[1]:.3f}, feature loss "
                             f"{recs[s].feature_loss[0, 0]:.3g} -> {recs[s].feature_loss[-1, 0]:.3g}" for s, v in scores.items()))

# %% [markdown]
# ```{admonition} Answer
# :class: dropdown
#
# Look first at whether each run converged (the loss curves flatten): a reconstruction that has not converged
# says little. Then read Figure 6 rather than the expectation: the paper's claim predicts that the top-PE
# channels, which respond to oriented structure at the frequencies people see best, pin down more of the image,
# but the bottom set can come out level or ahead; the reconstruction chapter measures which, over many
# photographs, noise starts and random sets. Note also that the bottom set
# usually reaches the lower feature loss: matching fewer, weaker responses is an easier problem, and a low
# loss is not the same as a faithful image.
# One image, one seed and one noise start are an anecdote: the difference between two reconstructions
# varies from image to image and from seed to seed. The [reconstruction chapter](04_reconstruction.ipynb)
# runs several photographs and random subsets and reads the paired differences with bootstrap intervals
# before stating a verdict.
# ```

# %% [markdown]
# ## Exercise 7 — How sure is a ranking agreement? ★★ (optional)
#
# Exercise 2 gave one Spearman ρ per layer between the PE rankings under two CSFs. The channels of a layer
# are a sample of the channels the layer could have had; resampling them gives an interval.
#
# 1. For each layer, compute ρ and a 95 % percentile bootstrap interval with
#    `pecore.statistics.bootstrap_interval(statistic, pe_a, pe_b, n_boot=...)`, resampling channels.
# 2. Do the same for the mean μ2 of the live channels with `pecore.statistics.bootstrap_mean`.
#
# **Question.** Does any interval of ρ include 1 (no change of ranking)? Are the layers' mean μ2 distinguishable?
# What does resampling channels assume?

# %% tags=["hide-cell", "solution"]
from pecore.compare import spearman
from pecore.statistics import bootstrap_interval, bootstrap_mean

default = pecore.rescore(folder)
barten = pecore.rescore(folder, "barten-csf")
rows = []
for name in dict.fromkeys(default.table.layer):
    a, b = default.layer(name), barten.layer(name)
    rho = spearman(a.pe.to_numpy(), b.pe.to_numpy())
    lo, hi = bootstrap_interval(spearman, a.pe.to_numpy(), b.pe.to_numpy(), n_boot=BUDGET["n_boot"], seed=seed)
    m, mlo, mhi = bootstrap_mean(a.mu2[a.a_hat > 0].to_numpy(), n_boot=BUDGET["n_boot"], seed=seed)  # μ2 measured
    rows.append({"layer": name, "ρ (Mannos–Sakrison vs Barten)": rho, "ρ low": lo, "ρ high": hi,
                 "mean μ2": m, "μ2 low": mlo, "μ2 high": mhi})
boot = pd.DataFrame(rows).set_index("layer")

fig, axes = plt.subplots(1, 2, figsize=(6.8, 3.2))
for ax, (col, lo, hi), title in zip(axes, (("ρ (Mannos–Sakrison vs Barten)", "ρ low", "ρ high"), ("mean μ2", "μ2 low", "μ2 high")),
                                    ("ρ of PE, Mannos–Sakrison\nvs Barten CSF", "mean μ2 of the\nmeasured channels")):
    x = np.arange(len(boot))
    ax.errorbar(x, boot[col], yerr=[boot[col] - boot[lo], boot[hi] - boot[col]], fmt="o", capsize=4)
    ax.set_xticks(x, boot.index, rotation=30 if max(map(len, boot.index)) > 5 else 0)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel("Spearman ρ" if col.startswith("ρ") else "μ2")
axes[0].axhline(1, color="0.5", ls=":")
fig.tight_layout()
plt.show()
display(Markdown(f"**Figure 7.** Per layer, Spearman ρ of PE between the two CSFs (left) and the mean μ2 (right) of "
                 f"the channels whose μ2 is measured (live, and responding to straight gratings at their f̂: â > 0), "
                 f"with 95 % percentile bootstrap intervals over channels ({BUDGET['n_boot']} resamples). — {label_stored}"))
display(Markdown(f"**Table 6.** The numbers of Figure 7: per layer, ρ of PE between the two CSFs and the mean μ2, "
                 f"each with its 95 % bootstrap interval. — {label_stored}"))
display(pd.DataFrame({"ρ of PE, Mannos–Sakrison vs Barten [95 %]": [f"{r:.3f} [{lo:.3f}, {hi:.3f}]" for r, lo, hi in
                                                                   zip(boot.iloc[:, 0], boot["ρ low"], boot["ρ high"])],
                      "mean μ2 [95 %]": [f"{m:.3f} [{lo:.3f}, {hi:.3f}]" for m, lo, hi in
                                         zip(boot["mean μ2"], boot["μ2 low"], boot["μ2 high"])]}, index=boot.index))
top = boot["ρ high"]
print("Result: " + ("no interval of ρ reaches 1" if top.max() < 1 else f"the interval of ρ reaches 1 in "
                    f"{', '.join(top[top >= 1].index)}") + f": the highest upper bound is {top.max():.3f}, in "
      f"{top.idxmax()} (Table 6)")

# %% [markdown]
# ```{admonition} Answer
# :class: dropdown
#
# None of the intervals of ρ reaches 1: the change of CSF reorders every layer's channels by more than
# resampling the channels would explain. Layers whose μ2 intervals do not overlap differ in mean orientation
# selectivity; overlapping intervals do not by themselves show that two layers are alike. Resampling channels treats them
# as independent draws from one population of possible channels; channels of a trained network are
# neither independent nor drawn at random, so the interval describes how much the number depends on
# which channels happen to be there, not a sampling error in the usual sense. The probe itself is
# deterministic: there is no measurement noise to resample.
# ```
