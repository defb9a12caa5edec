"""Canvas speed: load and render a 500-node graph, then pan it.

    .venv/bin/python bench/bench_canvas.py [--nodes 500] [--frames 60]

Prints the time to build the document + scene and paint the first frame, and
the frame time of panning at 100% zoom and at fit-to-view (all nodes
visible), next to the same figures for an empty canvas measured in the same
run. Targets: load < 2 s, pan frames < 16 ms.
Runs offscreen unless a display is set (QT_QPA_PLATFORM=offscreen).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from studio.graph.model import Edge, Graph, Node  # noqa: E402
from studio.project.model import Project  # noqa: E402


def residual_graph(n: int) -> Graph:
    """Input, then blocks Dense -> Dense -> Add(skip), laid out left to right."""
    g = Graph()
    prev = g.add_node(Node("Input", {"batch_shape": [None, 64]}, title="x", position=(0, 0)))
    col = 1
    while len(g.nodes) + 3 <= n:
        a = g.add_node(Node("Dense", {"units": 64, "activation": "relu"}, title=f"a{col}",
                            position=(col * 260, 120)))
        b = g.add_node(Node("Dense", {"units": 64}, title=f"b{col}", position=(col * 260 + 260, 120)))
        add = g.add_node(Node("Add", {}, title=f"add{col}", position=(col * 260 + 520, 0)))
        g.connect(Edge(prev.id, a.id))
        g.connect(Edge(a.id, b.id))
        g.connect(Edge(prev.id, add.id, 0, 0))
        g.connect(Edge(b.id, add.id, 0, 1))
        prev, col = add, col + 3
    while len(g.nodes) < n:
        d = g.add_node(Node("Dense", {"units": 64}, position=(col * 260, 0)))
        g.connect(Edge(prev.id, d.id))
        prev, col = d, col + 1
    return g


def measure(graph: Graph, frames: int) -> dict[str, float]:
    from studio.ui.canvas.scene import CanvasScene
    from studio.ui.canvas.view import CanvasView
    from studio.ui.document import ProjectDocument

    start = time.perf_counter()
    document = ProjectDocument(Project(graph=graph, name="bench"))
    scene = CanvasScene(document)
    view = CanvasView(scene)
    view.resize(1400, 900)
    view.show()
    QApplication.processEvents()
    view.centerOn(QPointF(0, 0))
    view.viewport().repaint()
    load = time.perf_counter() - start

    def pan() -> float:
        times = []
        for i in range(frames):
            t0 = time.perf_counter()
            view.pan_pixels(QPointF(-12 if (i // 30) % 2 == 0 else 12, 3 if i % 2 else -3))
            view.viewport().repaint()
            times.append(time.perf_counter() - t0)
        return statistics.median(times) * 1000, max(times) * 1000

    pan_100 = pan()
    view.fit_to_view()
    view.viewport().repaint()
    pan_fit = pan()
    t0 = time.perf_counter()
    document.refresh_report()
    refresh = time.perf_counter() - t0
    view.close()
    return {"load_s": load, "pan100_med": pan_100[0], "pan100_max": pan_100[1], "panfit_med": pan_fit[0],
            "panfit_max": pan_fit[1], "refresh_ms": refresh * 1000, "zoom_fit": view.zoom()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--frames", type=int, default=60)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    from studio.ui.theme import ThemeManager

    ThemeManager(app).apply(dark=False)
    baseline = measure(Graph(), args.frames)
    big = measure(residual_graph(args.nodes), args.frames)
    print(f"platform: {app.platformName()}, {args.frames} pan frames each")
    print(f"{'':28}{'empty canvas':>14}{f'{args.nodes} nodes':>14}   target")
    print(f"{'load + first paint (s)':28}{baseline['load_s']:14.3f}{big['load_s']:14.3f}   < 2")
    print(f"{'pan at 100% median (ms)':28}{baseline['pan100_med']:14.2f}{big['pan100_med']:14.2f}   < 16")
    print(f"{'pan at 100% worst (ms)':28}{baseline['pan100_max']:14.2f}{big['pan100_max']:14.2f}")
    print(f"{'pan at fit median (ms)':28}{baseline['panfit_med']:14.2f}{big['panfit_med']:14.2f}   < 16"
          f"   (zoom {big['zoom_fit']:.2f})")
    print(f"{'pan at fit worst (ms)':28}{baseline['panfit_max']:14.2f}{big['panfit_max']:14.2f}")
    print(f"{'report + node refresh (ms)':28}{baseline['refresh_ms']:14.2f}{big['refresh_ms']:14.2f}")


if __name__ == "__main__":
    main()
