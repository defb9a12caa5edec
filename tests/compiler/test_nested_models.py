"""Models used as layers (issue 12, point 4): a nested model imports as a group of its
layers, flattened into the graph (its weights copied, Keras-exact totals), and rebuilds,
exports and re-imports with identical outputs. The models are the Keras functional API
guide's ("All models are callable, just like layers": the autoencoder made of an encoder
and a decoder model; the ensemble of three models), a nested Sequential, and the app's own
run model: a run's best.keras holds the network nested in the raw-input wrapper."""

from __future__ import annotations

import numpy as np
import pytest

from studio.compiler.from_config import graph_from_config
from studio.compiler.keras_build import build_model
from studio.compiler.keras_import import keras_config
from studio.compiler.plan import make_plan
from studio.export.verify import max_abs_diff, predict, sample_inputs
from studio.graph.inference import analyse
from studio.project import load_project
from tests.compiler.test_shared_layers import _export_and_compare, _randomise, copy_from_original

keras = pytest.importorskip("keras")
layers = keras.layers


def autoencoder():
    """The functional API guide, verbatim."""
    encoder_input = keras.Input(shape=(28, 28, 1), name="original_img")
    x = layers.Conv2D(16, 3, activation="relu")(encoder_input)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    encoder_output = layers.GlobalMaxPooling2D()(x)

    encoder = keras.Model(encoder_input, encoder_output, name="encoder")

    decoder_input = keras.Input(shape=(16,), name="encoded_img")
    x = layers.Reshape((4, 4, 1))(decoder_input)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu")(x)
    x = layers.UpSampling2D(3)(x)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    decoder_output = layers.Conv2DTranspose(1, 3, activation="relu")(x)

    decoder = keras.Model(decoder_input, decoder_output, name="decoder")

    autoencoder_input = keras.Input(shape=(28, 28, 1), name="img")
    encoded_img = encoder(autoencoder_input)
    decoded_img = decoder(encoded_img)
    return keras.Model(autoencoder_input, decoded_img, name="autoencoder")


def ensemble():
    """The functional API guide's ensemble, verbatim."""
    def get_model():
        inputs = keras.Input(shape=(128,))
        outputs = layers.Dense(1)(inputs)
        return keras.Model(inputs, outputs)

    model1 = get_model()
    model2 = get_model()
    model3 = get_model()

    inputs = keras.Input(shape=(128,))
    y1 = model1(inputs)
    y2 = model2(inputs)
    y3 = model3(inputs)
    outputs = layers.average([y1, y2, y3])
    return keras.Model(inputs=inputs, outputs=outputs)


def nested_sequential():
    """A Sequential sub-model (with its Input) between functional layers, and the same
    sub-model's two calls as the model's outputs."""
    block = keras.Sequential([keras.Input((6,)), layers.Dense(5, activation="relu"), layers.Dense(6)],
                             name="block")
    a, b = keras.Input((6,), name="a"), keras.Input((6,), name="b")
    return keras.Model([a, b], [block(a), block(layers.Dense(6, name="pre")(b))], name="outer")


def twice_as_outputs():
    """A functional tower whose two calls are the model's outputs (Keras numbers them 1 and 2
    in output_layers, 0 and 1 in the wires)."""
    x = keras.Input((4,))
    tower = keras.Model(x, layers.Dense(3, name="proj")(layers.Dense(8, name="hid")(x)), name="tower")
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    return keras.Model([a, b], [tower(b), tower(a)], name="two")


@pytest.mark.parametrize("make, groups", [(autoencoder, ["encoder", "decoder"]),
                                          (ensemble, ["functional", "functional_1", "functional_2"]),
                                          (nested_sequential, ["block", "block"]),
                                          (twice_as_outputs, ["tower", "tower"])],
                         ids=["autoencoder", "ensemble", "sequential", "outputs"])
def test_a_nested_model_imports_as_a_group_and_rebuilds_exactly(make, groups):
    model = _randomise(make())
    imported = graph_from_config(model.get_config(), keras_config=keras_config)
    graph = imported.graph
    names = [g.name for g in graph.groups]
    if make is ensemble:  # Keras counts model names up across the process
        assert len(names) == 3 and len(set(names)) == 3
    else:
        assert names == groups
    for group in graph.groups:  # the group's nodes are the nested model's layers
        members = graph.group_members(group.id)
        assert members and all(imported.origin[m][-2] == group.name for m in members)
    report = analyse(graph)
    assert report.ok, [d.message for d in report.errors]
    assert report.total_params == model.count_params()
    rebuilt = build_model(make_plan(graph, "m"))
    assert rebuilt.count_params() == model.count_params()
    assert copy_from_original(model, rebuilt) > 0
    x = sample_inputs(model, batch=2)
    assert max_abs_diff(predict(model, x), predict(rebuilt, x)) == 0.0


