"""The lab's ipywidgets channel explorer: real stored probes, driven in a real kernel as a student would."""
from __future__ import annotations

import sys

import nbformat
import pytest
from nbclient import NotebookClient

from pecore import load_probe_result, rescore
from pecore.errors import ParameterError, PecoreError
from pecore.lab import ExplorerData, channel_explorer, describe
from pecore.notebook import stored_probe_dir

@pytest.fixture(scope="module")
def data():
    return ExplorerData()


def test_profiles_are_the_rescored_stored_probe(data):
    table = rescore(load_probe_result(stored_probe_dir("alexnet")), "barten-csf").layer("relu2")
    best = int(table["rank"].idxmin())
    p = data.profile("alexnet", "barten-csf", "relu2", by="rank", value=1)
    assert p.channel == best and p.rank == 1
    assert p.pe == pytest.approx(float(table.pe.max()))
    q = data.profile("alexnet", "default", "relu2", value=best)
    assert q.config.csf == "mannos-sakrison" and p.config.csf == "barten"
    assert data.result("alexnet", "barten-csf") is data.result("alexnet", "barten-csf")  # scored once
    full = data.result("alexnet").table
    silent = full[~full.dead.astype(bool) & ~(full.a_hat > 0)].iloc[0]  # answers radial gratings only
    p = data.profile("alexnet", "default", silent.layer, value=int(silent.channel))
    assert "answers no straight grating at f̂, so μ2 = PE = 0 and no θ̂" in describe(p, 384)


@pytest.mark.parametrize("call, message", [
    (lambda d: d.result("resnet50"), "network"),
    (lambda d: d.result("vgg16", "barten"), "score variant"),
    (lambda d: d.profile("vgg16", "default", "relu9_9"), "layer"),
    (lambda d: d.profile("vgg16", "default", "relu1_2", by="rank", value=0), "rank must be an integer in 1..64"),
    (lambda d: d.profile("vgg16", "default", "relu1_2", value=64), "channel must be an integer in 0..63"),
    (lambda d: d.profile("vgg16", "default", "relu1_2", by="PE", value=1), "by"),
])
def test_bad_choices_are_named(data, call, message):
    with pytest.raises(PecoreError, match=message):
        call(data)


def test_bad_arguments_are_refused_before_any_widget(data, monkeypatch):
    with pytest.raises(ParameterError, match="channel must be an integer in 0..191"):
        channel_explorer("alexnet", "relu2", 192, data=data)
    with pytest.raises(PecoreError, match="layer"):
        channel_explorer("alexnet", "relu2_2", data=data)
    with pytest.raises(ParameterError, match="folders must map"):
        ExplorerData({})
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    with pytest.raises(ParameterError, match=r"needs ipywidgets: pip install -e '\.\[lab\]'"):
        channel_explorer(data=data)


DRIVE = '''
from pecore.lab import channel_explorer
w = channel_explorer("alexnet", "relu2", 17, variant="barten-csf")
net, score = w.children[0].children
lay, by = w.children[1].children
pick, out = w.children[2], w.children[3]
seen = []
def note(): seen.append((out.outputs[-1]["data"]["text/markdown"], sorted(out.outputs[0]["data"]), pick.min, pick.max,
                         pick.value))
note()
by.value = "rank"; note()
net.value = "vgg16"; note()
lay.value = "relu5_3"; pick.value = 512; note()
by.value = "channel"; note()
score.value = "mu2-circular"; note()
print(repr(seen))
'''


def test_widget_follows_every_control_in_a_kernel():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(DRIVE)])
    NotebookClient(nb, kernel_name="python3", timeout=300).execute()
    seen = eval(nb.cells[0].outputs[-1]["text"])  # noqa: S307 - our own repr of strings and ints
    first, as_rank, other_net, deepest, back, rescored = seen
    table = rescore(load_probe_result(stored_probe_dir("alexnet")), "barten-csf").layer("relu2")
    rank17 = int(table.loc[17, "rank"])
    assert first[0].startswith("alexnet relu2 channel 17: μ1 = ") and f"PE rank {rank17} of 192" in first[0]
    assert "image/png" in first[1] and first[2:] == (0, 191, 17)
    assert as_rank[2:] == (1, 192, rank17) and "channel 17:" in as_rank[0]  # the same channel, now by its rank
    assert other_net[0].startswith("vgg16 relu1_2 channel") and other_net[3] == 64
    vgg = rescore(load_probe_result(stored_probe_dir("vgg16")), "barten-csf").layer("relu5_3")
    last = int(vgg.index[vgg["rank"].to_numpy() == 512][0])
    assert f"relu5_3 channel {last}:" in deepest[0] and "PE rank 512 of 512" in deepest[0]
    assert back[2:] == (0, 511, last)
    assert "scoring: mu2-circular" in rescored[0] and f"channel {last}:" in rescored[0]
    assert bool(vgg.loc[last, "dead"]) == ("dead (no response to any grating)" in deepest[0])


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, proc, log, deadline: float) -> bytes:
    """GET ``url`` once the server answers; fails at once, with the server's log, if it exits or never answers."""
    import time
    import urllib.request

    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read()
        except OSError as exc:  # not listening yet (URLError, ConnectionError, a read timeout)
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"make lab did not serve {url} ({exc}); its output:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)


def test_make_lab_serves_the_notebooks_on_loopback(tmp_path):
    """`make lab` as a reader runs it. Here and in CI the tests run as root, where Jupyter starts only when
    `--allow-root` is passed: the server answering shows the target passes it."""
    import json
    import os
    import signal
    import subprocess
    import time

    from pecore.notebook import REPO_ROOT

    port, token = _free_port(), "pecore-test-token"
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "ws"))
    log_path = tmp_path / "lab.log"
    log = log_path.open("w")
    proc = subprocess.Popen(["make", "--no-print-directory", "lab", f"VENV={os.path.dirname(os.path.dirname(sys.executable))}",
                             f"LAB_ARGS=--port {port} --no-browser --token {token}"],
                            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 240  # the make target first checks the lab extra is installed
        base = f"http://127.0.0.1:{port}"
        contents = json.loads(_get(f"{base}/api/contents?token={token}", proc, log_path, deadline))
        names = {item["name"] for item in contents["content"]}
        assert {"01_frequency.ipynb", "08_exercises.ipynb"} <= names
        page = _get(f"{base}/lab?token={token}", proc, log_path, deadline).decode()
        assert "JupyterLab" in page
        assert proc.poll() is None
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def test_lab_command_refuses_bad_arguments_by_name(tmp_path):
    from pecore.lab_command import lab_argv

    with pytest.raises(ParameterError, match="notebook folder .* does not exist"):
        lab_argv(tmp_path / "missing")
    (tmp_path / "notes.txt").write_text("")
    with pytest.raises(ParameterError, match="notebook folder .* is a file, not a folder"):
        lab_argv(tmp_path / "notes.txt")
    with pytest.raises(ParameterError, match="port must be an integer"):
        lab_argv(tmp_path, port=70000)
    with pytest.raises(ParameterError, match="token is empty"):
        lab_argv(tmp_path, token=" ")
    assert lab_argv(tmp_path, uid=0)[-1] == "--allow-root"
    assert "--allow-root" not in lab_argv(tmp_path, uid=1000)
