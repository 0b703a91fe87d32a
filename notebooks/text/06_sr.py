# %% [markdown]
# # Super-resolution with a PE-selected feature loss
#
# The paper's last claim {cite}`tariq2020why`: a training loss built from the **high-PE** channels of
# VGG-16 improves single-image super-resolution. We test it as perceptual losses are tested in the SR
# literature. A small SRResNet-style ×4 network {cite}`ledig2017srgan` is first trained with the pixel loss
# alone; that **shared start** is then fine-tuned with
#
# $$L = L_\mathrm{pix} + \lambda \cdot L_\mathrm{feat}(M),$$
#
# where $L_\mathrm{pix}$ is the mean absolute pixel error and $L_\mathrm{feat}(M)$ the LPIPS-style feature
# distance of the IQA experiment — features unit-normalised across channels, squared difference, spatial
# mean, summed over a channel set $M$ of relu1_2 and relu2_2 of VGG-16 — in the spirit of the perceptual
# losses of {cite}`johnson2016perceptual`. The **arms** differ only in $M$: no channel (the pixel loss alone,
# fine-tuned for the same steps), all channels, the top-25 % PE channels, the bottom-25 % PE channels and
# three **random draws** of the same count (in the CPU tier, draw k is trained with training seed k). λ is chosen once, on held-out photographs, from a grid wide enough
# that the feature term goes from a small correction to dominating the loss. Every arm is trained with **three
# training seeds** (each its own shared start, initial weights and crop sequence), so the intervals below
# include training noise, not only the spread of the test images. The primary measure, fixed before the run,
# is LPIPS-alex. The algorithm and the choices that are ours rather than the paper's are on the Method page
# ({ref}`sr-design`).

# %% tags=["parameters"]
# Parameters (papermill injects new values after this cell)
network = "vgg16"        # loss network whose PE scores choose the channels
preset = "book"          # book (stored: 8 x 32 network, shared start + 300 fine-tuning steps x 3 seeds, CPU ~1 h), quick, paper (GPU), ci
device = "auto"
seed = 0                 # base seed: training seed t uses seed + t for every arm
use_stored = True        # use the committed results of the preset when they exist and the parameters match
p = None                 # subset size in % of each layer's channels, None for the preset value (25)
feature_weight = None    # lambda, None for the preset's (book: chosen by the sweep on held-out photographs)
threads = 1              # CPU threads for torch (1 is robust on a busy 2-core machine), None for torch's default

# %% tags=["hide-input"]
# %matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd
import torch
from IPython.display import HTML, Markdown, display

import pecore.notebook as pb
from pecore.sr import plots
from pecore.sr.conclusions import conclusion_markdown
from pecore.sr.tables import chapter_tables
from pecore.sr.experiment import run_experiment
from pecore.sr.settings import PRESETS as SR_PRESETS

params = pb.check_parameters(
    dict(network=network, preset=preset, device=device, seed=seed, use_stored=use_stored, p=p,
         feature_weight=feature_weight, threads=threads),
    {"preset": pb.Param((str,), lambda: list(SR_PRESETS)),
     "p": pb.Param((int, float), check=lambda v: 0 < v <= 100, what="a percentage in (0, 100]", optional=True),
     "feature_weight": pb.Param((int, float), check=lambda v: v >= 0, what="a number >= 0 (lambda)", optional=True),
     "threads": pb.Param((int,), check=lambda v: v >= 1, what="an integer >= 1", optional=True)})
if threads is not None:
    torch.set_num_threads(threads)
overrides = {k: v for k, v in (("p", p), ("feature_weight", feature_weight)) if v is not None}
results = run_experiment(preset, network=network, seed=seed, device=device, use_stored=use_stored,
                         overrides=overrides, progress=False)
prov = results.provenance
settings = prov["parameters"]["sr_settings"]
tables = chapter_tables(results)
label = pb.figure_label(prov)
display(HTML(pb.page_summary("Super-resolution networks fine-tuned alike from a shared start except for the "
                             "channels of their feature loss, each with several training seeds, scored on the test "
                             "images, and the paper's claim tested on them.", prov, grid=tables["grid"])))
display(HTML(pb.provenance_details(params, prov)))
display(HTML(pb.rerun_box("06_sr", params)))

