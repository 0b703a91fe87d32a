"""Every chapter executes under the ci preset; the book builds offline with every page, figure and no error."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from pecore.book import (ChapterError, build_html, chapter_names, copy_book_sources, execute_chapter,
                         execute_chapters, parse_parameters)
from pecore.cli import main
from pecore.errors import ParameterError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def built_book(tmp_path_factory):
    """The whole book built in a temporary copy of its sources (the repository's book/ is not touched)."""
    root = copy_book_sources(tmp_path_factory.mktemp("book"))
    timings = execute_chapters(None, {"preset": "ci", "device": "cpu"}, root / "book" / "chapters", log=False)
    index = build_html(root)
    return index.parent, timings


def test_every_chapter_page_exists_with_figures_and_no_errors(built_book):
    from pecore.rerun import _minutes, chapter_times

    html, timings = built_book
    assert set(timings) == set(chapter_names())
    for name in chapter_names():
        page = html / "book" / "chapters" / f"{name}.html"
        assert page.is_file(), f"{page} missing"
        text = page.read_text()
        n_img = len(re.findall(r"<img[^>]+src=\"[^\"]+\.png\"", text))
        assert n_img >= 2, f"{name}: only {n_img} figures"
        assert "Traceback" not in text and "output_error" not in text and "ipythontb" not in text, name
        # the page box names the preset and network once; captions do not repeat it
        if name != "07_claims":  # the claims page shows what the chapters recorded, each row with its setting
            assert re.search(r"<b>Preset:</b> (ci|paper|book)", text), f"{name}: the page box must name the preset"
        # the injected-parameters cell is hidden, the parameter summary is shown
        assert "Injected parameters" not in text and "page parameter: preset" in text
        assert "Rerun this chapter" in text and f"pecore book --chapters {name}" in text  # the rerun box
        for preset, seconds in chapter_times(name).items():  # with the benchmark record's times, as measured
            label = "stored results where it has them)" if preset == "default" else f"preset {preset}"
            assert f"{label}: {_minutes(seconds)}" in text, (name, preset)


def test_the_footer_names_the_build(built_book):
    """Every page's footer says which pecore version and commit the book was built from, and when (to cite it)."""
    from datetime import datetime, timezone

    from pecore._version import __version__
    from pecore.provenance import git_commit

    html, _ = built_book
    stamp = f"pecore {__version__}, commit {git_commit()}, built {datetime.now(timezone.utc):%Y-%m-%d}."
    for page in (html / "book" / "intro.html", html / "book" / "chapters" / "03_pe.html"):
        footer = page.read_text().split('class="extra_footer"', 1)[1][:600]
        assert stamp in footer and "Built from executed notebooks" in footer, page.name


def test_every_internal_link_of_the_built_book_resolves(built_book, tmp_path):
    from pecore.linkcheck import broken_links

    html, _ = built_book
    assert broken_links(html) == []
    # links into the built chapters: a real section resolves, a missing section and a missing page are found
    chapter = os.path.relpath(html / "book" / "chapters" / "05_iqa.html", tmp_path)
    (tmp_path / "page.html").write_text(f'<a href="{chapter}#what-these-data-can-and-cannot-support">a</a> '
                                        f'<a href="{chapter}#no-such-section">b</a> <a href="{chapter}x">c</a>')
    assert [b.reason for b in broken_links(tmp_path)] == ["no id no-such-section on 05_iqa.html",
                                                          f"no file {chapter}x"]


def test_pages_reference_no_remote_script_or_stylesheet(built_book):
    html, _ = built_book
    remote = re.compile(r"<(?:script|link)[^>]+(?:src|href)=\"(?:https?:)?//", re.I)
    offenders = [str(p.relative_to(html)) for p in html.rglob("*.html") if remote.search(p.read_text())]
    assert offenders == []
    method = (html / "book" / "method.html").read_text()
    assert "_static/mathjax/tex-chtml.js" in method and (html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    assert "\\mu_1" in method  # equations are there for MathJax to typeset


def test_every_script_is_included_once_and_printed_results_wrap(built_book):
    html, _ = built_book
    for page in html.rglob("*.html"):
        scripts = re.findall(r"<script[^>]*>.*?</script>", page.read_text(), re.S)
        repeated = {s[:80] for s in scripts if scripts.count(s) > 1}
        assert not repeated, f"{page.relative_to(html)}: repeated scripts {repeated}"  # a repeated const is a SyntaxError
    exercises = (html / "book" / "chapters" / "08_exercises.html").read_text()
    assert "_static/pecore.css" in exercises and "Result:" in exercises
    assert "white-space: pre-wrap" in (html / "_static" / "pecore.css").read_text()


def test_prose_pages_and_bibliography(built_book):
    html, _ = built_book
    for page in ("intro", "method", "reproducing", "api", "bibliography"):
        assert (html / "book" / f"{page}.html").is_file()
    assert "What is reconstructed" in (html / "book" / "method.html").read_text()
    assert "Tariq" in (html / "book" / "bibliography.html").read_text()
    assert "load_network" in (html / "book" / "api.html").read_text()
    assert "| 01_frequency | ci |" in (html.parent.parent / "book" / "chapters" / "timings.md").read_text()


@pytest.mark.parametrize("params,msg", [
    ({"preset": "fast"}, "notebook parameter preset: unknown value 'fast'"),
    ({"layer": "relu9_9"}, "notebook parameter layer"),
    ({"network": "resnet"}, "notebook parameter network"),
    ({"n_examples": "three"}, "notebook parameter n_examples must be int"),
    ({"variants": ["fancy"]}, "notebook parameter variants"),
])
def test_bad_parameter_stops_the_chapter_in_its_first_cell(params, msg, tmp_path):
    with pytest.raises(ChapterError) as err:
        execute_chapter("01_frequency", {"preset": "ci", **params}, tmp_path)
    text = str(err.value)
    assert msg in text and "01_frequency" in text and "failed in cell 3 (index 3)" in text  # the first cell after the parameters


def test_chapter_without_stored_results_probes_itself(tmp_path):
    execute_chapter("02_orientation", {"preset": "ci", "use_stored": False, "network": "alexnet", "layer": "relu2"},
                    tmp_path)
    text = (tmp_path / "02_orientation.ipynb").read_text()
    assert "<b>Preset:</b> ci" in text and "<b>Network:</b> AlexNet" in text and "(stored results)" not in text
    assert "computed for this page: stored results not requested" in text  # the page box says why


@pytest.mark.parametrize("chapter", chapter_names())
def test_every_chapter_refuses_an_unknown_preset_in_its_first_cell(chapter, tmp_path):
    with pytest.raises(ChapterError) as err:
        execute_chapter(chapter, {"preset": "fast", "network": "vgg16"}, tmp_path)
    text = str(err.value)
    assert "preset" in text and "fast" in text and re.search(r"allowed: [a-z, ]*quick", text)
    assert "failed in cell 3 (index 3)" in text
    assert not list(tmp_path.glob(".*.running.ipynb"))  # a failed chapter leaves no half-written notebook


def test_book_params_are_checked_before_any_chapter_runs(tmp_path, capsys):
    assert parse_parameters(["csf=barten", "network=alexnet", "p=10"], ["03_pe"]) == \
        {"csf": "barten", "network": "alexnet", "p": 10}
    with pytest.raises(ParameterError, match="no chapter among 03_pe has this parameter"):
        parse_parameters(["colour=red"], ["03_pe"])
    with pytest.raises(ParameterError, match="KEY=VALUE"):
        parse_parameters(["csf"], ["03_pe"])
    with pytest.raises(ParameterError, match="notebook parameter network"):
        parse_parameters(["network=resnet"], ["03_pe"])
    # from the command line: exit 2, one line, and no chapter was executed (nothing written)
    assert main(["book", "--chapters", "03_pe", "--param", "csf=nonsense", "--no-build"]) == 2
    assert "csf" in capsys.readouterr().err
    import torch

    if not torch.cuda.is_available():
        assert main(["book", "--chapters", "03_pe", "--device", "cuda", "--no-build"]) == 2
        assert "CUDA is not available" in capsys.readouterr().err


def test_the_whole_book_builds_without_the_datasets(tmp_path, monkeypatch):
    """A clone with no data folder (``PECORE_DATA`` pointing nowhere) builds the whole book as ``make book`` does:
    every chapter executes at its own default from the stored results, and the pages that draw on photographs
    (chapter 03's feature maps, the exercises, the explorer) use ones that ship with scikit-image."""
    monkeypatch.setenv("PECORE_DATA", str(tmp_path / "no-data"))
    root = copy_book_sources(tmp_path / "sources")
    timings = execute_chapters(None, {"device": "cpu"}, root / "book" / "chapters", log=False)
    assert set(timings) == set(chapter_names())
    pages = build_html(root).parent / "book"
    words = {name: " ".join(re.sub(r"<[^>]+>", " ", (pages / "chapters" / f"{name}.html").read_text()).split())
             for name in ("03_pe", "08_exercises")}
    assert "Figure 4. relu2_2 feature maps" in words["03_pe"]
    assert "on a photograph (Chelsea the cat, photographed by Stefan van der Walt, CC0), resized to 192 px" in words["03_pe"]
    exercises = (pages / "chapters" / "08_exercises.html").read_text()
    assert "a 160 px photograph (a cup of coffee, photographed by Rachel Michetti, CC0)" in words["08_exercises"]
    assert len(re.findall(r"<img[^>]+src=\"[^\"]+\.png\"", exercises)) >= 6 and "Traceback" not in exercises
    assert '"name":"chelsea","dataset":"scikit-image"' in (pages / "explorer.html").read_text()


def test_a_bundled_photograph_is_read_like_a_file_and_unknown_names_are_refused():
    from pecore.errors import UnknownNameError
    from pecore.imageio import BUNDLED_PHOTOGRAPHS, bundled_photograph, centre_square

    for name in BUNDLED_PHOTOGRAPHS:
        x = centre_square(bundled_photograph(name, size=64))
        assert x.shape == (3, 64, 64) and 0 <= float(x.min()) < float(x.max()) <= 1
    with pytest.raises(UnknownNameError, match="unknown bundled photograph 'baboon'; allowed: chelsea"):
        bundled_photograph("baboon")
    from pecore.errors import ImageError, ParameterError

    with pytest.raises(ParameterError, match="unknown device 'gpu'"):
        bundled_photograph("chelsea", device="gpu")
    with pytest.raises(ImageError, match="centre_square takes an image tensor"):
        centre_square(x[0, 0])