def test_the_autoencoder_exports_as_python_and_the_script_model_matches(tmp_path, capsys):
    model = _randomise(autoencoder())
    project, text = _export_and_compare(tmp_path, capsys, model, "ae", cli=False)
    assert [g.name for g in project.graph.groups] == ["encoder", "decoder"]  # kept in the file
    assert text.count("layers.Conv2DTranspose(") == 4


def trained_run(tmp_path):
    """A tiny iris project whose Dense layer 'twice' is called twice (the second node shares its
    weights), trained one epoch through the app's own training; (project, its run's best.keras)."""
    from studio.graph import Edge, Graph, Node
    from studio.graph.edits import ShareWeights
    from studio.project import Project
    from studio.project.io import save_project
    from studio.workflows import train

    graph = Graph()
    nodes = [graph.add_node(node) for node in (
        Node("Input", {"batch_shape": [None, 4]}, "measurements"),
        Node("Dense", {"units": 4, "activation": "tanh"}, "twice"),
        Node("Dense", {"units": 4}, "again"),
        Node("Dense", {"units": 3, "activation": "softmax"}, "species"))]
    for source, target in zip(nodes, nodes[1:]):
        graph.connect(Edge(source.id, target.id))
    ShareWeights(nodes[2].id, nodes[1].id).apply(graph)
    project = Project(graph=graph, name="demo", dataset={"kind": "sample", "path": "iris"})
    save_project(project, tmp_path / "demo.studio.json")
    project = load_project(tmp_path / "demo.studio.json")
    train.make_session(project, config=train.training_config(project, epochs=1)).run()
    return project, next((tmp_path / "demo.runs").glob("*/best.keras"))


def test_a_runs_best_model_reimports_and_reexports_with_no_difference(tmp_path):
    """Train a tiny project with a shared layer one epoch, import the run's best.keras (the
    network nested in the raw-input Normalization wrapper), export it again: the same answers,
    to the bit, and the same one layer called twice."""
    import keras as k

    from studio.workflows import export, importing

    project, best = trained_run(tmp_path)
    original = k.saving.load_model(best, safe_mode=True, compile=False)
    assert any(isinstance(layer, k.Model) for layer in original.layers)  # the nested network
    assert original.count_params() == analyse(project.graph).total_params  # the shared layer once

    result = importing.import_model(best, tmp_path / "again")
    assert result.max_abs_diff == 0.0 and result.params == original.count_params()
    again = load_project(result.project_path)
    graph = again.graph
    # The designed graph comes back (its own Input, no group around the network), with the run's
    # fitted input scaling as one Normalization node right after the Input.
    assert graph.groups == []
    assert _wiring(graph, skip="Normalization") == _wiring(project.graph)
    [norm] = [n for n in graph.nodes if n.type == "Normalization"]
    [inp] = graph.input_nodes()
    assert inp.title == "measurements" and [e.target for e in graph.outputs_of(inp.id)] == [norm.id]
    assert [(n.title, bool(n.shares)) for n in graph.nodes if n.type == "Dense"] == [
        ("twice", False), ("twice", True), ("species", False)]
    assert analyse(graph).total_params == original.count_params()

    exported = export.export_project(again, "keras", tmp_path / "again.keras")
    assert exported.max_abs_diff == 0.0
    reexported = k.saving.load_model(tmp_path / "again.keras", safe_mode=True, compile=False)
    assert reexported.count_params() == original.count_params()
    x = sample_inputs(original, batch=4)
    x = [np.random.default_rng(2).normal(5.0, 2.0, v.shape).astype("float32") for v in x]
    assert max_abs_diff(predict(original, x), predict(reexported, x)) == 0.0


def _wiring(graph, skip=""):
    """The graph's layers (type, params, trainable, shared or not) in topological order and its
    wires between them by position in that order; nodes of type `skip` are bridged over."""
    order = [n for n in graph.topological_order() if graph.node(n).type != skip]

    def feeding(node_id):  # the kept nodes feeding `node_id`, through skipped ones
        out = []
        for e in graph.inputs_of(node_id):
            out += feeding(e.source) if graph.node(e.source).type == skip else [(order.index(e.source), e.source_port,
                                                                                 e.target_port, e.argument)]
        return out

    layers_ = [(graph.node(n).type, graph.node(n).params, graph.node(n).trainable, bool(graph.node(n).shares))
               for n in order]
    return layers_, [feeding(n) for n in order]


