"""Dataset loaders: the shared real data, small fixtures in each native layout (made from real images), errors."""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from conftest import data_path
from pecore.errors import DatasetError, UnknownNameError
from pecore.iqa.datasets import (FRDataset, MissingImagesWarning, TwoAFCDataset, detect_layout, load_csiq,
                                 load_dataset, load_kadid10k, load_live, load_tid2013)

LIVE = ("iqa", "live-r2-subset")


def _live_file(*parts):
    return data_path(*LIVE, "databaserelease2", *parts)


def test_shared_live_subset():
    ds = load_dataset(data_path(*LIVE))
    table = pd.read_csv(data_path(*LIVE, "scores.csv"))
    assert isinstance(ds, FRDataset) and ds.layout == "live" and len(ds) == ds.n_listed == 95
    assert not ds.higher_is_better and ds.pairs.group.nunique() == 5
    assert np.allclose(ds.human_scores, table.score) and set(ds.pairs.distortion) == {"jpeg", "gblur", "wn", "fastfading"}
    ref, dist = ds.load_pair(0, size=64)
    assert ref.shape == dist.shape and min(ref.shape[1:]) == 64


def test_shared_tid2013_subset():
    ds = load_tid2013(data_path("iqa", "tid2013-subset"))
    assert len(ds) == 6 and ds.higher_is_better and ds.pairs.loc[1, "score"] == pytest.approx(0.7)
    assert list(ds.pairs.group) == ["I01", "I03", "I04", "I06", "I08", "I19"]


def test_tid2013_missing_images_are_counted(tmp_path):
    src = data_path("iqa", "tid2013-subset")
    shutil.copytree(src, tmp_path / "tid")
    (tmp_path / "tid" / "distorted_images" / "i03_11_5.bmp").unlink()
    with pytest.warns(MissingImagesWarning, match="1 of 6"):
        ds = load_dataset(tmp_path / "tid")
    assert len(ds) == 5 and ds.n_listed == 6 and ds.missing == ["distorted_images/i03_11_5.bmp"]
    assert "5 of 6 listed pairs present" in ds.summary()


def test_live_native_mat_layout(tmp_path):
    from scipy.io import savemat

    base = tmp_path / "live" / "databaserelease2"
    (base / "refimgs").mkdir(parents=True)
    shutil.copy(_live_file("refimgs", "parrots.bmp"), base / "refimgs" / "parrots.bmp")
    for folder, k in (("jpeg", 1), ("wn", 2), ("wn", 3)):
        (base / folder).mkdir(exist_ok=True)
        shutil.copy(_live_file("wn", "img1.bmp") if folder == "wn" else _live_file("jpeg", "img43.bmp"),
                    base / folder / f"img{k}.bmp")
    dmos = np.arange(982, dtype=float)
    orgs = np.zeros(982)
    orgs[227 + 233 + 2] = 1  # wn img3 is a reference copy: not a distorted image
    names = np.empty((1, 982), dtype=object)
    names[:] = "parrots.bmp"
    savemat(base / "dmos_realigned.mat", {"dmos_new": dmos[None], "orgs": orgs[None], "dmos_std": np.ones((1, 982))})
    savemat(base / "refnames_all.mat", {"refnames_all": names})
    assert detect_layout(tmp_path / "live") == "live"
    with pytest.warns(MissingImagesWarning):
        ds = load_live(tmp_path / "live")
    assert ds.n_listed == 981 and len(ds) == 2 and not ds.higher_is_better
    assert ds.pairs.dist.str.endswith(("jpeg/img1.bmp", "wn/img2.bmp")).all()
    assert ds.pairs.score.tolist() == [227.0, 461.0]  # jpeg offset 227, wn offset 460 (0-based entries)


