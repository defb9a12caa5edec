"""`studio train --fine-tune N --unfreeze-top K --fine-tune-lr-factor F --no-cache-features`."""

from __future__ import annotations

import json
from pathlib import Path

from studio.cli import main
from studio.training import runs
from tests.training.test_commands import project  # noqa: F401 - the fixture: a copy of the iris example


def test_fine_tune_flags_reach_the_run_and_a_network_without_base_trains_in_one_phase(project, capsys):  # noqa: F811 - the imported fixture
    code = main(["train", str(project), "--epochs", "2", "--fine-tune", "1", "--unfreeze-top", "4",
                 "--fine-tune-lr-factor", "0.05", "--no-cache-features", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    end = [json.loads(line) for line in out.splitlines() if line.strip()][-1]
    record = runs.load_config(Path(end["run_dir"]))
    assert record["training"]["fine_tune"] == {"enabled": True, "head_epochs": 1, "unfreeze_top": 4,
                                               "lr_factor": 0.05}
    assert record["training"]["cache_features"] is False
    assert "no pretrained base" in err and "phases" not in record


def test_a_head_phase_as_long_as_the_run_is_refused_in_one_line(project, capsys):  # noqa: F811 - the imported fixture
    assert main(["train", str(project), "--epochs", "2", "--fine-tune", "2"]) == 1
    err = capsys.readouterr().err.strip()
    assert "fine_tune.head_epochs" in err and "more epochs" in err and len(err.splitlines()) == 1
