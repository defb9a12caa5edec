"""Regenerate the screenshots in this folder.

    xvfb-run -a -s "-screen 0 1920x1200x24" .venv/bin/python docs/screenshots/make_screenshots.py [--scale 2]
        [--only training]
    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshots/make_screenshots.py --tour

Each shot is a real main window (light theme) grabbed after it has painted.
--tour: a newcomer's first session at 1400x860, one PNG per step in tour/ (open an
example, train 2 epochs, evaluation, export, new project, three layers, a wire, a refused
wire with its callout, its fix inserted, undo); it trains, so it takes a minute.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("STUDIO_CONFIG_DIR", tempfile.mkdtemp(prefix="studio-shots-"))

from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from studio.graph.model import Edge, Graph, Node  # noqa: E402
from studio.project.io import load_project  # noqa: E402
from studio.project.model import Project  # noqa: E402

OUT = Path(__file__).resolve().parent


def residual_network(blocks: int = 8) -> Graph:
    """A small ResNet: stem, `blocks` residual blocks (conv-bn-relu-conv-bn-add-relu), head."""
    g = Graph()

    def add(type_id, title, **params):
        return g.add_node(Node(type_id, params, title=title)).id

    x = add("Input", "image", batch_shape=[None, 32, 32, 3])
    stem = add("Conv2D", "stem", filters=32, kernel_size=[3, 3], padding="same", activation="relu")
    g.connect(Edge(x, stem))
    prev = stem
    for i in range(1, blocks + 1):
        c1 = add("Conv2D", f"b{i}_conv1", filters=32, kernel_size=[3, 3], padding="same")
        n1 = add("BatchNormalization", f"b{i}_bn1")
        r1 = add("ReLU", f"b{i}_relu1")
        c2 = add("Conv2D", f"b{i}_conv2", filters=32, kernel_size=[3, 3], padding="same")
        n2 = add("BatchNormalization", f"b{i}_bn2")
        s = add("Add", f"b{i}_add")
        for a, b in ((prev, c1), (c1, n1), (n1, r1), (r1, c2), (c2, n2)):
            g.connect(Edge(a, b))
        g.connect(Edge(prev, s, 0, 0))
        g.connect(Edge(n2, s, 0, 1))
        prev = s
    pool = add("GlobalAveragePooling2D", "pool")
    out = add("Dense", "classes", units=10, activation="softmax")
    g.connect(Edge(prev, pool))
    g.connect(Edge(pool, out))
    return g


def broken_network() -> Graph:
    g = Graph()

    def add(type_id, title, pos, **params):
        return g.add_node(Node(type_id, params, title=title, position=pos)).id

    x = add("Input", "features", (0, 0), batch_shape=[None, 20])
    d = add("Dense", "hidden", (260, 0), units=64, activation="relu")
    conv = add("Conv2D", "conv", (520, 0), filters=16, kernel_size=[3, 3])
    head = add("Dense", "classes", (780, 0), units=3, activation="softmax")
    lonely = add("Dropout", "dropout", (520, 180), rate=0.3)
    g.connect(Edge(x, d))
    g.connect(Edge(d, conv), check_shapes=False)
    g.connect(Edge(conv, head))
    del lonely
    return g


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="device pixel ratio (2 = HiDPI)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="take only these shots (e.g. training)")
    parser.add_argument("--tour", action="store_true", help="the newcomer tour into tour/ instead")
    args = parser.parse_args()
    if args.scale != 1.0:
        os.environ["QT_SCALE_FACTOR"] = str(args.scale)
    app = QApplication(sys.argv[:1])
    from studio.ui.theme import ThemeManager

    ThemeManager(app).apply(dark=os.environ.get("STUDIO_DARK") == "1")
    from studio.ui.main_window import MainWindow

    if args.tour:
        for path in tour(app, OUT / "tour"):
            print(path)
        return
    suffix = "" if args.scale == 1.0 else f"@{args.scale:g}x"
    if os.environ.get("STUDIO_DARK") == "1":
        suffix += "-dark"
    shots = []

    def shot(name: str, project: Project | Path | None, setup=None, layout: bool = False,
             zoom: float | None = None, center: str | None = None) -> None:
        if args.only and name not in args.only:
            return
        window = MainWindow(optional_panels=True)
        window.resize(1600, 960)
        window.show()
        if isinstance(project, Path):
            window.files.open(project, ask=False)  # exactly as File > Open shows it
        else:
            if project is not None:
                window.document.set_project(project)
            if layout:
                window.auto_layout()
                window.document.undo_stack.setClean()
            QTimer.singleShot(0, window.view.fit_to_view)
        for _ in range(5):
            app.processEvents()
        if zoom is not None:
            window.view.set_zoom(zoom / window.view.zoom())
        if center is not None:
            node = next(n for n in window.document.graph.nodes if n.title == center)
            window.view.center_on_node(node.id)
        if setup:
            setup(window)
        for _ in range(5):
            app.processEvents()
        path = OUT / f"{name}{suffix}.png"
        window.grab().save(str(path))
        shots.append(path)
        window.document.undo_stack.setClean()
        window.files.close()
        window.close()

    def select(title):
        def run(window):
            node = next(n for n in window.document.graph.nodes if n.title == title)
            window.document.set_selection([node.id])
        return run

    shot("empty", None)
    cnn_path = ROOT / "projects" / "shapes-cnn.studio.json"
    conv = [n.title for n in load_project(cnn_path).graph.nodes if n.type == "Conv2D"]
    shot("cnn", cnn_path, select(conv[2]))  # a layer in view: the project opens at its start
    shot("residual-50", Project(graph=residual_network(), name="ResNet (50 layers)"), select("b3_conv1"),
         layout=True, zoom=0.7, center="b3_relu1")

    def errors(window):
        select("conv")(window)
        window.docks["diagnosticsDock"].raise_()

    shot("errors", Project(graph=broken_network(), name="Broken model"), errors)

    def train(window):
        """Press Train on the spirals example and wait for its curves (a real run, ~30 s)."""
        panel = window.panels["TrainingPanel"]
        # as a user watching curves would: a taller window, the training dock dragged taller
        window.resize(1600, 1080)
        app.processEvents()
        window.resizeDocks([window.docks["TrainingPanelDock"]], [600], Qt.Orientation.Vertical)
        panel.settings.epochs.setValue(40)
        panel.train_button.click()
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and (panel.is_training() or not panel.plots.history.epoch_x):
            app.processEvents()
            time.sleep(0.02)
        for _ in range(20):
            app.processEvents()
            time.sleep(0.02)
        # the dock as the user left it (Train may have resized it), then the whole network in view
        window.resizeDocks([window.docks["TrainingPanelDock"]], [600], Qt.Orientation.Vertical)
        for _ in range(5):
            app.processEvents()
        window.view.fit_to_view()
        window.statusBar().clearMessage()  # "Opened /tmp/..." says nothing to a reader

    with tempfile.TemporaryDirectory() as tmp:
        spirals = Path(tmp) / "spirals-mlp.studio.json"
        shutil.copy(ROOT / "projects" / spirals.name, spirals)
        shot("training", spirals, train)

    def evaluation(window):
        """Train the shapes CNN for 6 epochs, then the Evaluation tab: the confusion matrix and
        the misclassified test images, the most confident first (a real run, ~1 min)."""
        panel = window.panels["TrainingPanel"]
        window.resize(1600, 1080)
        app.processEvents()
        panel.settings.epochs.setValue(6)
        panel.train_button.click()
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and (panel.is_training() or panel.evaluation.evaluation is None):
            app.processEvents()
            time.sleep(0.02)
        window.resizeDocks([window.docks["TrainingPanelDock"]], [560], Qt.Orientation.Vertical)
        panel.tabs.setCurrentWidget(panel.evaluation)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and panel.evaluation.samples.loading():
            app.processEvents()
            time.sleep(0.02)
        for _ in range(20):
            app.processEvents()
            time.sleep(0.02)
        window.view.fit_to_view()
        window.statusBar().clearMessage()

    with tempfile.TemporaryDirectory() as tmp:
        shapes = Path(tmp) / "shapes-cnn.studio.json"
        shutil.copy(ROOT / "projects" / shapes.name, shapes)
        shot("evaluation", shapes, evaluation)
    for path in shots:
        print(path)


def _wait(app, done, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not done():
        app.processEvents()
        time.sleep(0.02)
    for _ in range(10):
        app.processEvents()
        time.sleep(0.01)


def _drag(app, view, start, end, steps: int = 6) -> None:
    """A real mouse drag on the canvas, from one viewport pixel to another."""
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    port = view.viewport()
    QTest.mouseMove(port, start)
    QTest.mousePress(port, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for i in range(1, steps + 1):
        p = start + (end - start) * (i / steps)
        QTest.mouseMove(port, QPoint(round(p.x()), round(p.y())))
        app.processEvents()
    QTest.mouseRelease(port, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    app.processEvents()


def tour(app, folder: Path) -> list[Path]:
    """A newcomer's first session at the window's opening size, a PNG per step."""
    from PySide6.QtCore import QPointF
    from PySide6.QtTest import QTest

    from studio.ui.main_window import MainWindow

    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    saved: list[Path] = []
    window = MainWindow(optional_panels=True)
    window.resize(1400, 860)
    window.show()
    _wait(app, lambda: False, 0.3)

    def snap(name: str, widget=None) -> None:
        _wait(app, lambda: False, 0.2)
        path = folder / f"{len(saved) + 1:02d}-{name}.png"
        (widget or window).grab().save(str(path))
        saved.append(path)

    tmp = Path(tempfile.mkdtemp(prefix="studio-tour-"))
    example = tmp / "iris-mlp.studio.json"
    shutil.copy(ROOT / "projects" / example.name, example)
    window.files.open(example, ask=False)  # File > Open Example opens a copy like this
    window.statusBar().clearMessage()
    snap("open-example")

    panel = window.panels["TrainingPanel"]
    window.docks["TrainingPanelDock"].raise_()
    panel.settings.epochs.setValue(2)
    panel.train_button.click()
    _wait(app, lambda: not panel.is_training() and bool(panel.plots.history.epoch_x), 300)
    snap("trained")

    panel.tabs.setCurrentWidget(panel.evaluation)
    _wait(app, lambda: panel.evaluation.evaluation is not None and not panel.evaluation.samples.loading(), 120)
    snap("evaluation")

    runs_view = panel.runs_view
    panel.tabs.setCurrentWidget(runs_view)
    runs_view.refresh()
    runs_view.select(runs_view.runs[0].id)
    runs_view.export_button.click()
    dialog = window.model_io.export_dialog
    _wait(app, lambda: dialog.isVisible(), 10)
    snap("export-dialog", dialog)
    exported: list = []
    window.model_io.exported.connect(exported.append)
    dialog.export_button.click()
    _wait(app, lambda: bool(exported), 180)
    snap("exported", window.model_io.progress)
    window.model_io.progress.accept()

    window.document.undo_stack.setClean()
    window.files.new("")  # File > New, empty project
    window.docks["diagnosticsDock"].raise_()
    window.view.fit_to_view()
    snap("new-project")

    # three layers dropped from the palette (a drop calls add_layer_at at the drop point)
    view = window.view
    top_left = view.mapToScene(0, 0)
    image = window.add_layer_at("Input", top_left + QPointF(160, 110), {"batch_shape": [None, 28, 28]})
    dense = window.add_layer_at("Dense", top_left + QPointF(480, 50))
    conv = window.add_layer_at("Conv2D", top_left + QPointF(480, 230))
    window.document.set_selection([])
    snap("three-layers")

    def port(node_id, is_output):
        item = window.scene.node_item(node_id)
        return view.mapFromScene(item.port(is_output, 0).scenePos())

    _drag(app, view, port(image, True), port(dense, False))
    snap("wired")
    _drag(app, view, port(image, True), port(conv, False))  # Conv2D cannot take (None, 28, 28)
    snap("refused-wire")
    # the note's button: a Reshape goes between the two, the Conv2D moves right to make room
    callout = window.scene.callout
    button = callout.deviceTransform(view.viewportTransform()).map(callout.button_rects()[0].center())
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, button.toPoint())
    snap("fix-inserted")
    window.document.undo_stack.undo()  # Ctrl+Z: the Reshape goes, the Conv2D moves back
    snap("undo")
    window.document.undo_stack.setClean()
    window.files.close()
    window.close()
    shutil.rmtree(tmp, ignore_errors=True)
    return saved


if __name__ == "__main__":
    main()
