"""An image folder plus a CSV of side features: each row names its image file (8x8 PNGs in one
folder per class) and gives two side numbers; one Input gets the images, another the side
features, one output the class of each image's folder and another a number column of the table.
The data is described and bound per node, the model trains and is evaluated per output."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio import data
from studio.core.errors import DataError, TrainingError
from studio.data import binding
from studio.graph import Edge, Graph, Node
from studio.project import Project, save_project
from studio.training.config import TrainingConfig
from studio.workflows import evaluate, train

CLASSES = ("cats", "dogs")


def make_folder(root: Path, rows: int = 48, seed: int = 0) -> Path:
    """root/pics/{cats,dogs}/NNN.png (cats dark red, dogs bright blue, with noise) and root/side.csv
    with file, width, height, weight (= 2 * width + height + noise) and a label column too."""
    rng = np.random.default_rng(seed)
    lines = ["file,width,height,weight,label"]
    for i in range(rows):
        cls = CLASSES[i % 2]
        folder = root / "pics" / cls
        folder.mkdir(parents=True, exist_ok=True)
        base = np.array([120, 20, 20] if cls == "cats" else [20, 60, 200], dtype=np.float64)
        pixels = np.clip(base + rng.normal(0, 25, size=(8, 8, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(pixels, "RGB").save(folder / f"{i:03d}.png")
        w, h = rng.uniform(0, 10, size=2)
        lines.append(f"{cls}/{i:03d}.png,{w:.3f},{h:.3f},{2 * w + h + rng.normal(0, 0.2):.3f},{cls[:-1]}")
    (root / "side.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root / "side.csv"


def spec(**changes) -> dict:
    out = {"kind": "csv", "path": "side.csv", "image": {"column": "file", "folder": "pics"},
           "inputs": [{"node": "picture", "features": ["file"]}, {"node": "side", "features": ["width", "height"]}],
           "outputs": [{"node": "animal", "targets": ["file:folder"]}, {"node": "weight", "targets": ["weight"]}],
           "split": {"validation": 0.25, "test": 0.25, "seed": 1}}
    out.update(changes)
    return out


def graph() -> Graph:
    g = Graph()

    def add(node_id: str, type_id: str, x: float, y: float, **params) -> None:
        g.add_node(Node(type=type_id, params=params, title=node_id, position=(x, y), id=node_id))

    add("picture", "Input", 0, 0, batch_shape=[None, 8, 8, 3])
    add("side", "Input", 0, 200, batch_shape=[None, 2])
    add("flat", "Flatten", 200, 0)
    add("join", "Concatenate", 400, 100)
    add("hidden", "Dense", 600, 100, units=16, activation="relu")
    add("animal", "Dense", 800, 0, units=2, activation="softmax")
    add("weight", "Dense", 800, 200, units=1, activation="linear")
    for source, target, port in (("picture", "flat", 0), ("flat", "join", 0), ("side", "join", 1),
                                 ("join", "hidden", 0), ("hidden", "animal", 0), ("hidden", "weight", 0)):
        g.connect(Edge(source, target, 0, port))
    return g


def test_describe_binds_the_images_and_the_side_columns(tmp_path):
    make_folder(tmp_path)
    info = data.describe(spec(), tmp_path)
    by_node = {b["node"]: b for b in info.bound}
    assert info.num_samples == 48 and info.image_size == (8, 8)
    assert by_node["picture"]["shape"] == [8, 8, 3] and by_node["side"]["shape"] == [2]
    assert by_node["animal"]["task"] == "classification" and by_node["animal"]["class_names"] == ["cats", "dogs"]
    assert by_node["weight"]["task"] == "regression"
    assert [c.name for c in info.columns] == ["file", "width", "height", "weight", "label", "file:folder"]
    assert binding.check(graph(), info) == []
    # A target from a column of the table works too: 'label' (cat/dog).
    other = data.describe(spec(outputs=[{"node": "animal", "targets": ["label"]},
                                        {"node": "weight", "targets": ["weight"]}]), tmp_path)
    assert {b["node"]: b for b in other.bound}["animal"]["class_names"] == ["cat", "dog"]


def test_bad_image_names_are_refused_naming_the_line(tmp_path):
    csv = make_folder(tmp_path, rows=6)
    text = csv.read_text(encoding="utf-8").splitlines()
    text[3] = "../side.csv," + text[3].split(",", 1)[1]
    csv.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"line 4: the image '../side.csv' is outside the image folder"):
        data.describe(spec(), tmp_path)
    text[3] = "cats/nothing.png," + text[3].split(",", 1)[1]
    csv.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"line 4: the image file 'cats/nothing.png' is not in"):
        data.describe(spec(), tmp_path)
    with pytest.raises(DataError, match="no column 'picture_file' naming the images"):
        data.describe(spec(image={"column": "picture_file", "folder": "pics"}), tmp_path)
    make_folder(tmp_path, rows=6)  # the table as written, every image there
    with pytest.raises(DataError, match="6 images of 4096x4096 are too many to hold in memory"):
        data.describe(spec(image={"column": "file", "folder": "pics", "size": [4096, 4096]}), tmp_path)


def test_the_model_trains_and_is_evaluated_per_output(tmp_path, qtbot):
    make_folder(tmp_path)
    project = Project(graph=graph(), name="pictures", dataset=spec(),
                      training={"epochs": 25, "batch_size": 8, "learning_rate": 0.01, "seed": 0})
    save_project(project, tmp_path / "pictures.studio.json")
    result = train.make_session(project, config=TrainingConfig.from_dict(project.training)).run()
    assert result.status == "completed", result.message
    evaluation = evaluate.evaluate_run(project)
    animal, weight = evaluation["outputs"]["animal"], evaluation["outputs"]["weight"]
    assert animal["class_names"] == ["cats", "dogs"] and animal["samples"] == 12
    assert animal["accuracy"] >= 0.9, animal["accuracy"]  # the colours tell them apart
    spread = np.std([2 * w + h for w, h in np.random.default_rng(0).uniform(0, 10, size=(200, 2))])
    assert weight["mae"] < spread, (weight["mae"], spread)  # better than guessing the mean
    # The test samples are the table's rows, named by their line (the image file in the first column).
    sample = evaluate.read_samples(animal, [0])[0]
    assert sample["label"].startswith("row ") and sample["columns"][0][0] == "file"
    assert sample["columns"][0][1].endswith(".png") and not sample["problem"]
    # ...and its image file, which the Evaluation tab shows as a thumbnail beside the row.
    assert Path(sample["path"]) == tmp_path / "pics" / sample["columns"][0][1] and Path(sample["path"]).is_file()
    from studio.ui.training.samples_view import load_chunk

    _generation, _samples, thumbnails = load_chunk(animal, [0, 1], 0)
    assert sorted(thumbnails) == [0, 1] and thumbnails[0].width() > 0
    # The trained model takes the raw pixels (0..255) and side numbers: its first layers scale them.
    run = train.find_run(project, None)
    model = evaluate.load_run_model(run)
    names = [type(layer).__name__ for layer in model.layers]
    assert "Rescaling" in names and "Normalization" in names
    config = json.loads((run.path / "config.json").read_text(encoding="utf-8"))
    assert config["dataset_resolved"]["preprocessing"]["inputs"]["picture"] == {"rescale": 1 / 255}


def test_the_exported_script_refuses_images_named_in_a_table_with_a_clear_message(tmp_path):
    from studio.data.codegen import loader_source

    make_folder(tmp_path, rows=6)
    with pytest.raises(DataError, match="the exported script cannot read images named in a table yet"):
        loader_source(spec(), tmp_path)


def test_an_input_without_data_is_refused_naming_the_node(tmp_path):
    make_folder(tmp_path, rows=8)
    project = Project(graph=graph(), name="pictures", dataset=spec(inputs=[{"node": "side",
                                                                            "features": ["width", "height"]}]))
    save_project(project, tmp_path / "pictures.studio.json")
    with pytest.raises(TrainingError, match="Input 'picture' has no data"):
        train.make_session(project)


def test_studio_check_puts_a_wrong_image_shape_on_the_image_input(tmp_path, capsys):
    from studio.cli import main

    make_folder(tmp_path, rows=8)
    g = graph()
    g.node("picture").params["batch_shape"] = [None, 16, 16, 3]
    save_project(Project(graph=g, name="pictures", dataset=spec()), tmp_path / "p.studio.json")
    assert main(["check", str(tmp_path / "p.studio.json")]) != 0
    err = capsys.readouterr().err
    assert "node 'picture': 'picture' expects samples of shape (16, 16, 3) but its columns (file) give (8, 8, 3); " \
           "set batch_shape to [None, 8, 8, 3]" in err
