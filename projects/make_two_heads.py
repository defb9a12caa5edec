"""Write the two-input, two-output example and its data (deterministic, seed 0).

Run from the repository root:  .venv/bin/python projects/make_two_heads.py
It writes ``resources/datasets/two_heads.csv`` (600 rows: features a1..a3 decide a class
``kind`` in {low, mid, high}; features b1, b2 give a number ``amount``) and
``projects/two-heads.studio.json`` (bound to it as the bundled sample "two-heads"): Input "features a" and Input "features b", each with a
small Dense branch, concatenated, then two heads: "kind" (3 classes, softmax) and "amount"
(one number). The dataset binds columns a1..a3 to the first Input, b1, b2 to the second,
``kind`` to the first head and ``amount`` to the second.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from studio.graph import Edge, Graph, Node  # noqa: E402
from studio.project import Project, save_project  # noqa: E402

DATA = ROOT / "resources" / "datasets" / "two_heads.csv"
PROJECT = ROOT / "projects" / "two-heads.studio.json"
ROWS = 600
CLASSES = ("low", "mid", "high")


def table(rows: int = ROWS, seed: int = 0) -> list[tuple]:
    rng = np.random.default_rng(seed)
    a = rng.normal(0.0, 1.0, size=(rows, 3))
    score = a[:, 0] + 0.5 * a[:, 1] - 0.5 * a[:, 2] + rng.normal(0.0, 0.15, size=rows)
    kind = np.digitize(score, [-0.6, 0.6])  # 0, 1, 2: about a third each
    b = rng.uniform(0.0, 10.0, size=(rows, 2))
    amount = 20.0 + 3.0 * b[:, 0] - 2.0 * b[:, 1] + rng.normal(0.0, 0.5, size=rows)
    return [(*np.round(a[i], 3), *np.round(b[i], 3), CLASSES[kind[i]], round(float(amount[i]), 2))
            for i in range(rows)]


def write_table(path: Path = DATA) -> None:
    lines = ["a1,a2,a3,b1,b2,kind,amount"]
    lines += [",".join(str(v) for v in row) for row in table()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def project() -> Project:
    g = Graph()

    def add(node_id: str, type_id: str, x: float, y: float, **params) -> str:
        g.add_node(Node(type=type_id, params=params, title=node_id.replace("-", " "), position=(x, y), id=node_id))
        return node_id

    add("features-a", "Input", 0, 0, batch_shape=[None, 3])
    add("features-b", "Input", 0, 200, batch_shape=[None, 2])
    add("branch-a", "Dense", 220, 0, units=16, activation="relu")
    add("branch-b", "Dense", 220, 200, units=16, activation="relu")
    add("join", "Concatenate", 440, 100)
    add("shared", "Dense", 660, 100, units=32, activation="relu")
    add("kind", "Dense", 880, 0, units=3, activation="softmax")
    add("amount", "Dense", 880, 200, units=1, activation="linear")
    for source, target, port in (("features-a", "branch-a", 0), ("features-b", "branch-b", 0),
                                 ("branch-a", "join", 0), ("branch-b", "join", 1), ("join", "shared", 0),
                                 ("shared", "kind", 0), ("shared", "amount", 0)):
        g.connect(Edge(source, target, 0, port))
    return Project(
        graph=g,
        name="Two inputs, two heads",
        description="Two groups of table columns, each into its own Input, joined, then two heads: a class "
        "(kind: low/mid/high from a1..a3) and a number (amount from b1, b2). Each head has its own loss "
        "(sparse categorical cross-entropy and mean squared error) and its own metrics.",
        dataset={"kind": "sample", "path": "two-heads",
                 "inputs": [{"node": "features-a", "features": ["a1", "a2", "a3"]},
                            {"node": "features-b", "features": ["b1", "b2"]}],
                 "outputs": [{"node": "kind", "targets": ["kind"], "task": "classification"},
                             {"node": "amount", "targets": ["amount"], "task": "regression", "weight": 0.1}],
                 "split": {"validation": 0.2, "test": 0.2, "seed": 0, "stratify": True}},
        training={"epochs": 40, "batch_size": 32, "learning_rate": 0.01},
    )


if __name__ == "__main__":
    write_table()
    save_project(project(), PROJECT)
    print(f"wrote {DATA.relative_to(ROOT)} and {PROJECT.relative_to(ROOT)}")
