"""Two-phase fine-tuning of a Hub module node (a local SavedModel shaped like an image feature vector)."""

from __future__ import annotations

import json

import numpy as np

from studio.compiler.keras_build import build_model
from studio.compiler.plan import make_plan
from studio.hub.module_layer import discover, node_params
from studio.training import runs
from studio.training.config import TrainingConfig
from studio.training.reports import TaskInfo
from studio.training.session import TrainingSession
from tests.compiler.graphs import Builder
from tests.hub.modules import FEATURES, IMAGE_SIZE, image_feature_vector
from tests.training.test_two_phase import PhaseRecorder


def test_a_hub_module_is_frozen_then_fine_tuned_in_one_run(tmp_path, keras, monkeypatch):
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "tfhub-cache"))
    module = tmp_path / "image_feature_vector"
    image_feature_vector(module)
    b = Builder()
    x = b.input(IMAGE_SIZE, IMAGE_SIZE, 3, title="images")
    hub = b.add("HubModule", title="features", handle=str(module), **node_params(discover(module)))
    out = b.add("Dense", units=1, title="score")
    b.chain(x, hub, out)
    plan = make_plan(b.graph, "hub_two_phase")
    rng = np.random.default_rng(0)
    images = rng.random((32, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.float32)
    targets = (images.mean(axis=(1, 2, 3)) * 3).reshape(-1, 1).astype("float32")
    config = TrainingConfig(epochs=3, batch_size=8, learning_rate=0.05, optimizer="sgd", seed=0, loss="mse",
                            validation_split=0.25, checkpoint_best=False,
                            fine_tune={"enabled": True, "head_epochs": 2, "unfreeze_top": 0, "lr_factor": 0.1})
    box = []

    class Keep(PhaseRecorder):
        def _base(self):
            return [w.numpy().copy() for w in self.box[0].model.get_layer("features").weights]

    recorder = Keep(box)
    session = TrainingSession(lambda: build_model(plan), (images, targets), None, config, recorder,
                              task=TaskInfo(task="regression"), runs_root=tmp_path / "runs", tensorboard=False)
    box.append(session)
    result = session.run()
    assert result.status == "completed", result.message
    one, two = json.loads((result.run_dir / runs.CONFIG_FILE).read_text())["phases"]
    layer = session.model.get_layer("features")
    module_trainable = sum(int(np.prod(w.shape)) for w in layer.trainable_weights)
    assert one["trainable_params"] == FEATURES + 1  # the Dense head only
    assert two["trainable_params"] == FEATURES + 1 + module_trainable > FEATURES + 1
    assert any("computed once" in text for _level, text in recorder.messages)  # phase 1 on cached features

    start, epoch1, epoch2, epoch3 = recorder.snapshots
    for a, b_, c in zip(start, epoch1, epoch2):
        np.testing.assert_array_equal(a, b_)
        np.testing.assert_array_equal(a, c)
    moved = {w.path for w, a, b_ in zip(layer.weights, epoch2, epoch3) if not np.array_equal(a, b_)}
    # phase 2 fine-tuned the module's variables; the module runs in training mode then (as TF Hub's
    # fine-tuning does: the layer passes `training` on), so its own batch-norm statistics move too
    assert {w.path for w in layer.trainable_weights} <= moved
    assert list(runs.load_history(result.run_dir).epoch["phase"]) == [1.0, 1.0, 2.0]
