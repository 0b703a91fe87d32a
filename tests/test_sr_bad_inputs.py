"""SR commands on damaged files: one named line, exit 2, and a way out (retrain or --restart)."""
from __future__ import annotations

from pecore.cli import main


def _trained(tmp_path):
    assert main(["sr", "train", "--arm", "pixel", "--preset", "ci", "--out", str(tmp_path / "run"), "--data", "Set5",
                 "--quiet"]) == 0
    return tmp_path / "run"


def test_truncated_model_is_a_named_error_in_eval(tmp_path, capsys):
    run = _trained(tmp_path)
    data = (run / "model.pt").read_bytes()
    (run / "model.pt").write_bytes(data[:100])
    capsys.readouterr()
    assert main(["sr", "eval", str(run), "--no-lpips"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "model.pt is unreadable" in err and "--restart" in err


def test_truncated_checkpoint_is_a_named_error_on_resume(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.pt").write_bytes(b"PK\x03\x04 not a whole checkpoint")
    assert main(["sr", "train", "--arm", "pixel", "--preset", "ci", "--out", str(run), "--data", "Set5",
                 "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "checkpoint.pt is unreadable" in err and "--restart" in err
