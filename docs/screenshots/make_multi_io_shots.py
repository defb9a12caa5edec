"""Screenshots of a model with two inputs and two outputs (the two-heads example): the Evaluation
tab with its output selector (evaluation-outputs.png) and the Data panel's "Inputs & outputs" tab
(bindings.png); for checking by eye, into the temp folder: bindings-error.png (column a3 fed to
both Inputs, the error on the node) and evaluation-outputs-amount.png (the number head shown).

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshots/make_multi_io_shots.py

Trains the example for 15 epochs first (about 10 s)."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
sys.path.insert(0, str(OUT))
EXTRA = Path(tempfile.gettempdir())


def _wait(app, done, seconds: float = 60) -> None:
    from make_screenshots import _wait as wait  # docs/screenshots/make_screenshots.py

    wait(app, done, seconds)


def _panel_on(app, window, dock: str, name: str, height: int):
    """The window's panel `name` raised in its dock, `height` pixels tall."""
    window.docks[dock].raise_()
    window.resizeDocks([window.docks[dock]], [height], Qt.Orientation.Vertical)
    return window.panels[name]


def _evaluation(app, window, evaluation: dict, outputs: list[str]):
    """The Training panel's Evaluation tab on `evaluation`'s run, its samples loaded."""
    panel = _panel_on(app, window, "TrainingPanelDock", "TrainingPanel", 520)
    panel.runs_view.select(evaluation["run"])
    panel.tabs.setCurrentWidget(panel.evaluation)
    _wait(app, lambda: panel.evaluation.output_names() == outputs)
    _wait(app, lambda: not panel.evaluation.samples.loading())
    return panel


def main() -> None:
    sys.path.insert(0, str(ROOT))
    app = QApplication(sys.argv[:1])
    from studio.project.io import load_project
    from studio.training.config import TrainingConfig
    from studio.ui.main_window import MainWindow
    from studio.ui.theme import ThemeManager
    from studio.workflows import evaluate, train

    ThemeManager(app).apply(dark=False)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "two-heads.studio.json"
        shutil.copy(ROOT / "projects" / path.name, path)
        project = load_project(path)
        config = TrainingConfig.from_dict(dict(project.training, epochs=15, seed=0))
        result = train.make_session(project, config=config).run()
        assert result.status == "completed", result.message
        evaluation = evaluate.evaluate_run(project)

        window = MainWindow(optional_panels=True)
        window.resize(1600, 1000)
        window.show()
        window.files.open(path, ask=False)
        _wait(app, lambda: False, 0.5)
        window.view.fit_to_view()

        data = _panel_on(app, window, "DataPanelDock", "DataPanel", 470)
        _wait(app, lambda: not data.busy)
        data.tabs.setCurrentWidget(data.bindings)
        _wait(app, lambda: False, 0.3)
        window.statusBar().clearMessage()
        window.grab().save(str(OUT / "bindings.png"))
        data.bindings.toggle(data.bindings.names.index("a3"), 1)  # a3 fed to 'features b' too
        _wait(app, lambda: not data.busy)
        _wait(app, lambda: False, 0.3)
        window.grab().save(str(EXTRA / "bindings-error.png"))
        window.document.undo_stack.undo()
        _wait(app, lambda: not data.busy)

        panel = _evaluation(app, window, evaluation, ["kind", "amount"])
        window.view.fit_to_view()
        window.statusBar().clearMessage()
        window.grab().save(str(OUT / "evaluation-outputs.png"))
        panel.evaluation.show_output("amount")
        _wait(app, lambda: not panel.evaluation.worst.loading())
        window.grab().save(str(EXTRA / "evaluation-outputs-amount.png"))
        window.document.undo_stack.setClean()
        window.files.close()
        window.close()
    image_table(app)
    for path in (EXTRA / "image-table-bindings.png", EXTRA / "image-table-evaluation.png"):
        print(path)
    for path in (OUT / "bindings.png", EXTRA / "bindings-error.png", OUT / "evaluation-outputs.png",
                 EXTRA / "evaluation-outputs-amount.png"):
        print(path)


def image_table(app) -> None:
    """For checking by eye: 8x8 PNGs named in a CSV with side features (the test's data), bound in
    the Data panel and evaluated (the class output's rows with their thumbnails)."""
    from studio.project import Project, save_project
    from studio.training.config import TrainingConfig
    from studio.ui.main_window import MainWindow
    from studio.workflows import evaluate, train
    from tests.data.test_image_table import graph, make_folder, spec

    with tempfile.TemporaryDirectory() as tmp:
        make_folder(Path(tmp))
        project = Project(graph=graph(), name="pictures", dataset=spec(),
                          training={"epochs": 25, "batch_size": 8, "learning_rate": 0.01, "seed": 0})
        path = Path(tmp) / "pictures.studio.json"
        save_project(project, path)
        assert train.make_session(project, config=TrainingConfig.from_dict(project.training)).run().status \
            == "completed"
        evaluation = evaluate.evaluate_run(project)
        window = MainWindow(optional_panels=True)
        window.resize(1600, 1000)
        window.show()
        window.files.open(path, ask=False)
        data = _panel_on(app, window, "DataPanelDock", "DataPanel", 470)
        _wait(app, lambda: not data.busy)
        data.tabs.setCurrentWidget(data.bindings)
        window.view.fit_to_view()
        _wait(app, lambda: False, 0.3)
        window.grab().save(str(EXTRA / "image-table-bindings.png"))
        _evaluation(app, window, evaluation, ["animal", "weight"])
        window.grab().save(str(EXTRA / "image-table-evaluation.png"))
        window.document.undo_stack.setClean()
        window.files.close()
        window.close()


if __name__ == "__main__":
    main()
