"""Two-phase fine-tuning in one run: the head on a frozen backbone, then the backbone's top at a lower rate."""

from __future__ import annotations

import json

import numpy as np
import pytest

from studio.compiler.keras_build import build_model
from studio.compiler.plan import make_plan
from studio.training import runs
from studio.training.config import TrainingConfig
from studio.training.reports import TaskInfo
from studio.training.session import TrainingSession
from tests.compiler.graphs import Builder
from tests.training.conftest import Recorder

SIZE, TOP = 32, 12


def _graph():
    b = Builder()
    x = b.input(SIZE, SIZE, 3, title="images")
    base = b.add("Backbone", title="base", backbone="MobileNetV3Small", pooling="avg")
    head = b.add("Dense", units=2, title="head")
    b.chain(x, base, head)
    return b.graph


def calibrated(keras, plan, x):
    """The model with its backbone's BatchNormalization statistics set from `x`, like a pretrained base's
    (a random base in inference mode passes features of ~1e-11 and no usable gradients)."""
    model = build_model(plan)
    layers = [layer for layer in model.get_layer("base").layers[-1].layers
              if isinstance(layer, keras.layers.BatchNormalization)]
    before = [(layer.momentum, layer.trainable) for layer in layers]
    for layer in layers:  # a frozen BatchNormalization would not update its statistics
        layer.momentum, layer.trainable = 0.0, True
    model.get_layer("base")(x, training=True)
    for layer, (momentum, trainable) in zip(layers, before):
        layer.momentum, layer.trainable = momentum, trainable
    return model


def _reference(keras, unfreeze_top=None):
    """Keras' own MobileNetV3Small frozen as each phase asks (the recipe: BatchNormalization stays frozen)."""
    ref = keras.applications.MobileNetV3Small(include_top=False, weights=None, input_shape=(SIZE, SIZE, 3),
                                              pooling="avg")
    ref.trainable = unfreeze_top is not None
    if unfreeze_top is not None:
        for i, layer in enumerate(ref.layers):
            layer.trainable = i >= len(ref.layers) - unfreeze_top and not isinstance(
                layer, keras.layers.BatchNormalization)
    return sum(int(np.prod(w.shape)) for w in ref.trainable_weights)


class PhaseRecorder(Recorder):
    """Keeps the backbone's weights at the start and after each epoch (on the training thread)."""

    def __init__(self, session_box):
        super().__init__()
        self.box = session_box
        self.snapshots = []

    def _base(self):
        return [w.numpy().copy() for w in self.box[0].model.get_layer("base").weights]

    def on_start(self, info):
        super().on_start(info)
        self.snapshots.append(self._base())
        self.trainable_in_phase1 = None

    def on_epoch(self, report):
        super().on_epoch(report)
        self.snapshots.append(self._base())


def tiny_base_model(keras, frozen=False):
    """Input(6) -> a marked 'base' (its network 'app': low Dense, BatchNormalization, mid and top Dense)
    -> a Dense 'head' of 2: a backbone in miniature, for the fast tests."""
    from studio.hub.backbones import BASE_ATTR

    app_in = keras.Input((6,))
    h = keras.layers.Dense(8, activation="tanh", name="low")(app_in)
    h = keras.layers.BatchNormalization(name="bn")(h)
    h = keras.layers.Dense(8, activation="tanh", name="mid")(h)
    app = keras.Model(app_in, keras.layers.Dense(5, activation="tanh", name="top")(h), name="app")
    app.trainable = not frozen
    base_in = keras.Input((6,))
    base = keras.Model(base_in, app(base_in, training=False) if frozen else app(base_in), name="base")
    setattr(base, BASE_ATTR, True)
    inputs = keras.Input((6,))
    return keras.Model(inputs, keras.layers.Dense(2, name="head")(base(inputs)))