# %% [markdown]
# ## The setup
#
# - **Data.** Training crops are cut at random from the HR photographs of BSD100 {cite}`martin2001bsd`
#   (the SelfExSR crops {cite}`huang2015selfexsr`), with random flips and transposes; the last 16 of them
#   by name are held out as a **validation split** for choosing λ. This differs from the usual SR training
#   set, DIV2K {cite}`agustsson2017div2k` (800 images of 2K resolution), which is not available offline: the networks here see far
#   less data than published SR models. Testing uses the whole images of Set5 {cite}`bevilacqua2012set5`
#   and Set14 {cite}`zeyde2010set14` without its `lenna` photograph, which no list of this book uses:
#   **18 images: Set5 and Set14 without lenna**.
# - **LR inputs** are made from the HR images in torch, never read from the stored LR files: bicubic
#   downscaling by 4 with antialiasing (Keys' cubic kernel {cite}`keys1981cubic`, $a = -0.5$, widened by the scale factor, as
#   PIL and MATLAB's `imresize`), clamped and rounded to 8 bits. The bicubic baseline upscales with the
#   same kernel. On the full Set5 it scores PSNR-Y 28.43 dB (the literature's MATLAB value is 28.42 dB).
# - **Metrics.** PSNR and SSIM {cite}`wang2004ssim` on the luma Y (ITU-R BT.601), GMSD {cite}`xue2014gmsd`
#   (gradient magnitude similarity deviation, taken from the `piq` library; a structure measure with no neural
#   network, lower is better), and LPIPS v0.1 {cite}`zhang2018lpips` on RGB (lower is better), all on the whole
#   test images with a border of 4 pixels (the upscaling factor) left out, as in the SR literature. LPIPS is
#   computed on **AlexNet**, a network the losses never use: it is the **primary measure**, named before the
#   run. The `paper` preset also computes LPIPS on VGG-16; that score shares the network of the feature loss,
#   so it favours the feature-loss arms by construction, and the CPU tier leaves it out.
# - **Intervals.** Arms are compared by **paired** differences: the same test image under the same training
#   seed. Every 95 % interval resamples test images, training seeds and random draws independently (a crossed
#   bootstrap {cite}`owen2007pigeonhole`), so a difference that one lucky seed or draw produces does not pass as
#   an effect.
# - **λ.** The weight of the feature term is chosen on the all-channel arm (first training seed, fine-tuned
#   from its shared start) by a sweep over four λ a factor of ten apart, from a feature term that is a small
#   correction to one that dominates the loss: the λ with the lowest LPIPS-alex on the validation split among
#   those that keep PSNR-Y at least at bicubic's. The PSNR floor keeps out a λ whose feature term already
#   trades fidelity for texture, and the test images play no part in the choice. Table 4 says whether the
#   chosen λ lies inside the grid.

# %% tags=["hide-input"]
display(Markdown(f"**Table 1.** The budget of every arm, the choice of λ and how the test images are scored. "
                 f""))
display(pb.readable(tables["settings"]))
display(Markdown(f"**Table 2.** Channels of the feature loss per layer (top, bottom and random have the same "
                 f"count). Channel scores: {tables['scores']}."))
display(pb.readable(tables["channels"]))

# %% [markdown]
# ## Training
#
# The loss of every arm over fine-tuning (first training seed; means over the logged intervals, then a
# rolling mean), and PSNR-Y on a fixed batch of crops of the validation photographs. The pixel arm has no
# feature term. The feature term is shown before multiplying by λ; the arms' feature terms are on one scale
# because each subset mask is scaled by $C/|M|$. The learning rate decays along a cosine to a tenth of its
# start: Table 3 gives, per arm over all its runs, the largest change of the loss over the last tenth of the
# steps and the largest rise of validation PSNR-Y over the last fifth.

# %% tags=["hide-input"]
fig = plots.training_curves(results.logs)
plt.show()
display(Markdown(f"**Figure 1.** Fine-tuning curves of every arm, first training seed ({settings['steps']} steps, "
                 f"batch {settings['batch_size']} of {settings['crop']}-pixel HR crops, λ = {tables['lambda']:g}). "
                 f""))
display(Markdown(f"**Table 3.** Per arm, over its runs: the largest relative change of the mean training loss "
                 f"between the previous and the last tenth of the logged steps; the mean validation PSNR-Y at the end "
                 f"and its largest rise over the last fifth of the steps."))
display(pb.readable(tables["plateau"]))
display(Markdown(tables["plateau_sentence"]))

# %% [markdown]
# ## Choosing λ
#
# The all-channel arm trained with each λ of the sweep, scored on the held-out BSD100 photographs; the test
# images play no part.

