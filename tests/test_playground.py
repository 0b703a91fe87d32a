"""The scoring playground holds pecore's own scores for every combination, and fits a static page."""
from __future__ import annotations

import json

import pytest

from pecore.compare import chance_jaccard
from pecore.efficacy import make_config
from pecore.notebook import stored_probe_dir
from pecore.playground import combinations, playground_data, playground_html
from pecore.rescore import rescore
from pecore.selection import select_channels


@pytest.fixture(scope="module")
def data():
    return playground_data(["alexnet"])


def test_every_combination_is_pecores_own_scoring(data):
    net = data["networks"]["alexnet"]
    assert set(net["combos"]) == {f"{c}|{v}" for c, v in combinations()} and len(net["combos"]) == 24
    default = rescore(stored_probe_dir("alexnet")).table
    for key in ("barten|signed-slope", "flat|mu2-circular"):
        csf, variant = key.split("|")
        table = rescore(stored_probe_dir("alexnet"), make_config([variant], csf=csf)).table
        for layer in net["layers"]:
            for p in ("10", "25", "50"):
                entry = net["combos"][key][layer]["p"][p]
                top = set(select_channels(table, layer, "top", float(p)).tolist())
                ref = set(select_channels(default, layer, "top", float(p)).tolist())
                assert entry["top"] == sorted(top)
                assert entry["jaccard"] == pytest.approx(len(top & ref) / len(top | ref), abs=1e-4)
                assert entry["kept"] == pytest.approx(len(top & ref) / len(ref), abs=1e-4)
            assert sum(net["combos"][key][layer]["hist"]["counts"]) == net["live"][layer]
    for layer in net["layers"]:
        assert net["chance"][layer]["25"]["jaccard"] == pytest.approx(chance_jaccard(net["live"][layer], 25), abs=1e-4)
        assert net["combos"]["mannos-sakrison|default"][layer]["p"]["25"]["jaccard"] == 1.0


def test_the_page_carries_its_data_inline_and_stays_small(data):
    page = playground_html(data)
    inline = page.split('<script type="application/json" id="pgd-data">', 1)[1].split("</script>", 1)[0]
    assert json.loads(inline.replace("<\\/", "</")) == data  # no request for a file: it works from file://
    assert len(page.encode()) < 5_000_000 / 2  # one of the two networks: half the budget
    assert "<script src=" not in page