def test_two_phase_run_on_a_small_base(tmp_path, keras, blobs):
    x, y = blobs
    x = np.concatenate([x, x[:, :2]], axis=1)
    y = (y > 0).astype("int64")
    config = TrainingConfig(epochs=3, batch_size=32, learning_rate=0.02, optimizer="adam", seed=2,
                            checkpoint_best=False, steps_per_execution=1,
                            fine_tune={"enabled": True, "head_epochs": 2, "unfreeze_top": 1, "lr_factor": 0.1})
    box = []
    recorder = PhaseRecorder(box)
    session = TrainingSession(lambda: tiny_base_model(keras), (x, y), None, config, recorder,
                              task=TaskInfo(task="classification", num_classes=2),
                              runs_root=tmp_path / "p.runs", tensorboard=False)
    box.append(session)
    result = session.run()
    assert result.status == "completed", result.message
    one, two = json.loads((result.run_dir / runs.CONFIG_FILE).read_text())["phases"]
    assert (one["first_epoch"], one["last_epoch"], one["trainable_params"]) == (1, 2, 5 * 2 + 2)
    assert (two["first_epoch"], two["last_epoch"], two["trainable_params"]) == (3, 3, 12 + 8 * 5 + 5)
    start, epoch1, epoch2, epoch3 = recorder.snapshots
    for a, b, c in zip(start, epoch1, epoch2):  # the head epochs: the base, its statistics too, bit-identical
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    base = session.model.get_layer("base")
    changed = {w.path for w, a, b in zip(base.weights, epoch2, epoch3) if not np.array_equal(a, b)}
    assert changed == {"top/kernel", "top/bias"}
    history = runs.load_history(result.run_dir)
    assert list(history.epoch["phase"]) == [1.0, 1.0, 2.0] and history.phase_boundaries() == [(2.0, 2)]
    assert history.epoch["learning_rate"][2] == pytest.approx(history.epoch["learning_rate"][0] * 0.1)
    assert any("computed once" in text for _level, text in recorder.messages)  # the head epochs were cached


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_two_phase_run_freezes_then_fine_tunes_the_top_only(tmp_path, keras):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, size=(16, SIZE, SIZE, 3)).astype("float32")
    y = rng.integers(0, 2, size=16)
    plan = make_plan(_graph(), "two_phase")
    config = TrainingConfig(epochs=2, batch_size=8, learning_rate=0.01, optimizer="adam", seed=2,
                            validation_split=0.0, steps_per_execution=1, checkpoint_best=False,
                            fine_tune={"enabled": True, "head_epochs": 1, "unfreeze_top": TOP, "lr_factor": 0.1})
    box = []
    recorder = PhaseRecorder(box)
    session = TrainingSession(lambda: calibrated(keras, plan, x), (x, y), None, config, recorder,
                              task=TaskInfo(task="classification", num_classes=2),
                              runs_root=tmp_path / "p.runs", tensorboard=False)
    box.append(session)
    result = session.run()
    assert result.status == "completed", result.message
    assert result.epochs_done == 2

    record = json.loads((result.run_dir / runs.CONFIG_FILE).read_text())
    one, two = record["phases"]
    head = 576 * 2 + 2
    assert (one["phase"], one["first_epoch"], one["last_epoch"], one["base"]) == (1, 1, 1, "frozen")
    assert one["trainable_params"] == head + _reference(keras)  # Keras' count for a frozen base: the head only
    assert (two["phase"], two["first_epoch"], two["last_epoch"], two["base"]) == (2, 2, 2, f"top {TOP}")
    assert two["trainable_params"] == head + _reference(keras, TOP)
    assert two["learning_rate"] == pytest.approx(0.001)
    assert record["training"]["fine_tune"]["head_epochs"] == 1

    start, after_one, after_two = recorder.snapshots
    for a, b in zip(start, after_one):  # phase 1: every base weight (moving statistics too) bit-identical
        np.testing.assert_array_equal(a, b)
    base = session.model.get_layer("base")
    app = [layer for layer in base.layers if getattr(layer, "layers", None)][0]
    top = {id(w) for layer in app.layers[-TOP:] if not isinstance(layer, keras.layers.BatchNormalization)
           for w in layer.trainable_weights}
    assert top, "the top layers hold weights"
    changed = {id(w) for w, a, b in zip(base.weights, after_one, after_two) if not np.array_equal(a, b)}
    assert changed == top  # phase 2 moved the top layers' weights and nothing else

    history = runs.load_history(result.run_dir)
    assert list(history.epoch["phase"]) == [1.0, 2.0]
    assert history.phase_boundaries() == [(1.0, 2)]
    assert "phase" not in history.metric_names()
    lr = list(history.epoch["learning_rate"])
    assert lr[1] == pytest.approx(lr[0] * 0.1)
    assert any("phase 2" in text for _level, text in recorder.messages)


def test_head_epochs_must_leave_room_for_fine_tuning():
    from studio.core.errors import TrainingError

    with pytest.raises(TrainingError, match="fine_tune.head_epochs"):
        TrainingConfig(epochs=3, fine_tune={"enabled": True, "head_epochs": 3})
    again = TrainingConfig.from_dict(TrainingConfig(epochs=4, fine_tune={"enabled": True, "head_epochs": 2}).to_dict())
    assert again.fine_tune.enabled and again.fine_tune.head_epochs == 2 and again.fine_tune.lr_factor == 0.1



def test_a_backbone_frozen_when_built_goes_through_both_phases(keras):
    """A Backbone node left untrainable (its application frozen inside the base when built), before any fit:
    its top unfrozen, then all of it frozen again (Keras' own propagation of `trainable` from the base left
    MobileNetV2's last convolution trainable)."""
    from studio.training import phases

    b = Builder()
    x = b.input(SIZE, SIZE, 3, title="images")
    base = b.add("Backbone", title="base", backbone="MobileNetV2", pooling="avg")
    head = b.add("Dense", units=2, title="head")
    b.chain(x, base, head)
    b.graph.node(base).trainable = False
    model = build_model(make_plan(b.graph, "frozen"))
    fine_tune = TrainingConfig(epochs=2, fine_tune={"enabled": True, "head_epochs": 1, "unfreeze_top": 5}).fine_tune
    one, two = phases.plan(fine_tune, 0, 2)
    bases = phases.find_bases(model)
    phases.apply(two, bases)
    assert {w.path for w in model.trainable_weights} == {"Conv_1/kernel", "head/kernel", "head/bias"}
    phases.apply(one, bases)
    assert {w.path for w in model.trainable_weights} == {"head/kernel", "head/bias"}
