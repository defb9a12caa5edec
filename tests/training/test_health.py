"""Training health (studio/training/health.py): measured inside the train step, flagged per node.

Tiny networks built to go wrong in one known place: a layer with a huge initializer (exploding
gradients), a ReLU layer with a large negative bias (dead units), and the healthy Iris MLP."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from studio.training import health
from studio.training.health import LayerStats

from .conftest import IRIS, Recorder

pytest.importorskip("keras")


def iris_with(folder: Path, insert: list[dict] | None = None, epochs: int = 3) -> Path:
    """The Iris example with `insert` (Dense nodes) chained between the Input and 'hidden'."""
    data = json.loads(IRIS.read_text())
    graph = data["graph"]
    chain = ["measurements"] + [node["id"] for node in insert or []] + ["hidden"]
    for i, node in enumerate(insert or []):
        graph["nodes"].append({"id": node["id"], "type": "Dense", "title": node["id"], "params": node["params"],
                               "position": [110.0 + 20 * i, 120.0], "trainable": True})
    graph["edges"] = [e for e in graph["edges"] if e["target"] != "hidden"] + [
        {"source": a, "source_port": 0, "target": b, "target_port": 0} for a, b in zip(chain, chain[1:])]
    data["training"].update(epochs=epochs, batch_size=16, seed=1)
    path = folder / "iris.studio.json"
    path.write_text(json.dumps(data))
    return path


EXPLODE = [{"id": "boom", "params": {"units": 16, "activation": "linear",
                                     "kernel_initializer": {"class_name": "RandomNormal",
                                                            "config": {"stddev": 100.0}}}}]
DIE = [{"id": "dying", "params": {"units": 16, "activation": "relu",
                                  "bias_initializer": {"class_name": "Constant", "config": {"value": -100.0}}}}]


def _train(path: Path, tmp_path: Path):
    from studio.project.io import load_project
    from studio.workflows.train import make_session

    recorder = Recorder()
    recorder.health = []
    recorder.on_health = recorder.health.append
    session = make_session(load_project(path), recorder, runs_root=tmp_path / "runs", health=True)
    result = session.run()
    assert result.status == "completed", result.message
    return result, recorder


def test_a_layer_with_a_huge_initializer_is_flagged_as_exploding_on_its_node(tmp_path):
    result, recorder = _train(iris_with(tmp_path, EXPLODE), tmp_path)
    assert recorder.health, "no health report during training"
    exploding = [f for f in result.health if f["kind"] == "exploding"]
    assert [f["node_id"] for f in exploding] == ["boom"]
    assert "clip" in exploding[0]["message"] and "learning rate" in exploding[0]["message"]
    assert "start at boom" in exploding[0]["message"] and "initializer" in exploding[0]["message"]
    # the in-step measurement: 'boom' scales its input up, the layer after it gets the huge gradient
    first = {s.node_id: s for s in recorder.health[0].layers}
    assert first["boom"].gain > health.BLAME_GAIN
    assert first["hidden"].grad_norm > health.EXPLODING_RELATIVE * first["hidden"].weight_norm
    # the run folder keeps the history and the flags
    rows = list(csv.DictReader((result.run_dir / health.HEALTH_CSV).open()))
    assert {r["node"] for r in rows} >= {"boom", "hidden", "species"}
    assert any(r["node"] == "boom" and r["flag"] == "exploding" for r in rows)
    assert [f["node_id"] for f in health.read_flags(result.run_dir)] == [f["node_id"] for f in result.health]
    loaded = health.load_history(result.run_dir)  # what the Health tab shows for a past run
    assert [(f["node_id"], f["kind"], f["message"]) for f in loaded.flags()] == [
        (f["node_id"], f["kind"], f["message"]) for f in result.health]
    assert loaded.series("hidden", "grad_norm")[1] == pytest.approx(
        [r.layers[[s.node_id for s in r.layers].index("hidden")].grad_norm for r in recorder.health], rel=1e-5)


def test_a_relu_layer_with_a_large_negative_bias_is_flagged_as_dead_units(tmp_path):
    result, recorder = _train(iris_with(tmp_path, DIE), tmp_path)
    dead = [f for f in result.health if f["kind"] == "dead"]
    assert [f["node_id"] for f in dead] == ["dying"]
    assert "LeakyReLU" in dead[0]["message"]
    stats = {s.node_id: s for s in recorder.health[-1].layers}
    assert stats["dying"].dead == 1.0 and stats["dying"].grad_norm == 0.0
    assert stats["hidden"].starved  # all zeros come in: not flagged, the layer before it is the cause


def test_the_healthy_iris_mlp_raises_no_flag(tmp_path):
    result, recorder = _train(iris_with(tmp_path), tmp_path)
    assert len(recorder.health) >= 3  # several samples per run (every few steps and each epoch's end)
    assert result.health == []
    assert all(not report.flags for report in recorder.health)
    layers = recorder.health[-1].layers
    weighted = [s for s in layers if s.grad_norm is not None]
    assert [s.node_id for s in weighted] == ["hidden", "species"]
    assert all(0 < s.update_ratio < 0.5 and s.weight_norm > 0 for s in weighted)
    # the saved model is plain: the optimizer's wrapper is gone once training ends
    import keras

    model = keras.saving.load_model(result.run_dir / "final.keras", safe_mode=True)
    assert "apply_gradients" not in vars(model.optimizer)


def test_studio_train_health_prints_the_flagged_nodes(tmp_path, capsys):
    from studio.cli import main

    path = iris_with(tmp_path, DIE, epochs=2)
    assert main(["train", str(path), "--health", "--run-dir", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out
    assert "Health: 1 problem(s) flagged" in out
    assert "dying [dead]" in out and "LeakyReLU" in out
    run = next((tmp_path / "runs").iterdir())
    assert (run / health.HEALTH_CSV).is_file() and (run / health.HEALTH_JSON).is_file()


def _layer(node: str, **values) -> LayerStats:
    return LayerStats(node_id=node, label=node, **values)


def test_rules_name_the_fix_and_the_first_layer_with_nan():
    flags = health.rules([_layer("a", grad_norm=1.0, weight_norm=1.0, update_ratio=0.01),
                          _layer("b", grad_norm=float("nan"), weight_norm=1.0, non_finite=True),
                          _layer("c", grad_norm=float("nan"), non_finite=True)], learning_rate=0.1)
    assert [(f.node_id, f.kind) for f in flags] == [("b", "nan")]
    assert "lower the learning rate (now 0.1, e.g. 0.01)" in flags[0].message
    vanishing = health.rules([_layer("low", grad_norm=1e-9, weight_norm=1.0),
                              _layer("top", grad_norm=1.0, weight_norm=1.0)])
    assert [(f.node_id, f.kind) for f in vanishing] == [("low", "vanishing")]
    assert "BatchNormalization" in vanishing[0].message and "residual" in vanishing[0].message
    saturated = health.rules([_layer("s", activation="tanh", saturated=0.9),
                              _layer("out", activation="sigmoid", saturated=0.9, is_output=True)])
    assert [(f.node_id, f.kind) for f in saturated] == [("s", "saturated")]


def test_nan_is_flagged_where_it_first_appears_and_the_op_is_named(tmp_path, keras):
    import numpy as np

    inputs = keras.Input((4,))
    x = keras.layers.Dense(8, kernel_initializer="ones", name="fine", trainable=False)(inputs)
    # frozen layers keep their weights: the NaN step cannot hide where the overflow starts
    x = keras.layers.Dense(8, kernel_initializer=keras.initializers.Constant(1e38), name="overflow",
                           trainable=False)(x)
    model = keras.Model(inputs, keras.layers.Dense(1, name="out")(x))
    model.compile("sgd", "mse")
    layers = [(n, "Dense", f"node-{n}", n.title()) for n in ("fine", "overflow", "out")]
    monitor = health.Monitor(layers, lambda report: None)
    x_train = np.ones((32, 4), "float32")
    model.fit(x_train, np.zeros((32, 1)), batch_size=16, epochs=1, verbose=0,
              callbacks=[monitor.attach(model, x_train, 2)])
    monitor.detach()
    first = monitor.history.reports[0]
    assert [(f.node_id, f.kind) for f in first.flags] == [("node-overflow", "nan")]
    assert "NaN/inf first appears at Overflow" in first.flags[0].message
    assert monitor.first_non_finite_op() == "MatMul in Overflow"


def test_a_loss_scaled_optimizer_reports_the_true_gradient_norms(keras):
    """Mixed precision's LossScaleOptimizer is handed gradients times its scale (32768 at first):
    the health numbers divide it out, so a healthy network is not called exploding."""
    import numpy as np

    def build(optimizer):
        keras.utils.set_random_seed(0)
        inputs = keras.Input((4,))
        hidden = keras.layers.Dense(8, activation="relu", name="a")(inputs)
        model = keras.Model(inputs, keras.layers.Dense(1, name="b")(hidden))
        model.compile(optimizer, "mse")
        return model

    x = np.random.default_rng(0).random((64, 4)).astype("float32")
    norms = []
    for optimizer in (keras.optimizers.SGD(0.0), keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.0))):
        model = build(optimizer)
        monitor = health.Monitor([], lambda report: None)
        model.fit(x, x.sum(axis=1), batch_size=16, epochs=1, verbose=0, callbacks=[monitor.attach(model, x, 4)])
        # The first measured step of the epoch: which later steps are measured depends on timing.
        first = monitor.history.reports[0]
        norms.append((first.step, [s.grad_norm for s in first.layers if s.grad_norm is not None]))
        assert monitor.history.flags() == []
    assert norms[1][0] == norms[0][0]
    assert norms[1][1] == pytest.approx(norms[0][1], rel=1e-4)
