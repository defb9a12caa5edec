"""Write the example projects in this folder with `studio.project.save_project`.

Run from the repository root:  .venv/bin/python projects/make_examples.py
Each example is bound to a bundled sample (`{"kind": "sample", ...}`), so it
opens and trains anywhere without a download. Examples whose layers are not
in the catalog yet are skipped with a message.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.graph import Edge, Graph, Node, default_catalog  # noqa: E402
from studio.project import Project, save_project  # noqa: E402

HERE = Path(__file__).resolve().parent
SPLIT = {"validation": 0.2, "test": 0.1, "seed": 0, "stratify": True}


class Chain:
    """Builds a graph left to right: each `add` wires the new node after the last one."""

    def __init__(self) -> None:
        self.graph = Graph()
        self.last: str | None = None
        self.x = 0.0

    def add(self, type_id: str, title: str = "", after: str | None = None, port: int = 0, **params) -> str:
        # Readable, stable ids so regenerating an example gives the same file.
        base = (title or type_id).lower().replace(" ", "-")
        node_id, n = base, 2
        while self.graph.has_node(node_id):
            node_id, n = f"{base}-{n}", n + 1
        node = Node(type=type_id, params=params, title=title, position=(self.x, 0.0), id=node_id)
        self.x += 220.0
        self.graph.add_node(node)
        source = after if after is not None else self.last
        if source is not None:
            self.graph.connect(Edge(source, node.id, 0, port))
        self.last = node.id
        return node.id


def iris_mlp() -> Project:
    c = Chain()
    c.add("Input", "measurements", batch_shape=[None, 4])
    c.add("Dense", "hidden", units=16, activation="relu")
    c.add("Dense", "species", units=3, activation="softmax")
    return Project(
        graph=c.graph,
        name="Iris MLP",
        description="Classify iris flowers from 4 measurements with a small multi-layer perceptron. "
        "The features are normalised inside the model, so the trained model takes raw centimetres.",
        dataset={"kind": "sample", "path": "iris", "targets": ["species"], "task": "classification",
                 "split": dict(SPLIT)},
        training={"epochs": 60, "batch_size": 16},
    )


EXAMPLES: dict[str, tuple[Callable[[], Project], tuple[str, ...]]] = {
    "iris-mlp": (iris_mlp, ("Input", "Dense")),
}


def main() -> int:
    ids = set(default_catalog().ids())
    for name, (build, needs) in EXAMPLES.items():
        missing = [n for n in needs if n not in ids]
        if missing:
            print(f"skip {name}: the catalog has no {', '.join(missing)} yet")
            continue
        path = save_project(build(), HERE / f"{name}.studio.json")
        print(f"wrote {path.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
