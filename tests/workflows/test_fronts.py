"""Both fronts go through the same workflow function: `studio <command>` and the window's
training panel reach `studio.workflows.*`, shown by replacing the workflow function with a
recorder and driving each front. No TensorFlow runs here."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from studio.cli import main
from studio.training.reports import RunResult
from studio.workflows import check, data, evaluate, export, importing, train

EXAMPLE = Path(__file__).resolve().parents[2] / "projects" / "iris-mlp.studio.json"


@pytest.fixture
def iris(tmp_path) -> Path:
    if not EXAMPLE.is_file():
        pytest.skip("the bundled iris example is missing")
    path = tmp_path / "iris.studio.json"
    shutil.copy(EXAMPLE, path)
    return path


class FakeSession:
    """Stands in for a TrainingSession: finishes at once, as completed."""

    is_paused = False
    stop_requested = False

    def run(self) -> RunResult:
        return RunResult(status="completed", message="1 epoch", epochs_done=1)

    def request_stop(self, reason: str = "user") -> None:
        self.stop_requested = True

    def pause(self) -> None:
        pass

    def resume(self) -> None:
        pass


@pytest.fixture
def sessions(monkeypatch):
    calls = []

    def make_session(project, reporter=None, **options):
        calls.append((project.name, options["config"].epochs))
        return FakeSession()

    monkeypatch.setattr(train, "make_session", make_session)
    return calls


EVALUATION = {"run": "r1", "model": "best", "samples": 30, "keras": {"loss": 0.25}}


@pytest.fixture
def evaluations(monkeypatch):
    calls = []

    def evaluate_run(project, run=None, which="best", **hooks):
        calls.append((project.name, getattr(run, "id", run), which))
        return dict(EVALUATION)

    monkeypatch.setattr(evaluate, "evaluate_run", evaluate_run)
    return calls


# --- train ------------------------------------------------------------------------------
def test_studio_train_goes_through_workflows_train(iris, sessions, capsys):
    assert main(["train", str(iris), "--epochs", "4"]) == 0
    assert sessions == [("Iris MLP", 4)]
    assert "Completed: 1 epoch" in capsys.readouterr().out


def test_the_panels_train_button_goes_through_workflows_train(iris, sessions, qtbot, tmp_path):
    from tests.ui.training.conftest import iris_panel

    panel = iris_panel(qtbot, tmp_path, epochs=2)
    with qtbot.waitSignal(panel.runner.finished, timeout=30_000) as blocker:
        assert panel.train()
    assert blocker.args[0].status == "completed"
    assert sessions == [("Iris MLP", 2)]
    panel.shutdown()


# --- evaluate ---------------------------------------------------------------------------
def test_studio_evaluate_goes_through_workflows_evaluate(iris, evaluations, capsys):
    assert main(["evaluate", str(iris), "--run", "r1", "--final"]) == 0
    assert evaluations == [("Iris MLP", "r1", "final")]
    assert "Run r1 (best model), 30 test samples" in capsys.readouterr().out


def test_the_panels_evaluate_goes_through_workflows_evaluate(iris, evaluations, qtbot, tmp_path, monkeypatch):
    from studio.training import runs
    from tests.ui.training.conftest import iris_panel

    panel = iris_panel(qtbot, tmp_path)
    run = runs.RunInfo(id="r1", path=tmp_path, status="completed")
    monkeypatch.setattr(runs, "latest_run", lambda _root: run)
    with qtbot.waitSignal(panel.eval_runner.done, timeout=30_000):
        assert panel.evaluate_selected()
    assert evaluations == [("Iris MLP", "r1", "best")]
    assert panel.evaluation.evaluation == EVALUATION
    panel.shutdown()


# --- export, import, check, data: the commands --------------------------------------------
def test_studio_export_goes_through_workflows_export(iris, tmp_path, monkeypatch, capsys):
    calls = []

    def export_project(project, fmt, path, *, run=None, which="final", progress=None, cancel=None, step=None):
        calls.append((project.name, fmt, Path(path).name, run, which))
        progress("note: from the workflow")
        return SimpleNamespace(notes=[], files=[Path(path)], path=Path(path), report_path=Path(f"{path}.verify.json"),
                               max_abs_diff=0.0, tolerance=1e-6)

    monkeypatch.setattr(export, "export_project", export_project)
    assert main(["export", str(iris), "-f", "keras", "-o", str(tmp_path / "m.keras"), "--best"]) == 0
    assert calls == [("Iris MLP", "keras", "m.keras", None, "best")]
    out, err = capsys.readouterr()
    assert f"Exported {tmp_path / 'm.keras'}" in out and "note: from the workflow" in err


def test_studio_import_goes_through_workflows_importing(tmp_path, monkeypatch, capsys):
    calls = []

    def import_model(model, output, *, overwrite=False, progress=None, cancel=None, step=None):
        calls.append((Path(model).name, Path(output).name, overwrite))
        return SimpleNamespace(layers=3, opaque=0, params=10, max_abs_diff=0.0,
                               project_path=Path(output), weights_path=tmp_path / "p.weights.h5")

    monkeypatch.setattr(importing, "import_model", import_model)
    assert main(["import", str(tmp_path / "m.keras"), "-o", str(tmp_path / "p.studio.json"), "--force"]) == 0
    assert calls == [("m.keras", "p.studio.json", True)]
    assert "Imported 3 layers, 10 parameters" in capsys.readouterr().out


def test_studio_check_goes_through_workflows_check(iris, monkeypatch, capsys):
    calls = []
    real = check.check_project

    def check_project(project, *, data=True):
        calls.append((project.name, data))
        return real(project, data=data)

    monkeypatch.setattr("studio.commands.check_cmd.check_project", check_project)
    assert main(["check", str(iris), "--no-data"]) == 0
    assert calls == [("Iris MLP", False)]
    assert capsys.readouterr().out.rstrip().endswith("OK")


def test_studio_data_goes_through_workflows_data(monkeypatch, capsys):
    calls = []
    real = data.describe_file

    def describe_file(file, **options):
        calls.append((file, options.get("targets")))
        return real(file, **options)

    monkeypatch.setattr(data, "describe_file", describe_file)
    assert main(["data", "iris", "--json"]) == 0
    assert calls == [("iris", None)]
    assert '"ok": true' in capsys.readouterr().out


def test_studio_new_goes_through_workflows_new(tmp_path, monkeypatch, capsys):
    from studio.workflows import new

    calls = []
    real = new.create_project

    def create_project(path, template="mlp", *, force=False):
        calls.append((Path(path).name, template, force))
        return real(path, template, force=force)

    monkeypatch.setattr("studio.commands.new_cmd.create_project", create_project)
    assert main(["new", str(tmp_path / "demo"), "--template", "cnn"]) == 0
    assert calls == [("demo", "cnn", False)]
    assert capsys.readouterr().out.startswith(f"created {tmp_path / 'demo.studio.json'} from template 'cnn'")
