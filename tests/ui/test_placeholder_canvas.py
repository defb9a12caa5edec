"""An imported model with a placeholder works on the canvas (issue 12, point 5): the Keras VAE
example (its encoder's custom Sampling layer, the decoder after it) opens with every layer drawn,
an error on the Sampling node only, the shapes after it known; Train refuses naming it and
selects it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from studio.workflows.importing import import_model
from tests.compiler.test_keras_doc_examples import vae_decoder, vae_encoder
from tests.ui.waiting import settle

keras = pytest.importorskip("keras")


def test_vae_with_its_sampling_placeholder_opens_and_refuses_to_train(make_window, qtbot, tmp_path):
    keras.utils.set_random_seed(0)
    encoder, decoder = vae_encoder(), vae_decoder()
    inputs = keras.Input((28, 28, 1), name="image")
    vae = keras.Model(inputs, decoder(encoder(inputs)[2]), name="vae")
    vae.save(tmp_path / "vae.keras")
    result = import_model(tmp_path / "vae.keras", tmp_path / "vae")
    assert len(result.placeholders) == 1 and result.placeholders[0].startswith("encoder/sampling")

    window = make_window(optional_panels=True)
    assert window.files.open(result.project_path, ask=False)
    settle(qtbot)
    graph = window.document.graph
    items = {n.id: window.scene.node_item(n.id) for n in graph.nodes}
    assert all(item is not None for item in items.values())
    sampling = next(n for n in graph.nodes if n.type == "Placeholder")
    qtbot.waitUntil(lambda: items[sampling.id].view.severity == "error")
    assert "Sampling layer was not loaded" in items[sampling.id].view.tooltip
    assert [n.id for n in graph.nodes if items[n.id].view.severity == "error"] == [sampling.id]
    last = graph.output_nodes()[0]
    assert items[last.id].view.shape == "(None, 28, 28, 1)"  # shapes flow past the placeholder

    panel = window.panels["TrainingPanel"]
    qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    assert not panel.is_training()
    assert sampling.title in panel.message.text() and "not loaded" in panel.message.text()
    assert list(window.document.selection) == [sampling.id]
    # The encoder opened as one collapsed group node: pointing at its placeholder expanded it.
    assert graph.groups_of(sampling.id) and not any(g.collapsed for g in graph.groups_of(sampling.id))
    assert items[sampling.id].isVisible()
