"""The iqa chapter's library code: do PE-selected channels predict human quality judgments?

- :mod:`pecore.iqa.datasets` — full-reference and 2AFC datasets in their native layouts.
- :mod:`pecore.iqa.stats` — SROCC, KROCC, PLCC (4-parameter logistic), group bootstrap, 2AFC.
- :mod:`pecore.iqa.baselines` — PSNR and SSIM.
- :mod:`pecore.iqa.experiment` — cached per-channel terms, the subset grid, the channel-level test.
- :mod:`pecore.iqa.synthetic` — graded distortions of real photographs (no human data).
- :mod:`pecore.iqa.plots` — the chapter's figures and tables.
- :mod:`pecore.iqa.cli` — ``pecore distance`` and ``pecore iqa``.

The metric itself (channel-subset distance and LPIPS v0.1) is :mod:`pecore.metric`.
"""
__all__: list[str] = []