def test_keras2_configs_number_a_nested_models_calls_from_one():
    """tf_keras writes the calls of a functional model (and of a Sequential that starts with an
    Input) as nodes 1, 2... everywhere; the graph wires each call where the model does."""
    k2 = pytest.importorskip("tf_keras")
    x = k2.Input((4,))
    tower = k2.Model(x, k2.layers.Dense(3, name="proj")(k2.layers.Dense(8, name="hid")(x)), name="tower")
    seq = k2.Sequential([k2.Input((3,)), k2.layers.Dense(2, name="out")], name="seq")
    a, b = k2.Input((4,), name="a"), k2.Input((4,), name="b")
    ta, tb = tower(a), tower(b)
    model = k2.Model([a, b], [seq(k2.layers.Subtract(name="diff")([ta, tb])), seq(ta)])
    model.set_weights([np.random.default_rng(3).normal(size=w.shape).astype("float32")
                       for w in model.get_weights()])
    imported = graph_from_config(model.get_config(), keras_config=keras_config)
    assert not imported.warnings
    graph = imported.graph
    assert [g.name for g in graph.groups] == ["tower", "tower", "seq", "seq"]
    assert analyse(graph).total_params == model.count_params() == (4 * 8 + 8) + (8 * 3 + 3) + (3 * 2 + 2)
    rebuilt = build_model(make_plan(graph, "m"))
    assert copy_from_original(model, rebuilt) == 3  # hid, proj (the tower), out (the Sequential)
    rng = np.random.default_rng(4)
    xs = [rng.normal(size=(3, 4)).astype("float32") for _ in range(2)]
    expected = [np.asarray(y) for y in model(xs)]
    scale = max(float(np.abs(e).max()) for e in expected)  # two Keras versions: float32 rounding
    assert max_abs_diff(expected, predict(rebuilt, xs)) <= 1e-6 * scale


@pytest.mark.slow  # trains, then `studio export` runs the script in a fresh Python to verify it
def test_a_runs_best_model_reexports_as_a_verified_python_script(tmp_path):
    from studio.workflows import export, importing

    _, best = trained_run(tmp_path)
    result = importing.import_model(best, tmp_path / "again")
    exported = export.export_project(load_project(result.project_path), "python", tmp_path / "again_code.py")
    assert exported.max_abs_diff == 0.0


def test_a_two_input_run_model_imports_as_the_designed_graph():
    """The wrapper of data bound per Input (studio.data.multi): each raw Input, its own
    Normalization where the data has statistics, the network, Identity layers keeping the output
    names. Imported: the network's own Inputs and outputs in their order, no group, no Identity."""
    from studio.data.multi import BoundPrepared

    a, b = keras.Input((3,), name="left"), keras.Input((2,), name="right")
    h = layers.Dense(4, activation="relu", name="mix")(layers.concatenate([a, b], name="both"))
    network = keras.Model([a, b], [layers.Dense(1, name="score")(h), layers.Dense(2, name="kind")(h)],
                          name="net")
    prepared = BoundPrepared(train=None, validation=None, test=None, info=None, batch_size=1,
                             spec={"preprocessing": {"inputs": {"n1": {"normalize": {"mean": [1.0, 2.0, 3.0],
                                                                                     "variance": [4.0, 1.0, 9.0]}}}}},
                             input_order=["n1", "n2"])
    wrapped = prepared.wrap_model(network)
    assert any(isinstance(layer, keras.Model) for layer in wrapped.layers)
    imported = graph_from_config(wrapped.get_config(), keras_config=keras_config)
    graph = imported.graph
    assert not imported.warnings and graph.groups == []
    assert [n.title for n in graph.input_nodes()] == ["left", "right"]
    assert sorted(n.type for n in graph.nodes) == ["Concatenate", "Dense", "Dense", "Dense", "Input", "Input",
                                                   "Normalization"]
    assert [graph.label(n.id) for n in graph.output_nodes()] == ["score", "kind"]
    rebuilt = build_model(make_plan(graph, "again"))
    assert copy_from_original(wrapped, rebuilt) == 3  # mix, score, kind (the statistics are params)
    x = [np.random.default_rng(5).normal(3.0, 2.0, (4, 3)).astype("float32"),
         np.random.default_rng(6).normal(size=(4, 2)).astype("float32")]
    assert max_abs_diff(predict(wrapped, x), predict(rebuilt, x)) == 0.0


def test_a_model_shaped_otherwise_keeps_its_nested_model_as_a_group():
    """Only the wrapper's own structure is drawn as the designed network: a trainable layer between
    the scaling and the nested model (or a second call of it) keeps the nested model a group."""
    from studio.compiler.from_config import run_wrapper

    x = keras.Input((3,), name="inner_x")
    network = keras.Model(x, layers.Dense(2, name="head")(x), name="net")
    raw = keras.Input((3,), name="raw")
    scaled = layers.Normalization(mean=[0.0, 1.0, 2.0], variance=[1.0, 1.0, 4.0], name="normalize")(raw)
    plain = keras.Model(raw, network(scaled), name="net_raw_inputs")
    assert run_wrapper(plain.get_config()) is not None
    extra = keras.Model(raw, network(layers.Dense(3, name="mix")(scaled)), name="net_raw_inputs")
    twice = keras.Model(raw, [network(scaled), network(raw)], name="net_raw_inputs")
    for model in (extra, twice):
        assert run_wrapper(model.get_config()) is None
        imported = graph_from_config(model.get_config(), keras_config=keras_config)
        assert [g.name for g in imported.graph.groups][:1] == ["net"]