# %% tags=["hide-input"]
if tables["sweep"] is not None:
    display(Markdown(f"**Table 4.** The λ sweep on the validation split: {tables['sweep_note']}."))
    display(pb.readable(tables["sweep"]))
else:
    display(Markdown(f"This preset has no λ sweep: λ = {tables['lambda']:g} is its fixed value."))

# %% [markdown]
# ## Scores on the test images
#
# Each arm and bicubic upscaling on the test images; dots are means over images and training seeds (and
# random draws), bars 95 % intervals that resample all three. These intervals mostly reflect how much the
# images differ from one another; whether one arm beats another is read from the paired differences below.

# %% tags=["hide-input"]
fig = plots.metric_intervals(results.summary)
plt.show()
lower = [m for m in ("LPIPS-alex", "GMSD", "LPIPS-vgg") if m.lower().replace("-", "_") in set(results.summary.metric)]
display(Markdown(f"**Figure 2.** {', '.join(lower)} (lower is better), PSNR-Y and SSIM-Y (higher is "
                 f"better) on {tables['test_sets']}: mean and 95 % interval over images, training seeds and draws; "
                 f"large circles: both sets together."))
display(Markdown(f"**Table 5.** The means of Figure 2 (their intervals are in the figure)."))
display(pb.readable(tables["summary"]))

# %% tags=["hide-input"]
fig = plots.difference_intervals(results.differences)
plt.show()
display(Markdown(f"**Figure 3.** Paired differences between arms (a − b; same image, same training seed): mean "
                 f"and 95 % interval resampling images, training seeds and random draws, per test set and for both "
                 f"together (large circles, the ones the conclusion reads); filled markers: the interval excludes 0 "
                 f"(dotted line); the colour is that of arm b."))

# %% [markdown]
# ## What the networks produce
#
# A centre crop of the butterfly photograph of Set5: the LR input (enlarged without interpolation), bicubic
# upscaling, every arm (first training seed, first random draw) and the HR original.

# %% tags=["hide-input"]
if results.samples:
    fig = plots.crops_side_by_side(results.samples)
    plt.show()
    display(Markdown(f"**Figure 4.** The same centre crop of {tables['sample']}, side by side: the LR input, "
                     f"bicubic upscaling, every arm (first training seed) and the HR original."))

# %% [markdown]
# ## Conclusion

# %% tags=["hide-input"]
display(Markdown(conclusion_markdown(results)))

# %% [markdown]
# **What the CPU tier cuts.** The stored `book` tier is sized for a 2-core CPU (about an hour): a network of 8
# blocks × 32 channels, 48-pixel training crops, a shared start of 1,000 steps and 300 fine-tuning steps per
# arm, each random draw trained with one training seed (draw k with seed k), 16 validation photographs for λ,
# LPIPS-vgg left out; the test images are whole. The `paper` preset runs the same design with an SRResNet-sized
# network (16 × 64), 96-pixel crops, 10,000 shared steps and 3,000 fine-tuning steps, relu3_3 in the feature
# loss, every draw with every seed, LPIPS-vgg and a five-value λ grid, on a GPU (`make paper`).
#
# Rerun the chapter with other settings with papermill, for example a stronger feature loss and smaller
# subsets (a rerun computes the results for the page instead of reading the stored ones), remake the
# stored results, train single arms, or upscale your own images with a stored generator:
#
# ```
# papermill notebooks/06_sr.ipynb out.ipynb -p preset quick -p feature_weight 0.1 -p p 10
# pecore sr run --preset book --out stored/sr/vgg16-book --threads 1
# pecore sr train --arm top --preset paper --device cuda --out runs/top
# pecore sr apply stored/sr/vgg16-book/runs/top-t0 my_photo.png --out upscaled/
# torchrun --nproc_per_node 4 $(which pecore) sr run --preset paper --device cuda --out results/sr-paper
# ```

# %% tags=["remove-cell"]
# For the claims page: this chapter's verdicts, recorded beside the notebook.
from pecore.claims import record_finding
from pecore.sr.conclusions import conclusions as sr_verdicts
_ = record_finding("sr", sr_verdicts(results), prov, chapter="06_sr", grid=tables["grid"],
                   top_set={"network": prov["network"], "layers": prov["parameters"]["feature_layers"],
                            "p": prov["parameters"]["sr_settings"]["p"]})
