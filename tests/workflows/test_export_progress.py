"""Import and export report their steps and stop at the next step when cancelled, leaving
nothing behind; `studio import` / `studio export` show a line for each step that takes a while.

The models are tiny (a few Dense units), so TensorFlow's start dominates."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest

from studio.cli import main
from studio.commands import step_line
from studio.commands.step_line import StepLine
from studio.project.io import load_project
from studio.workflows import export, importing
from studio.workflows.hooks import Cancelled


# --- the CLI's step line (no TensorFlow) -----------------------------------------------------
def test_a_step_that_takes_long_enough_gets_one_line_each_in_order():
    out = io.StringIO()
    with StepLine(out, delay=0.0) as step:  # every step "takes long enough"
        step("loading the model")
        step("converting to tflite")
        step("verifying the tflite file")
    assert out.getvalue().splitlines() == ["studio: loading the model…", "studio: converting to tflite…",
                                           "studio: verifying the tflite file…"]


def test_quick_steps_print_nothing():
    out = io.StringIO()
    with StepLine(out, delay=3600.0) as step:
        step("loading the model")
        step("writing model.keras")
    assert out.getvalue() == ""


def test_a_running_step_is_shown_while_it_runs():
    """The line appears while the step is still going (not only when it ends)."""
    out = io.StringIO()
    step = StepLine(out, delay=0.01)
    step("verifying the python file")
    shown = threading.Event()

    def look() -> None:
        while not shown.is_set() and "verifying" not in out.getvalue():
            shown.wait(0.01)
        shown.set()

    looker = threading.Thread(target=look, daemon=True)
    looker.start()
    looker.join(timeout=60)  # bounds a hang only: ends as soon as the line is there
    assert out.getvalue() == "studio: verifying the python file…\n"
    step.close()
    assert out.getvalue() == "studio: verifying the python file…\n"  # not printed twice


# --- the workflows, on a tiny model ----------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    keras = pytest.importorskip("keras")
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"), keras.layers.Dense(2)])
    model.save(path)
    return path


@pytest.fixture(scope="module")
def tiny_project(tiny_model, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("project")
    return importing.import_model(tiny_model, folder / "tiny").project_path


def _left_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_import_reports_its_steps_and_writes_the_project(tiny_model, tmp_path):
    steps: list[str] = []
    result = importing.import_model(tiny_model, tmp_path / "imported", step=steps.append)
    assert steps[0] == "reading tiny.keras"
    assert any(s.startswith("checking that the rebuilt model") for s in steps)
    assert steps[-1] == "writing imported.studio.json and imported.weights.npz"
    assert result.project_path.is_file() and result.weights_path.is_file()


@pytest.mark.parametrize("stop_at", ["reading", "turning its layers", "checking that the rebuilt"])
def test_a_cancelled_import_stops_at_the_next_step_and_writes_nothing(tiny_model, tmp_path, stop_at):
    cancel = threading.Event()
    seen: list[str] = []

    def step(text: str) -> None:
        seen.append(text)
        if text.startswith(stop_at):
            cancel.set()  # the user presses Cancel while this step runs

    with pytest.raises(Cancelled, match="cancelled: importing"):
        importing.import_model(tiny_model, tmp_path / "imported", step=step, cancel=cancel)
    assert seen[-1].startswith(stop_at)  # no later step started
    assert _left_in(tmp_path) == []


def test_export_reports_its_steps(tiny_project, tmp_path):
    steps: list[str] = []
    result = export.export_project(load_project(tiny_project), "keras", tmp_path / "m.keras", step=steps.append)
    assert steps == ["loading the model", "converting to keras", "verifying the keras file in its own runtime",
                     "writing m.keras"]
    assert result.path.is_file() and result.max_abs_diff <= result.tolerance


@pytest.mark.parametrize("stop_at", ["loading the model", "converting", "verifying"])
def test_a_cancelled_export_leaves_nothing_and_keeps_an_existing_file(tiny_project, tmp_path, stop_at):
    target = tmp_path / "m.keras"
    target.write_bytes(b"the user's old file")
    cancel = threading.Event()
    seen: list[str] = []

    def step(text: str) -> None:
        seen.append(text)
        if text.startswith(stop_at):
            cancel.set()

    with pytest.raises(Cancelled, match="cancelled: exporting"):
        export.export_project(load_project(tiny_project), "keras", target, step=step, cancel=cancel)
    assert seen[-1].startswith(stop_at)  # no later step started
    assert _left_in(tmp_path) == ["m.keras"]  # no staging folder, no report
    assert target.read_bytes() == b"the user's old file"


def test_python_export_writes_the_script_before_loading_the_model(tiny_project, tmp_path):
    """The script needs only the graph: written first, its check process builds it meanwhile."""
    steps: list[str] = []
    result = export.export_project(load_project(tiny_project), "python", tmp_path / "m.py", step=steps.append)
    assert steps == ["preparing the data's scaling for the script", "writing the Python script", "loading the model",
                     "writing the Python script's weights", "verifying the python file in its own runtime",
                     "writing m.py"]
    assert result.path.is_file() and result.max_abs_diff <= result.tolerance


@pytest.mark.parametrize("stop_at", ["writing the Python script", "loading the model", "verifying"])
def test_a_cancelled_python_export_removes_the_staged_script_and_weights(tiny_project, tmp_path, monkeypatch,
                                                                           stop_at):
    from studio.export import exporters

    checks: list = []  # the script's check processes (real ones): each must have ended
    original = exporters.ScriptRunner.__init__
    monkeypatch.setattr(exporters.ScriptRunner, "__init__", lambda self: (original(self), checks.append(self))[0])
    cancel = threading.Event()

    def step(text: str) -> None:
        if text.startswith(stop_at):
            cancel.set()

    with pytest.raises(Cancelled):
        export.export_project(load_project(tiny_project), "python", tmp_path / "m.py", step=step, cancel=cancel)
    assert _left_in(tmp_path) == []
    assert checks and all(c.proc.poll() is not None for c in checks)


# --- the commands -------------------------------------------------------------------------
def test_studio_export_shows_a_line_for_each_slow_step(tiny_project, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(step_line, "DELAY", 0.0)  # every step counts as slow
    assert main(["export", str(tiny_project), "-f", "keras", "-o", str(tmp_path / "m.keras")]) == 0
    out, err = capsys.readouterr()
    assert "studio: loading the model…\nstudio: converting to keras…\n" in err
    assert "studio: verifying the keras file in its own runtime…" in err
    assert f"Exported {tmp_path / 'm.keras'}" in out


def test_studio_export_stays_quiet_about_quick_steps(tiny_project, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(step_line, "DELAY", 3600.0)
    assert main(["export", str(tiny_project), "-f", "keras", "-o", str(tmp_path / "m.keras")]) == 0
    _out, err = capsys.readouterr()
    assert "…" not in err


def test_studio_import_shows_a_line_for_each_slow_step(tiny_model, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(step_line, "DELAY", 0.0)
    assert main(["import", str(tiny_model), "-o", str(tmp_path / "p")]) == 0
    _out, err = capsys.readouterr()
    assert "studio: reading tiny.keras…" in err
    assert "studio: checking that the rebuilt model gives the same answers…" in err


def test_current_weights_are_exported_even_when_the_project_has_runs(tmp_path):
    """The window's "Current weights" choice: never the latest run's model."""
    import shutil

    from studio.export.project_export import model_source
    from studio.workflows.train import make_session, training_config

    example = Path(__file__).resolve().parents[2] / "projects" / "iris-mlp.studio.json"
    if not example.is_file():
        pytest.skip("the bundled iris example is missing")
    path = tmp_path / "iris.studio.json"
    shutil.copy(example, path)
    project = load_project(path)
    assert make_session(project, config=training_config(project, epochs=1)).run().status == "completed"
    assert model_source(project).run_id is not None  # by default: the latest run
    current = model_source(project, which="current", log=lambda _line: None)
    assert current.run_id is None and "run" not in current.description
