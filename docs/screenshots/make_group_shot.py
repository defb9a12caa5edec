"""docs/screenshots/backbone-group.png: the shapes-backbone example after its MobileNetV2 node's
"Expand to layers": the backbone's 155 layers as ONE collapsed group node (name, shapes in and out,
Keras' parameter count) where the backbone was; below, the same group double-clicked open (its
layers framed under its name). The example's weights are set to "none" here (ImageNet's would be
downloaded); the expansion is the window's own (the workflow's edit, pushed on the document).

Run from the repository root:  xvfb-run -a .venv/bin/python docs/screenshots/make_group_shot.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("STUDIO_CONFIG_DIR", tempfile.mkdtemp())

from PySide6.QtCore import QPointF  # noqa: E402
from PySide6.QtGui import QColor, QPainter, QPixmap, QTransform  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def settle(app: QApplication, turns: int = 30) -> None:
    for _ in range(turns):
        app.processEvents()


def main() -> None:
    app = QApplication([])
    from studio.graph.edits import SetParam
    from studio.ui.main_window import MainWindow
    from studio.ui.model_io import snapshot
    from studio.workflows.expand import expand_backbone, expansion_edit

    window = MainWindow(optional_panels=False)
    window.resize(1400, 760)
    window.show()
    window.files.open(ROOT / "projects" / "shapes-backbone.studio.json", ask=False)
    document = window.document
    document.push(SetParam("mobilenetv2", "weights", "none"))
    expansion = expand_backbone(snapshot(document.project), "mobilenetv2")
    document.push(expansion_edit(expansion, document.project.weights))
    settle(app)
    window.view.fit_to_view()
    settle(app)
    group_id = document.graph.groups[0].id
    window.group_frames.select(group_id)
    settle(app)
    top = window.grab()
    window.group_frames.set_collapsed(group_id, False)
    document.set_selection([])
    settle(app)
    window.view.setTransform(QTransform().scale(0.7, 0.7))
    first = window.scene.node_item(document.graph.group_members(group_id)[0])
    window.view.centerOn(first.mapToScene(QPointF(480, 150)))
    settle(app)
    bottom = window.view.grab()
    out = QPixmap(top.width(), top.height() + bottom.height() + 12)
    out.fill(QColor("white"))
    painter = QPainter(out)
    painter.drawPixmap(0, 0, top)
    painter.drawPixmap((top.width() - bottom.width()) // 2, top.height() + 12, bottom)
    painter.end()
    out.save(str(Path(__file__).with_name("backbone-group.png")))
    window.files.close()


if __name__ == "__main__":
    main()
