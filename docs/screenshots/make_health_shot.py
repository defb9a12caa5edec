"""docs/screenshots/health.png: training health in the window. The Iris example with two layers built
to go wrong: 'boom' (a Dense with a huge initializer: exploding gradients) and 'dying' (a ReLU Dense
with a bias of -100: dead units), trained 3 epochs in the window; View > Training Health on Nodes is
on (nodes tinted, the flagged ones badged) and the Training panel shows its Health tab.

Run from the repository root:  xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshots/make_health_shot.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("STUDIO_CONFIG_DIR", tempfile.mkdtemp())
os.environ.setdefault("STUDIO_OFFLINE", "1")

from PySide6.QtWidgets import QApplication  # noqa: E402


def project(folder: Path) -> Path:
    data = json.loads((ROOT / "projects" / "iris-mlp.studio.json").read_text())
    graph = data["graph"]
    big = {"class_name": "RandomNormal", "config": {"stddev": 100.0}}
    graph["nodes"] = [n for n in graph["nodes"] if n["id"] != "species"] + [
        {"id": "boom", "type": "Dense", "title": "boom", "position": [220.0, -90.0], "trainable": True,
         "params": {"units": 16, "activation": "linear", "kernel_initializer": big}},
        {"id": "dying", "type": "Dense", "title": "dying", "position": [330.0, 110.0], "trainable": True,
         "params": {"units": 16, "activation": "relu",
                    "bias_initializer": {"class_name": "Constant", "config": {"value": -100.0}}}},
        {"id": "join", "type": "Concatenate", "title": "join", "position": [660.0, 0.0], "trainable": True,
         "params": {"axis": -1}},
        {"id": "species", "type": "Dense", "title": "species", "position": [880.0, 0.0], "trainable": True,
         "params": {"units": 3, "activation": "softmax"}},
    ]
    for node in graph["nodes"]:
        if node["id"] == "hidden":
            node["position"] = [440.0, -90.0]
    wire = [("measurements", "boom", 0), ("boom", "hidden", 0), ("measurements", "dying", 0),
            ("hidden", "join", 0), ("dying", "join", 1), ("join", "species", 0)]
    graph["edges"] = [{"source": a, "source_port": 0, "target": b, "target_port": p} for a, b, p in wire]
    data["training"].update(epochs=3, seed=1)
    path = folder / "health-demo.studio.json"
    path.write_text(json.dumps(data))
    return path


def settle(app: QApplication, turns: int = 30) -> None:
    for _ in range(turns):
        app.processEvents()


def main() -> None:
    app = QApplication([])
    from studio.ui.main_window import MainWindow

    window = MainWindow(optional_panels=True)
    window.resize(1500, 980)
    window.show()
    window.files.open(project(Path(tempfile.mkdtemp())), ask=False)
    settle(app)
    panel = window.panels["TrainingPanel"]
    panel.train()
    while panel.is_training() or panel.last_result is None:
        app.processEvents()
        time.sleep(0.02)
    settle(app)
    panel.health_overlay_action.trigger()
    panel.tabs.setCurrentWidget(panel.health)
    panel.health._on_clicked(panel.health._rows.index("boom"), 0)
    window.view.fit_to_view()
    settle(app, 60)
    window.grab().save(str(Path(__file__).with_name("health.png")))
    print(panel.last_result.status, panel.last_result.health and [(f["label"], f["kind"]) for f in panel.last_result.health])
    window.files.close()


if __name__ == "__main__":
    main()
