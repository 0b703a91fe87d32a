"""pecore data: the registry matches the real data folder, check finds changed and missing files, fetch downloads
from a loopback server (never the internet), unpacks, checks, and leaves the data folder untouched on failure."""
from __future__ import annotations

import functools
import http.server
import shutil
import threading
import zipfile
from pathlib import Path

import pytest

from conftest import data_path
from pecore.cli import main
from pecore.data import DATASETS, check, fetch, registry
from pecore.errors import DatasetError


@pytest.fixture()
def tid_zip(tmp_path):
    """A zip of the real TID2013 subset, files at the archive's root."""
    folder = data_path("iqa", "tid2013-subset")
    archive = tmp_path / "served" / "tid.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as z:
        for rel in registry()["tid2013-subset"]:
            z.write(folder / rel, rel)
    return archive


@pytest.fixture()
def server(tid_zip, monkeypatch, tmp_path):
    """An HTTP server on loopback serving the zip's folder; pooch's cache in a temporary folder."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tid_zip.parent))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_the_registry_is_the_data_folder(capsys):
    for name in DATASETS:
        assert check(name).ok, check(name).line()
    assert main(["data", "check"]) == 0
    assert "files match" in capsys.readouterr().out
    assert not [rel for rel in registry()["sr"] if rel.startswith("Set14") and "img_009" in rel]


def test_check_names_missing_and_changed_files(tmp_path, capsys):
    copy = tmp_path / "iqa" / "tid2013-subset"
    shutil.copytree(data_path("iqa", "tid2013-subset"), copy)
    (copy / "mos_with_names.txt").write_text((copy / "mos_with_names.txt").read_text() + "\n")
    (copy / "reference_images" / "I01.BMP").unlink()
    result = check("tid2013-subset", tmp_path)
    assert result.changed == ["mos_with_names.txt"] and result.missing == ["reference_images/I01.BMP"]
    assert main(["data", "check", "tid2013-subset", "--root", str(tmp_path)]) == 1
    assert "1 missing (e.g. reference_images/I01.BMP), 1 changed" in capsys.readouterr().out


def test_fetch_from_a_loopback_server_unpacks_and_checks(server, tid_zip, tmp_path, capsys):
    root = tmp_path / "data"
    url = f"{server}/tid.zip"
    assert main(["data", "fetch", "tid2013-subset", "--url", url, "--root", str(root), "--quiet"]) == 0
    assert "15 files match" in capsys.readouterr().out and check("tid2013-subset", root).ok
    # a second fetch reads pooch's cache: the server is not needed any more
    assert fetch("tid2013-subset", root, url=url, progress=False).ok
    # a local archive works as well
    assert fetch("tid2013-subset", tmp_path / "data2", url=str(tid_zip), progress=False).ok



def test_fetch_into_a_new_folder_named_by_pecore_data(tid_zip, tmp_path, monkeypatch, capsys):
    """A user with no data folder sets PECORE_DATA to a folder that does not exist yet: fetch makes it."""
    new = tmp_path / "my-datasets"
    monkeypatch.setenv("PECORE_DATA", str(new))
    assert main(["data", "fetch", "tid2013-subset", "--url", str(tid_zip), "--quiet"]) == 0
    assert "15 files match" in capsys.readouterr().out and check("tid2013-subset").ok
    assert (new / "iqa" / "tid2013-subset" / "mos_with_names.txt").is_file()


def test_fetch_failures_are_one_line_and_leave_the_folder_as_it_was(server, tid_zip, tmp_path):
    root = tmp_path / "data"
    with pytest.raises(DatasetError, match="could not download http://127.0.0.1:1/x.zip"):
        fetch("tid2013-subset", root, url="http://127.0.0.1:1/x.zip", progress=False)
    with pytest.raises(DatasetError, match="sha256"):
        fetch("tid2013-subset", root, url=f"{server}/tid.zip", sha256="0" * 64, progress=False)
    partial = tmp_path / "partial.zip"
    with zipfile.ZipFile(tid_zip) as src, zipfile.ZipFile(partial, "w") as dst:
        for item in src.infolist()[:-1]:
            dst.writestr(item, src.read(item))
    with pytest.raises(DatasetError, match="does not hold tid2013-subset as expected: .*1 missing"):
        fetch("tid2013-subset", root, url=str(partial), progress=False)
    assert not (root / "iqa" / "tid2013-subset").exists()
    with pytest.raises(DatasetError, match="distributed by its authors"):
        fetch("live-r2-subset", root, progress=False)
    with pytest.raises(SystemExit):  # argparse names the allowed datasets
        main(["data", "fetch", "no-such-set"])
