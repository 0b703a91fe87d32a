"""Shared fixtures: the real datasets in ../shared/data and the real pretrained networks."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("PECORE_DATA", ROOT.parent / "shared" / "data"))

torch.set_num_threads(int(os.environ.get("PECORE_TEST_THREADS", max(1, min(2, os.cpu_count() or 1)))))


def data_path(*parts: str) -> Path:
    """A path under the shared data folder; fails (never skips) with a clear message if missing."""
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"test data {path} is missing: the tests need ../shared/data beside the clone "
                    f"(or PECORE_DATA pointing at it)")
    return path


def full_disk_at(monkeypatch: pytest.MonkeyPatch, when) -> None:
    """Make pecore's atomic writes fail as on a full disk for every path where ``when(path)`` is true."""
    import pecore.cache
    from pecore.errors import OutputError

    real = pecore.cache.atomic_write_bytes

    def write(path, data):
        if when(Path(path)):
            raise OutputError(f"cannot write {path}: No space left on device")
        return real(path, data)

    monkeypatch.setattr(pecore.cache, "atomic_write_bytes", write)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return data_path()


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    os.environ["PECORE_CACHE"] = str(tmp_path_factory.mktemp("pecore-cache"))


@pytest.fixture(scope="session")
def vgg16():
    from pecore import load_network

    return load_network("vgg16", device="cpu")


@pytest.fixture(scope="session")
def alexnet():
    from pecore import load_network

    return load_network("alexnet", device="cpu")
