"""Re-scoring from stored sweeps: equal to a fresh probe, checked on load, refused when it does not fit."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pecore.cli import main
from pecore.errors import DatasetError, ParameterError
from pecore.notebook import chapter_probe, stored_probe_dir
from pecore.pipeline import score_network
from pecore.presets import get_preset
from pecore.probe_result import load_probe_result
from pecore.rescore import rescore

VARIANTS = ["default", "log-derivative", "fhat-peak-activation", "oriented-mean-stimulus", "barten-csf", "mu2-circular"]


@pytest.fixture(scope="module")
def fresh(alexnet):
    return score_network(alexnet, "ci", progress=False)


@pytest.fixture(scope="module")
def saved(fresh, tmp_path_factory):
    return fresh.save(tmp_path_factory.mktemp("probe"))


def _same(a: pd.DataFrame, b: pd.DataFrame, atol: float = 0.0) -> None:
    for col in ("mu1", "mu2", "pe", "theta_hat"):
        assert np.allclose(a[col], b[col], rtol=0, atol=atol, equal_nan=True), col
    assert np.allclose(a.fhat, b.fhat, rtol=1e-6, equal_nan=True)


@pytest.mark.parametrize("variant", VARIANTS)
def test_rescore_equals_a_fresh_probe_with_that_scoring(alexnet, fresh, variant):
    direct = score_network(alexnet, "ci", variant, progress=False).table
    again = rescore(fresh, variant)
    _same(again.table, direct)
    assert (again.table["rank"] == direct["rank"]).all()
    assert again.provenance["parameters"]["score_config"] == score_network(
        alexnet, "ci", variant, progress=False).provenance["parameters"]["score_config"]


@pytest.mark.parametrize("variant", ["default", "log-derivative", "oriented-mean-stimulus"])
def test_rescore_from_a_saved_folder_equals_the_fresh_one(fresh, saved, variant):
    _same(rescore(saved, variant).table, rescore(fresh, variant).table, atol=1e-4)


def test_store_records_and_verifies_checksums(saved, tmp_path):
    prov = json.loads((saved / "provenance.json").read_text())
    assert set(prov["store"]["sha256"]) == {"pe_table.csv", "sweeps.npz"}
    copy = Path(shutil.copytree(saved, tmp_path / "copy"))
    data = (copy / "sweeps.npz").read_bytes()
    (copy / "sweeps.npz").write_bytes(data[: len(data) // 2])  # truncated
    with pytest.raises(DatasetError, match="sweeps.npz does not match the sha256"):
        load_probe_result(copy)
    shutil.copy(saved / "sweeps.npz", copy / "sweeps.npz")
    table = pd.read_csv(copy / "pe_table.csv")
    table.loc[0, "pe"] = 0.5
    table.to_csv(copy / "pe_table.csv", index=False)
    with pytest.raises(DatasetError, match="pe_table.csv does not match the sha256"):
        rescore(copy, "default")


def _with_provenance(saved: Path, tmp_path: Path, **changes) -> Path:
    copy = Path(shutil.copytree(saved, tmp_path / "edited"))
    prov = json.loads((copy / "provenance.json").read_text())
    for key, value in changes.items():
        prov[key] = value
    (copy / "provenance.json").write_text(json.dumps(prov))
    return copy


def test_another_network_grid_or_major_version_is_refused(saved, tmp_path):
    with pytest.raises(DatasetError, match="probe of alexnet, not of vgg16"):
        load_probe_result(saved, network="vgg16")
    with pytest.raises(DatasetError, match="another grid.*size 48 vs 224"):
        load_probe_result(saved, grid=get_preset("paper").probe.as_dict())
    assert load_probe_result(saved, grid=get_preset("ci", batch_size=7).probe.as_dict()).table.shape[0] == 1152
    with pytest.raises(DatasetError, match="another major version"):
        load_probe_result(_with_provenance(saved, tmp_path, pecore_version="99.0.0"))


def test_a_store_without_the_cube_is_refused(saved, tmp_path):
    with pytest.raises(DatasetError, match="older pecore without the frequency × orientation cube"):
        load_probe_result(_with_provenance(saved, tmp_path, store={}))


def test_probe_command_rescore(saved, tmp_path, capsys):
    out = tmp_path / "barten"
    assert main(["probe", "--rescore", str(saved), "--csf", "barten", "--variant", "log-derivative",
                 "--out", str(out)]) == 0
    assert "no probe" in capsys.readouterr().out
    back = load_probe_result(out)
    assert back.provenance["parameters"]["score_config"]["csf"] == "barten"
    assert back.provenance["rescored_from"] == str(saved)
    _same(back.table, rescore(saved, ["log-derivative", "barten-csf"]).table, atol=1e-6)
    for extra, named in ((["--ppd", "30"], "--ppd"), (["--preset", "paper"], "--preset"), (["--device", "cpu"], "--device")):
        assert main(["probe", "--rescore", str(saved), *extra, "--out", str(tmp_path / "no")]) == 2
        err = capsys.readouterr().err
        assert named in err and "--rescore" in err and len(err.strip().splitlines()) == 1
    assert main(["probe", "--rescore", str(saved), "--net", "vgg16", "--out", str(tmp_path / "no")]) == 2
    assert "not of vgg16" in capsys.readouterr().err
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("network", ["vgg16", "alexnet"])
def test_stored_paper_probe_rescored_gives_its_own_table(network):
    folder = stored_probe_dir(network, "paper")
    stored = load_probe_result(folder, network=network, grid=get_preset("paper").probe.as_dict())
    again = rescore(stored, "default").table
    _same(again, stored.table, atol=1e-4)  # the cube is stored in 16 bits per tuning curve
    # the 16-bit cube keeps every ranking, up to channels whose PE agree to 1e-5 (near-ties may swap)
    moved = again["rank"] != stored.table["rank"]
    for (layer, rank), group in stored.table[moved].groupby(["layer", "rank"]):
        partner = again[(again.layer == layer) & (again["rank"] == rank)]
        assert abs(float(partner.pe.iloc[0]) - float(group.pe.iloc[0])) < 1e-5, (layer, rank)
    assert moved.mean() < 0.01


def test_chapters_rescore_stored_sweeps_for_another_csf_and_probe_only_for_another_ppd():
    barten = chapter_probe("alexnet", "ci", csf="barten")
    assert barten.provenance["stored"] and barten.provenance["preset"] == "paper"
    assert barten.provenance["parameters"]["score_config"]["csf"] == "barten"
    other_ppd = chapter_probe("alexnet", "ci", ppd=90)
    assert not other_ppd.provenance["stored"] and "ppd 90" in other_ppd.provenance["stored_reason"]
    assert other_ppd.provenance["parameters"]["probe_grid"]["size"] == 48


def test_rescore_refuses_what_is_not_a_probe():
    with pytest.raises(ParameterError, match="ProbeResult or a probe folder"):
        rescore(42, "default")
    with pytest.raises(DatasetError, match="does not exist"):
        rescore("no/such/folder", "default")


def test_rescore_folder_inputs_missing_file_empty_truncated(saved, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    a_file = tmp_path / "pe_table.csv"
    a_file.write_text("layer,channel,pe\n")
    truncated = Path(shutil.copytree(saved, tmp_path / "truncated"))
    data = (truncated / "sweeps.npz").read_bytes()
    (truncated / "sweeps.npz").write_bytes(data[:1000])
    cases = {tmp_path / "missing": "does not exist", a_file: "is a file, not a folder",
             empty: "missing pe_table.csv, sweeps.npz, provenance.json", truncated: "sweeps.npz does not match the sha256"}
    for folder, message in cases.items():
        out = tmp_path / "out"
        assert main(["probe", "--rescore", str(folder), "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and message in err, err
        assert not out.exists()
    assert main(["probe", "--rescore", str(saved), "--variant", "no-such", "--out", str(tmp_path / "out")]) == 2
    assert "no-such" in capsys.readouterr().err and not (tmp_path / "out").exists()
    assert main(["probe", "--rescore", str(saved), "--out", str(saved)]) == 2
    assert "the --rescore folder itself" in capsys.readouterr().err


def test_fhat_at_the_grid_edges_is_counted_from_the_stored_probe():
    probed = load_probe_result(stored_probe_dir("vgg16"))
    edges = probed.fhat_at_grid_edges()
    live = probed.table[~probed.table.dead.astype(bool)]
    deep = live[live.layer == "relu5_3"]
    assert edges.loc["relu5_3", "live"] == len(deep)
    assert edges.loc["relu5_3", "at lowest"] == int((deep.fhat == deep.fhat.min()).sum()) == 85  # 0.5 cpd
    assert edges.loc["relu5_3", "at highest"] == int((deep.fhat >= 30.0 - 1e-9).sum())
    # another scoring re-reads the same sweeps: the same live channels per layer
    flat = rescore(probed, "no-csf").fhat_at_grid_edges()
    assert list(flat.index) == list(edges.index) and (flat["live"] == edges["live"]).all()