def test_csiq_layout(tmp_path):
    root = tmp_path / "csiq"
    for d in ("src_imgs", "dst_imgs/awgn", "dst_imgs/jpeg2000"):
        (root / d).mkdir(parents=True)
    shutil.copy(_live_file("refimgs", "parrots.bmp"), root / "src_imgs" / "parrots.png")
    shutil.copy(_live_file("wn", "img1.bmp"), root / "dst_imgs" / "awgn" / "parrots.AWGN.1.png")
    shutil.copy(_live_file("jpeg", "img43.bmp"), root / "dst_imgs" / "jpeg2000" / "parrots.jpeg2000.2.png")
    pd.DataFrame({"image": ["parrots", "parrots", "parrots"], "dst_idx": [1, 3, 1], "dst_type": ["noise", "jpeg 2000", "blur"],
                  "dst_lev": [1, 2, 1], "dmos": [0.1, 0.3, 0.2]}).to_csv(root / "csiq.DMOS.csv", index=False)
    with pytest.warns(MissingImagesWarning, match="1 of 3"):
        ds = load_dataset(root)
    assert ds.layout == "csiq" and len(ds) == 2 and not ds.higher_is_better
    assert ds.pairs.distortion.tolist() == ["awgn", "jpeg2000"] and ds.pairs.score.tolist() == [0.1, 0.3]


def test_kadid_layout(tmp_path):
    root = tmp_path / "kadid"
    (root / "images").mkdir(parents=True)
    shutil.copy(_live_file("refimgs", "parrots.bmp"), root / "images" / "I01.png")
    shutil.copy(_live_file("wn", "img1.bmp"), root / "images" / "I01_09_03.png")
    pd.DataFrame({"dist_img": ["I01_09_03.png"], "ref_img": ["I01.png"], "dmos": [3.2], "var": [0.5]}).to_csv(
        root / "dmos.csv", index=False)
    ds = load_dataset(root)
    assert ds.layout == "kadid10k" and ds.higher_is_better and ds.pairs.loc[0, "distortion"] == 9
    assert ds.pairs.loc[0, "level"] == 3 and ds.pairs.loc[0, "group"] == "I01"


def test_bapps_layout(tmp_path):
    root = tmp_path / "2afc"
    for d in ("ref", "p0", "p1", "judge"):
        (root / d).mkdir(parents=True)
    for i in range(3):
        for d, src in (("ref", "refimgs/parrots.bmp"), ("p0", "wn/img1.bmp"), ("p1", "jpeg/img43.bmp")):
            if not (d == "p1" and i == 2):
                shutil.copy(_live_file(*src.split("/")), root / d / f"{i:06d}.png")
        np.save(root / "judge" / f"{i:06d}.npy", np.array([0.25 * i]))
    with pytest.warns(MissingImagesWarning):
        ds = load_dataset(root)
    assert isinstance(ds, TwoAFCDataset) and len(ds) == 2 and ds.n_listed == 3
    assert ds.triplets.judge.tolist() == [0.0, 0.25]


def test_generic_layout_and_errors(tmp_path):
    root = tmp_path / "generic"
    root.mkdir()
    shutil.copy(_live_file("refimgs", "parrots.bmp"), root / "r.bmp")
    shutil.copy(_live_file("wn", "img1.bmp"), root / "d.bmp")
    pd.DataFrame({"ref": ["r.bmp"], "dist": ["d.bmp"], "score": [4.0], "higher_is_better": ["true"]}).to_csv(
        root / "scores.csv", index=False)
    ds = load_dataset(root)
    assert ds.layout == "generic" and ds.higher_is_better and len(ds) == 1
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(tmp_path / "nowhere")
    with pytest.raises(UnknownNameError, match="unknown dataset layout 'tid2008'"):
        load_dataset(root, "tid2008")
    with pytest.raises(DatasetError, match="cannot tell the layout"):
        load_dataset(_empty(tmp_path))
    (root / "scores.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DatasetError, match="must have columns ref, dist, score"):
        load_dataset(root, "generic")
    (root / "scores.csv").write_bytes(b"\x00\xff\xfe garbage \x00\n\x01")
    with pytest.raises(DatasetError):
        load_dataset(root, "generic")
    pd.DataFrame({"ref": ["x.bmp"], "dist": ["y.bmp"], "score": [1.0], "higher_is_better": [False]}).to_csv(
        root / "scores.csv", index=False)
    with pytest.raises(DatasetError, match="none of the 1 pairs"):
        load_dataset(root)
    with pytest.raises(DatasetError, match="TID2013 score table"):
        load_tid2013(root)
    with pytest.raises(DatasetError, match="KADID-10k score table"):
        load_kadid10k(root)
    with pytest.raises(DatasetError, match="CSIQ score table"):
        load_csiq(root)


def _empty(tmp_path):
    d = tmp_path / "empty"
    d.mkdir()
    return d
