"""File > Import Model…, File > Export… and a run's Export…, driven as a user does: the menu
action, the dialog's buttons, the progress dialog's Cancel. The file choosers are replaced
(`model_io.choose_*`); the import and every export run for real (TensorFlow on the worker
thread) on a tiny model. Keras is the default run's format; the others are `slow`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from studio.ui import model_io
from tests.ui.waiting import HANG_MS

CLICK = Qt.MouseButton.LeftButton
JOB_MS = 180_000  # bounds a hang only: each wait ends when its signal comes
EXAMPLE = Path(__file__).resolve().parents[2] / "projects" / "iris-mlp.studio.json"


def _file_action(window, text: str):
    found = [a for a in window.menus.file.actions() if a.text().replace("&", "") == text]
    assert found, f"File menu has no {text!r}"
    return found[0]


def _visible(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir())


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    keras = pytest.importorskip("keras")
    path = tmp_path_factory.mktemp("models") / "tiny.keras"
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.save(path)
    return path


@pytest.fixture
def imported(tiny_model, tmp_path) -> Path:
    """A project imported (through the workflow) from the tiny model, in its own folder."""
    from studio.workflows.importing import import_model

    folder = tmp_path / "project"
    folder.mkdir()
    return import_model(tiny_model, folder / "tiny").project_path


def _close(window) -> None:
    window.close()


def _export_and_wait(qtbot, window, dialog, dialog_log):
    """Press Export and wait for the result, or fail at once with the error shown instead."""
    results = []
    window.model_io.exported.connect(results.append)
    qtbot.mouseClick(dialog.export_button, CLICK)
    qtbot.waitUntil(lambda: bool(results or dialog_log.named("show_error")), timeout=JOB_MS)
    assert not dialog_log.named("show_error"), dialog_log.named("show_error")
    return results[0]


# --- import ---------------------------------------------------------------------------------
def test_file_import_opens_the_model_as_a_project_in_a_new_window(make_window, qtbot, tiny_model, tmp_path,
                                                                  monkeypatch):
    model = tmp_path / "mine.keras"
    shutil.copy(tiny_model, model)
    monkeypatch.setattr(model_io, "choose_model_file", lambda parent, folder="": model)
    window = make_window()
    _file_action(window, "Import Model…").trigger()
    dialog = window.model_io.import_dialog
    assert dialog is not None and dialog.isVisible()
    assert not dialog.import_button.isEnabled()  # nothing chosen yet
    qtbot.mouseClick(dialog.file_button, CLICK)
    assert dialog.model_edit.text() == str(model)
    assert dialog.project_edit.text() == str(tmp_path / "mine.studio.json")  # beside the model
    with qtbot.waitSignal(window.model_io.imported, timeout=JOB_MS) as blocker:
        qtbot.mouseClick(dialog.import_button, CLICK)
    opened = blocker.args[0]
    try:
        assert opened is not window
        assert opened.document.path == tmp_path / "mine.studio.json"
        assert len(opened.document.graph.nodes) == 3  # input, two Dense
        assert (tmp_path / "mine.studio.json").is_file()
        assert "Imported 3 layers" in opened.statusBar().currentMessage()
        assert window.document.path != opened.document.path  # this window kept its project
    finally:
        _close(opened)


def _main_windows() -> list:
    from PySide6.QtWidgets import QApplication

    from studio.ui.main_window import MainWindow

    return [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]


def test_cancel_stops_the_import_and_leaves_nothing_behind(make_window, qtbot, dialog_log, tiny_model, tmp_path,
                                                           monkeypatch):
    """Cancel pressed while the layers are being read: the import stops before anything is
    written, no new window opens, and the next import goes through."""
    from studio.compiler import keras_import

    model = tmp_path / "mine.keras"
    shutil.copy(tiny_model, model)
    monkeypatch.setattr(model_io, "choose_model_file", lambda parent, folder="": model)
    window = make_window()
    real = keras_import.graph_from_config

    def held(*args, **kwargs):  # the worker holds in this step until the user pressed Cancel
        window.model_io.cancel_flag.wait(JOB_MS / 1000)
        return real(*args, **kwargs)

    monkeypatch.setattr(keras_import, "graph_from_config", held)
    before, windows = _visible(tmp_path), _main_windows()
    imported = []
    window.model_io.imported.connect(imported.append)
    _file_action(window, "Import Model…").trigger()
    dialog = window.model_io.import_dialog
    qtbot.mouseClick(dialog.file_button, CLICK)
    target = tmp_path / "mine.studio.json"
    assert dialog.project_edit.text() == str(target)
    qtbot.mouseClick(dialog.import_button, CLICK)
    progress = window.model_io.progress
    assert progress is not None
    qtbot.waitUntil(lambda: progress.step_label.text().startswith("Turning its layers"), timeout=JOB_MS)
    assert progress.isVisible() and progress.cancel_button.isEnabled()
    with qtbot.waitSignal(window.model_io.cancelled, timeout=JOB_MS) as blocker:
        qtbot.mouseClick(progress.cancel_button, CLICK)
    assert blocker.args[0] == f"Cancelled importing {model}; nothing was written"
    qtbot.waitUntil(lambda: not window.model_io.busy())
    assert not imported and _main_windows() == windows  # no new window
    assert _visible(tmp_path) == before and not target.exists()  # no project, weights or temp file
    assert window.model_io.progress is None and not dialog_log.named("show_error")
    assert "Cancelled" in window.statusBar().currentMessage()
    monkeypatch.setattr(keras_import, "graph_from_config", real)  # and the next import goes through
    _file_action(window, "Import Model…").trigger()
    again = window.model_io.import_dialog
    qtbot.mouseClick(again.file_button, CLICK)
    with qtbot.waitSignal(window.model_io.imported, timeout=JOB_MS) as done:
        qtbot.mouseClick(again.import_button, CLICK)
    assert target.is_file() and done.args[0].document.path == target
    done.args[0].close()


def test_a_folder_that_holds_no_model_gives_one_message_naming_it(make_window, qtbot, dialog_log, tmp_path,
                                                                  monkeypatch):
    folder = tmp_path / "not_a_savedmodel"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello")
    monkeypatch.setattr(model_io, "choose_model_folder", lambda parent, where="": folder)
    window = make_window()
    _file_action(window, "Import Model…").trigger()
    dialog = window.model_io.import_dialog
    qtbot.mouseClick(dialog.folder_button, CLICK)
    assert dialog.project_edit.text() == str(tmp_path / "not_a_savedmodel.studio.json")
    qtbot.mouseClick(dialog.import_button, CLICK)
    qtbot.waitUntil(lambda: bool(dialog_log.named("show_error")), timeout=JOB_MS)
    (_name, (title, message), _kw), = dialog_log.named("show_error")
    assert title == "Cannot import model"
    assert "not_a_savedmodel" in message and "Traceback" not in message
    qtbot.waitUntil(lambda: not window.model_io.busy(), timeout=HANG_MS)
    assert window.model_io.progress is None
    assert _visible(tmp_path).count("not_a_savedmodel.studio.json") == 0
    assert window.isVisible()  # the app keeps running: it can import again
    assert window.model_io.import_model() is not None


def test_the_import_dialog_refuses_a_project_that_exists(make_window, qtbot, tiny_model, tmp_path, monkeypatch):
    model = tmp_path / "mine.keras"
    shutil.copy(tiny_model, model)
    window = make_window()
    _file_action(window, "Import Model…").trigger()
    dialog = window.model_io.import_dialog
    dialog.model_edit.setText(str(model))
    taken = tmp_path / "taken.studio.json"
    taken.write_text("{}")
    dialog.project_edit.clear()
    qtbot.keyClicks(dialog.project_edit, str(taken))
    qtbot.mouseClick(dialog.import_button, CLICK)
    assert dialog.isVisible() and "already exists" in dialog.problem.text()
    assert not window.model_io.busy()
    assert taken.read_text() == "{}"


# --- export ---------------------------------------------------------------------------------
def _export_dialog(window):
    _file_action(window, "Export…").trigger()
    dialog = window.model_io.export_dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


FAST = ["keras"]
SLOW = ["savedmodel", "tflite", "onnx", "python"]


@pytest.mark.parametrize("fmt", FAST + [pytest.param(f, marks=pytest.mark.slow) for f in SLOW])
def test_file_export_writes_each_format_and_shows_its_verification(make_window, qtbot, dialog_log, imported,
                                                                   fmt):
    reason = model_io.missing_converter(model_io.format_named(fmt))
    if reason:
        pytest.skip(f"{fmt}: {reason}")
    from studio.project.io import load_project
    from studio.ui.document import ProjectDocument

    window = make_window(ProjectDocument(load_project(imported)))
    dialog = _export_dialog(window)
    dialog.set_format(fmt)
    assert dialog.weights().which == "current" and "imported" in dialog.weights_box.currentText()
    target = dialog.path()
    assert target.parent == imported.parent and target.name.startswith("tiny")
    result = _export_and_wait(qtbot, window, dialog, dialog_log)
    assert result.path == target and target.exists()
    progress = window.model_io.progress
    assert progress is not None and progress.finished_ok
    text = progress.verify_label.text()
    assert progress.verify_label.isVisible() and str(target) in progress.result_label.text()
    assert f"max abs difference {result.max_abs_diff:.3g} (tolerance {result.tolerance:.3g})" in text
    assert result.max_abs_diff <= result.tolerance
    close = progress.close_button
    # a click lands where the button is laid out: wait for the dialog to take the result's size
    qtbot.waitUntil(lambda: progress.size() == progress.sizeHint() and close.height() > 0, timeout=HANG_MS)
    qtbot.mouseClick(close, CLICK)
    qtbot.waitUntil(lambda: window.model_io.progress is None, timeout=HANG_MS)


def test_cancel_stops_the_export_and_leaves_no_file(make_window, qtbot, imported, monkeypatch):
    """Cancel pressed while the file is being verified: the export stops before it is
    written, and the staging folder is gone."""
    from studio.export import exporters
    from studio.project.io import load_project
    from studio.ui.document import ProjectDocument

    window = make_window(ProjectDocument(load_project(imported)))
    real = exporters.sample_inputs

    def held(*args, **kwargs):  # the worker holds in this step until the user pressed Cancel
        window.model_io.cancel_flag.wait(JOB_MS / 1000)
        return real(*args, **kwargs)

    monkeypatch.setattr(exporters, "sample_inputs", held)
    before = _visible(imported.parent)
    dialog = _export_dialog(window)
    target = dialog.path()
    qtbot.mouseClick(dialog.export_button, CLICK)
    progress = window.model_io.progress
    qtbot.waitUntil(lambda: progress.step_label.text().startswith("Verifying"), timeout=JOB_MS)
    with qtbot.waitSignal(window.model_io.cancelled, timeout=JOB_MS) as blocker:
        qtbot.mouseClick(progress.cancel_button, CLICK)
    assert "nothing was written" in blocker.args[0]
    assert not target.exists()
    assert _visible(imported.parent) == before  # no report, no hidden staging folder
    assert window.model_io.progress is None
    assert "Cancelled" in window.statusBar().currentMessage()


def test_a_bundle_needs_a_run(make_window, imported):
    from studio.project.io import load_project
    from studio.ui.document import ProjectDocument

    window = make_window(ProjectDocument(load_project(imported)))
    dialog = _export_dialog(window)
    dialog.set_format("bundle")
    assert not dialog.export_button.isEnabled()
    assert "choose one of the runs" in dialog.problem.text()


# --- a run's Export… ------------------------------------------------------------------------
@pytest.fixture
def trained(tmp_path) -> Path:
    """The bundled Iris example, trained one epoch through the workflow."""
    if not EXAMPLE.is_file():
        pytest.skip("the bundled iris example is missing")
    from studio.project.io import load_project
    from studio.workflows.train import make_session, training_config

    path = tmp_path / "iris.studio.json"
    shutil.copy(EXAMPLE, path)
    project = load_project(path)
    # a fixed seed: a bundle reproduces only a seeded run
    result = make_session(project, config=training_config(project, epochs=1, seed=7)).run()
    assert result.status == "completed"
    return path


def _run_export(make_window, qtbot, dialog_log, trained, fmt: str):
    from studio.project.io import load_project
    from studio.ui.document import ProjectDocument

    window = make_window(ProjectDocument(load_project(trained)), optional_panels=True)
    view = window.panels["TrainingPanel"].runs_view
    assert view.runs, "the run is listed"
    run = view.runs[0]
    view.select(run.id)
    assert view.export_button.isEnabled()
    qtbot.mouseClick(view.export_button, CLICK)
    dialog = window.model_io.export_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.weights().run == run.id  # the run's own weights are chosen
    dialog.set_format(fmt)
    return window, run, dialog, _export_and_wait(qtbot, window, dialog, dialog_log)


def test_a_runs_export_button_exports_that_runs_model(make_window, qtbot, dialog_log, trained):
    window, run, _dialog, result = _run_export(make_window, qtbot, dialog_log, trained, "keras")
    assert run.id[-6:] in result.path.name and result.path.is_file()
    assert "max abs difference" in window.model_io.progress.verify_label.text()


@pytest.mark.slow
def test_a_runs_export_writes_its_reproducible_bundle(make_window, qtbot, dialog_log, trained):
    window, run, _dialog, result = _run_export(make_window, qtbot, dialog_log, trained, "bundle")
    assert result.path.is_dir() and (result.path / "manifest.json").is_file()
    assert window.model_io.progress.finished_ok


def test_export_has_ctrl_e_and_is_listed_with_the_shortcuts(make_window, qtbot):
    window = make_window()
    assert _file_action(window, "Export…").shortcut().toString() == "Ctrl+E"
    shortcuts = window.show_shortcuts()
    qtbot.addWidget(shortcuts)
    assert shortcuts.keys_for("Export") == "Ctrl+E"
