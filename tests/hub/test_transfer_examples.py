"""The transfer-learning template and example train offline, from weights the test creates
(issue 13, point 6)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from studio.cli import main
from studio.project.templates import get_template, make_project, template_names

EXAMPLE = Path(__file__).resolve().parents[2] / "projects" / "shapes-backbone.studio.json"
# The file keras.applications.MobileNetV2(weights="imagenet", include_top=False) looks for in
# KERAS_HOME/models (inputs outside its sizes use the 224 weights).
MOBILENET_V2_NO_TOP = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"


def _fake_imagenet_weights(keras_home: Path):
    """A MobileNetV2 (include_top=False) weights file in Keras' legacy .h5 layout, where Keras' own
    download would put it; random values, so the test can tell they were loaded."""
    import h5py
    import keras
    from keras.src.legacy.saving import legacy_h5_format

    keras.utils.set_random_seed(7)
    donor = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(32, 32, 3))
    folder = keras_home / "models"
    folder.mkdir(parents=True, exist_ok=True)
    with h5py.File(folder / MOBILENET_V2_NO_TOP, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, donor)
    return donor


@pytest.mark.slow  # MobileNetV2 on 600 images: about 90 s on 2 busy cores
def test_the_backbone_example_trains_offline_from_local_imagenet_weights(tmp_path, capsys):
    import os

    import keras

    donor = _fake_imagenet_weights(Path(os.environ["KERAS_HOME"]))
    project = tmp_path / EXAMPLE.name
    shutil.copy(EXAMPLE, project)
    assert main(["train", str(project), "--epochs", "1", "--json"]) == 0
    epochs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    losses = [e["loss"] for e in epochs if "loss" in e]
    assert len(losses) == 1 and np.isfinite(losses).all()
    (run,) = (tmp_path / "shapes-backbone.runs").iterdir()
    model = keras.saving.load_model(run / "final.keras", safe_mode=True, compile=False)
    app = next(layer for layer in model.layers if isinstance(layer, keras.Model))  # the network behind the scaling
    base = next(layer for layer in app.get_layer("MobileNetV2").layers if isinstance(layer, keras.Model))
    for ours, theirs in zip(base.weights, donor.weights):  # frozen: still exactly the local "ImageNet" weights
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_the_backbone_template_names_what_it_downloads_and_matches_the_example():
    template = get_template("image-backbone")
    assert template.downloads and "KERAS_HOME" in template.downloads[0]
    assert "image-backbone" in template_names() and "image-backbone" not in template_names(offline=True)
    example = json.loads(EXAMPLE.read_text())
    made = make_project("image-backbone").to_dict()
    types = [n["type"] for n in example["graph"]["nodes"]]
    assert types == [n["type"] for n in made["graph"]["nodes"]] == ["Input", "Rescaling", "Backbone", "Dropout",
                                                                     "Dense"]
    backbone = next(n for n in example["graph"]["nodes"] if n["type"] == "Backbone")
    assert backbone["params"]["weights"] == "imagenet" and backbone.get("trainable") is False


HUB_EXAMPLE = EXAMPLE.with_name("text-hub.studio.json")


def test_the_hub_text_example_trains_offline_from_a_local_module_in_the_cache(tmp_path, capsys):
    """The example names the real handle; the module cache holds a local module shaped like it
    (strings -> 50 numbers), so nothing is downloaded."""
    from studio.hub.resolve import expected_cache_folder
    from studio.project.templates import NNLM_HANDLE
    from tests.hub.modules import text_embedding

    text_embedding(expected_cache_folder(NNLM_HANDLE), dim=50)
    project = tmp_path / HUB_EXAMPLE.name
    shutil.copy(HUB_EXAMPLE, project)
    assert main(["train", str(project), "--epochs", "3", "--json"]) == 1  # modules need the user's trust
    assert "--trust-modules" in capsys.readouterr().err
    assert main(["train", str(project), "--epochs", "3", "--trust-modules", "--json"]) == 0
    epochs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    losses = [e["loss"] for e in epochs if "loss" in e]
    assert len(losses) == 3 and losses[-1] < losses[0]


def test_the_hub_text_template_and_example_agree():
    template = get_template("text-hub")
    assert template.downloads and "text-hub" not in template_names(offline=True)
    example = json.loads(HUB_EXAMPLE.read_text())
    made = make_project("text-hub").to_dict()
    assert [n["type"] for n in example["graph"]["nodes"]] == [n["type"] for n in made["graph"]["nodes"]]
    assert example["dataset"]["text"] == {"strings": True} or example["dataset"]["text"]["strings"] is True
