"""Two inputs, two outputs: the example project trains through `studio train`, each output on its
own target with its own loss and metrics, and `studio evaluate --json` reports each output.

Threshold (the example on its bundled table, 15 epochs, seed 0): the class head's test accuracy
above 0.8 and the number head's test MAE below half the MAE of always predicting the training
mean (the naive predictor; about 8 on this table)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from studio.cli import main
from studio.core.errors import TrainingError
from studio.project import load_project, save_project
from studio.workflows import evaluate, train

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "projects" / "two-heads.studio.json"
TABLE = ROOT / "resources" / "datasets" / "two_heads.csv"


def copy_example(tmp_path: Path) -> Path:
    project = load_project(EXAMPLE)  # bound to the bundled sample "two-heads" (TABLE)
    path = tmp_path / "two-heads.studio.json"
    save_project(project, path)
    return path


def naive_mae() -> float:
    with open(TABLE, encoding="utf-8") as fh:
        amounts = [float(row["amount"]) for row in csv.DictReader(fh)]
    mean = sum(amounts) / len(amounts)
    return sum(abs(a - mean) for a in amounts) / len(amounts)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("two_heads")
    path = copy_example(tmp)
    return path, tmp


def test_the_example_trains_each_head_and_evaluate_reports_each_output(trained, capsys):
    path, tmp = trained
    capsys.readouterr()
    assert main(["train", str(path), "--epochs", "15", "--seed", "0", "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    epoch = [r for r in records if r["event"] == "epoch"][-1]
    logs = json.dumps(epoch)
    for name in ("kind_accuracy", "amount_mae", "val_kind_loss", "val_amount_mae"):
        assert name in logs  # each output's own metrics, named OUTPUT_metric
    assert records[-1]["status"] == "completed"
    # The history the plots read keeps every output's curves.
    run = train.find_run(load_project(path), None)
    header = (run.path / "history.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "kind_accuracy" in header and "val_amount_mae" in header

    assert main(["evaluate", str(path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    kind, amount = result["outputs"]["kind"], result["outputs"]["amount"]
    assert kind["task"] == "classification" and kind["class_names"] == ["high", "low", "mid"]
    assert kind["accuracy"] > 0.8, kind["accuracy"]
    assert amount["task"] == "regression"
    assert amount["mae"] < naive_mae() / 2, (amount["mae"], naive_mae())
    assert "y_true" not in kind and "kind_accuracy" in result["keras"]  # --json leaves the samples out
    print("kind accuracy", kind["accuracy"], "amount MAE", amount["mae"], "naive MAE", naive_mae())
    # The evaluation `studio evaluate` wrote is the one the window's Evaluation tab reads back.
    saved = json.loads((run.path / "evaluation.json").read_text(encoding="utf-8"))
    assert saved["outputs"]["kind"]["accuracy"] == pytest.approx(kind["accuracy"])
    assert saved["outputs"]["amount"]["node"] == "amount" and len(saved["outputs"]["amount"]["y_true"]) == 120
    assert evaluate.summary(saved)["outputs"]["amount"]["mae"] == pytest.approx(amount["mae"])
    assert main(["evaluate", str(path)]) == 0  # for people: each output's own table
    text = capsys.readouterr().out
    assert "Output kind (classification):" in text and "Output amount (regression):" in text
    assert f"mae {amount['mae']:.4g}" in text.split("Output amount")[1]


def test_an_input_without_data_is_refused_naming_the_node(tmp_path):
    path = copy_example(tmp_path)
    project = load_project(path)
    project.dataset["inputs"] = project.dataset["inputs"][:1]
    with pytest.raises(TrainingError, match="Input 'features b' has no data; bind columns to it"):
        train.make_session(project)
    project.dataset["inputs"] = [{"node": "features-a", "features": ["a1", "a2", "a3"]},
                                 {"node": "features-b", "features": ["b1", "a3"]}]
    with pytest.raises(TrainingError, match="column 'a3' is bound to 'features a' and to 'features b'"):
        train.make_session(project)
    project.dataset = {"kind": "sample", "path": "two-heads"}
    with pytest.raises(TrainingError, match="2 Input node.*bind columns to each Input"):
        train.make_session(project)


def test_studio_train_names_an_output_without_a_target(tmp_path, capsys):
    path = copy_example(tmp_path)
    project = load_project(path)
    project.dataset["outputs"] = project.dataset["outputs"][:1]
    save_project(project, path)
    assert main(["train", str(path), "--epochs", "1"]) != 0
    err = capsys.readouterr().err
    assert "output 'amount' has no target; bind a column to it" in err and "Traceback" not in err
