"""Weights are part of the graph's state (issue 12): an imported model trains from its
weights, frozen nodes keep them, the run records where they came from, a save and a
reload keep them, export reads the same store."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from studio.core.errors import ProjectError
from studio.project.io import load_project, save_project
from studio.project.weights import IMPORTED, WeightEntry, WeightsFileError
from studio.training.reports import Reporter
from studio.workflows import importing
from studio.workflows.train import make_session, make_setup, training_config

keras = pytest.importorskip("keras")


class Messages(Reporter):
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def on_message(self, level: str, text: str) -> None:
        self.lines.append((level, text))


def _data(folder, rows: int = 64):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(rows, 4))
    # Standardised, so the app's input normalisation (fitted on the data) leaves it as it is.
    x = ((x - x.mean(axis=0)) / x.std(axis=0)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 3.0], "float32")[:, None] + 0.25).astype("float32")
    np.save(folder / "x.npy", x)
    np.save(folder / "y.npy", y)
    return x, y


def _original():
    inputs = keras.Input((4,), name="features")
    h = keras.layers.Dense(5, activation="tanh", name="hidden")(inputs)
    h = keras.layers.BatchNormalization(name="norm")(h)
    out = keras.layers.Dense(1, name="out")(h)
    model = keras.Model(inputs, out)
    rng = np.random.default_rng(7)
    # abs: the BatchNormalization's moving variance must be positive
    model.set_weights([np.abs(rng.normal(size=w.shape)).astype("float32") for w in model.get_weights()])
    return model


@pytest.fixture
def imported(tmp_path):
    """(project path, original model, x, y): a small functional model imported with its weights."""
    model = _original()
    model.save(tmp_path / "small.keras")
    x, y = _data(tmp_path)
    result = importing.import_model(tmp_path / "small.keras", tmp_path / "small")
    project = load_project(result.project_path)
    project.dataset = {"kind": "npy", "path": "x.npy", "targets_path": "y.npy", "task": "regression",
                       "split": {"validation": 0.0, "test": 0.0, "seed": 0}}
    project.training = {"epochs": 1, "batch_size": 16, "loss": "mean_squared_error", "learning_rate": 0.01,
                        "seed": 0, "optimizer": "adam", "shuffle": False}
    save_project(project)
    return result.project_path, model, x, y


def _node(project, title):
    return next(n for n in project.graph.nodes if n.title == title)


def test_import_writes_a_numpy_readable_store_with_every_layer(imported):
    path, model, _x, _y = imported
    project = load_project(path)
    assert project.assets["weights"] == "small.weights.npz"
    with np.load(path.with_name("small.weights.npz"), allow_pickle=False) as saved:
        assert len(saved.files) == 1 + 2 + 4 + 2  # index.json + hidden + norm + out
    hidden = project.weights.get(_node(project, "hidden").id)
    assert hidden.origin == IMPORTED
    assert hidden.shapes == [(4, 5), (5,)]


def test_training_starts_from_the_imported_weights(imported):
    path, model, x, y = imported
    project = load_project(path)
    model.compile(loss="mean_squared_error")
    expected = model.evaluate(x, y, verbose=0, batch_size=64)
    prepared = make_setup(project, training_config(project))()  # what `studio train` and the window build
    assert prepared.messages[-1] == "initial weights: imported (3 of 3 layers)"
    assert prepared.record["initial_weights"]["stored"] == 3
    loss = prepared.model.evaluate(x, y, verbose=0, batch_size=64, return_dict=True)["loss"]
    assert loss == pytest.approx(expected, rel=1e-5)
    # A fresh project of the same graph (no stored weights) starts elsewhere.
    project.weights.clear()
    fresh = make_setup(project, training_config(project))()
    assert fresh.messages[-1] == "initial weights: random (no stored weights)"
    assert fresh.model.evaluate(x, y, verbose=0, batch_size=64, return_dict=True)["loss"] != pytest.approx(expected, rel=1e-3)


def test_a_run_records_its_initial_weights_and_frozen_nodes_stay_bit_identical(imported, tmp_path):
    from studio.graph.edits import SetTrainable

    path, _model, _x, _y = imported
    project = load_project(path)
    hidden, norm = _node(project, "hidden"), _node(project, "norm")
    for node in (hidden, norm):
        SetTrainable(node.id, False).apply(project.graph)
    reporter = Messages()
    session = make_session(project, reporter, config=training_config(project, epochs=2))
    result = session.run()
    assert result.status == "completed", result.message
    assert ("info", "initial weights: imported (3 of 3 layers)") in reporter.lines
    record = json.loads((result.run_dir / "config.json").read_text())
    assert record["initial_weights"]["summary"] == "imported (3 of 3 layers)"
    assert record["initial_weights"]["nodes"] == {"hidden": "imported", "norm": "imported", "out": "imported"}
    trained = keras.saving.load_model(result.run_dir / "final.keras", safe_mode=True, compile=False)
    for node in (hidden, norm):
        found = [m for m in [trained] + [layer for layer in trained.layers if isinstance(layer, keras.Model)]
                 if node.title in [layer.name for layer in m.layers]][0]
        after = found.get_layer(node.title).get_weights()
        before = project.weights.get(node.id).arrays
        assert len(after) == len(before)
        for array, stored in zip(after, before):
            assert array.tobytes() == stored.data  # bit-identical
    out = _node(project, "out")
    moved = [m for m in [trained] + list(trained.layers) if isinstance(m, keras.Model)
             and "out" in [layer.name for layer in m.layers]][0].get_layer("out").get_weights()
    assert moved[0].tobytes() != project.weights.get(out.id).arrays[0].data  # the trainable layer learned


def test_a_node_whose_weights_no_longer_fit_starts_random_with_a_warning(imported):
    from studio.graph.edits import SetParam

    path, _model, _x, _y = imported
    project = load_project(path)
    SetParam(_node(project, "hidden").id, "units", 6).apply(project.graph)  # the store is not told
    SetParam(_node(project, "out").id, "units", 1).apply(project.graph)
    prepared = make_setup(project, training_config(project))()
    misfits = [w for w in prepared.warnings if "do not fit" in w]
    # hidden (4x5 -> 4x6) and what follows it (norm: 5 -> 6 features, out: 5x1 -> 6x1)
    assert [w.split(":")[0] for w in misfits] == ["hidden", "norm", "out"]
    assert "stored weights (4x5, 5) do not fit the layer any more (4x6, 6)" in misfits[0]
    assert prepared.messages[-1] == "initial weights: random (the stored weights fit no layer)"


def test_save_and_reload_keep_the_weights_and_a_damaged_file_is_refused_naming_it(imported):
    path, _model, _x, _y = imported
    project = load_project(path)
    hidden = _node(project, "hidden")
    entry = WeightEntry.of([np.full((4, 5), 0.123, "float32"), np.zeros(5, "float32")], "pasted")
    project.weights.set(hidden.id, entry)
    save_project(project)
    again = load_project(path)
    assert again.weights.get(hidden.id) == entry
    weights_file = path.with_name("small.weights.npz")
    data = weights_file.read_bytes()
    weights_file.write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsFileError) as info:
        load_project(path)
    message = str(info.value)
    assert isinstance(info.value, ProjectError)
    assert str(weights_file) in message and "\n" not in message


def test_a_weights_file_holding_objects_is_refused(imported):
    path, _model, _x, _y = imported
    weights_file = path.with_name("small.weights.npz")
    with zipfile.ZipFile(weights_file) as archive:
        index = archive.read("index.json")
    with zipfile.ZipFile(weights_file, "w") as archive:  # a pickled object array in place of w0
        archive.writestr("index.json", index)
        buffer = __import__("io").BytesIO()
        np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
        archive.writestr("w0.npy", buffer.getvalue())
    with pytest.raises(WeightsFileError, match="small.weights.npz"):
        load_project(path)


def test_an_old_project_with_a_keras_weights_file_still_trains_from_it(imported, tmp_path):
    path, model, x, y = imported
    project = load_project(path)
    # What an older version wrote: the rebuilt model's Keras save_weights, named in the assets.
    from studio.compiler.keras_build import apply_weights, build_model
    from studio.compiler.plan import make_plan

    plan = make_plan(project.graph, project.name)
    rebuilt = build_model(plan)
    apply_weights(rebuilt, plan, {n: e.arrays for n, e in project.weights.entries.items()})
    rebuilt.save_weights(tmp_path / "small.weights.h5")
    data = json.loads(path.read_text())
    data["assets"] = {"weights": "small.weights.h5"}
    path.write_text(json.dumps(data))
    (tmp_path / "small.weights.npz").unlink()
    old = load_project(path)
    assert old.weights.legacy == tmp_path / "small.weights.h5" and not old.weights.entries
    prepared = make_setup(old, training_config(old))()
    assert prepared.messages[-1] == "initial weights: imported (3 of 3 layers)"
    model.compile(loss="mean_squared_error")
    loss = prepared.model.evaluate(x, y, verbose=0, batch_size=64, return_dict=True)["loss"]
    assert loss == pytest.approx(model.evaluate(x, y, verbose=0, batch_size=64), rel=1e-5)
    save_project(old)  # untouched: it keeps naming its Keras file
    assert json.loads(path.read_text())["assets"] == {"weights": "small.weights.h5"}


def test_export_writes_the_stored_weights(imported, tmp_path):
    from studio.export.project_export import export_project

    path, model, x, _y = imported
    project = load_project(path)
    result = export_project(project, "keras", tmp_path / "out.keras", log=lambda _line: None)
    exported = keras.saving.load_model(result.path, safe_mode=True, compile=False)
    assert np.abs(exported.predict(x, verbose=0) - model.predict(x, verbose=0)).max() == 0
