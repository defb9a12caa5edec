"""Regenerate export.png: a run's Export… dialog and the verified result, side by side.

    xvfb-run -a -s "-screen 0 1920x1200x24" .venv/bin/python docs/screenshots/make_export_shot.py

Trains the bundled Iris example for one epoch (seeded) in a temporary folder, opens
the real main window on it, presses the run's Export… button, picks TFLite, grabs the
dialog, then runs the export for real and grabs the result (light theme).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("STUDIO_CONFIG_DIR", tempfile.mkdtemp(prefix="studio-shots-"))

from PySide6.QtCore import QEventLoop, QPoint, QTimer  # noqa: E402
from PySide6.QtGui import QColor, QImage, QPainter  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

OUT = Path(__file__).resolve().parent / "export.png"


def settle(app: QApplication, ms: int = 200) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def main() -> None:
    app = QApplication(sys.argv[:1])
    from studio.project.io import load_project
    from studio.ui.document import ProjectDocument
    from studio.ui.main_window import MainWindow
    from studio.ui.theme import ThemeManager
    from studio.workflows.train import make_session, training_config

    themes = ThemeManager(app)
    themes.set_mode("light")
    folder = Path(tempfile.mkdtemp(prefix="studio-export-shot-"))
    path = folder / "iris.studio.json"
    shutil.copy(ROOT / "projects" / "iris-mlp.studio.json", path)
    project = load_project(path)
    make_session(project, config=training_config(project, epochs=1, seed=1)).run()

    window = MainWindow(ProjectDocument(load_project(path)))
    window.use_themes(themes)
    window.resize(1400, 860)
    window.show()
    settle(app)
    view = window.panels["TrainingPanel"].runs_view
    view.select(view.runs[0].id)
    view.export_button.click()
    dialog = window.model_io.export_dialog
    dialog.set_format("tflite")
    settle(app)
    left = dialog.grab().toImage()

    done = QEventLoop()
    window.model_io.exported.connect(lambda _result: done.quit())
    dialog.export_button.click()
    QTimer.singleShot(120_000, done.quit)
    done.exec()
    settle(app)
    right = window.model_io.progress.grab().toImage()

    gap = 24
    width = left.width() + gap + right.width()
    height = max(left.height(), right.height())
    canvas = QImage(width + 2 * gap, height + 2 * gap, QImage.Format.Format_RGB32)
    canvas.fill(QColor("#dcdfe4"))
    painter = QPainter(canvas)
    painter.drawImage(QPoint(gap, gap), left)
    painter.drawImage(QPoint(2 * gap + left.width(), gap), right)
    painter.end()
    canvas.save(str(OUT))
    print(f"wrote {OUT} ({canvas.width()}x{canvas.height()})")
    window.model_io.progress.accept()
    window.close()
    shutil.rmtree(folder, ignore_errors=True)
    app.processEvents()


if __name__ == "__main__":
    main()
