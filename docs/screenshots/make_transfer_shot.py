"""docs/screenshots/transfer.png: the palette's Transfer learning category (with an entry's explanation,
drawn beside it since tooltips do not show in a grab) and the Hub module dialog, on the backbone example.

Run from the repository root:  xvfb-run -a .venv/bin/python docs/screenshots/make_transfer_shot.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("STUDIO_CONFIG_DIR", tempfile.mkdtemp())

from PySide6.QtCore import QPoint  # noqa: E402
from PySide6.QtGui import QColor, QPainter, QPixmap  # noqa: E402
from PySide6.QtWidgets import QApplication, QLabel  # noqa: E402


def main() -> None:
    app = QApplication([])
    from studio.ui.hub_dialog import HubDialog
    from studio.ui.main_window import MainWindow

    window = MainWindow(optional_panels=False)
    window.resize(1400, 860)
    window.show()
    window.files.open(ROOT / "projects" / "shapes-backbone.studio.json", ask=False)
    tree = window.palette.tree
    for i in range(tree.topLevelItemCount()):
        group = tree.topLevelItem(i)
        group.setExpanded(group.text(0) == "Transfer learning")
    item = window.palette.item("Backbone:MobileNetV2")
    tree.scrollToItem(window.palette.item("HubModule"), tree.ScrollHint.PositionAtTop)
    tree.setCurrentItem(item)
    for _ in range(20):
        app.processEvents()
    shot = window.grab()
    dialog = HubDialog(window, "https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/feature_vector/5")
    dialog.show()
    for _ in range(10):
        app.processEvents()
    dialog_shot = dialog.grab()
    tip = QLabel(item.toolTip(0))
    tip.setWordWrap(True)
    tip.setFixedWidth(420)
    tip.setStyleSheet("background: #ffffe8; border: 1px solid #999; padding: 6px; color: black")
    tip.adjustSize()
    out = QPixmap(shot.width(), shot.height() + dialog_shot.height() + 20)
    out.fill(QColor("white"))
    painter = QPainter(out)
    painter.drawPixmap(0, 0, shot)
    corner = window.palette.mapTo(window, QPoint(0, 0))
    painter.drawPixmap(corner.x() + window.palette.width() + 10, corner.y() + 330, tip.grab())
    painter.drawPixmap(20, shot.height() + 10, dialog_shot)
    painter.end()
    out.save(str(Path(__file__).with_name("transfer.png")))


if __name__ == "__main__":
    main()
