"""Issue 10: hostile project files meet `studio check` (and the pure checks under it).

Every bad value is an error on its node (or on `training.<key>`) naming the
parameter's path; nothing becomes an internal error, `--json` always prints
one object, and long user text stays short in the output.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.graph import Edge, Graph, Node
from studio.graph.inference import ERROR, analyse
from studio.project import load_project
from studio.project.templates import make_project, template_names
from studio.training.config import training_problems
from tests.cli.helpers import assert_one_clear_line, studio
from tests.project.samples import raw_project

REPO = Path(__file__).resolve().parents[2]
PAYLOAD = "keras.initializers if __import__('os').system('touch /tmp/pwned-by-studio') else keras"


def _dense_errors(**params) -> list[str]:
    """Errors on a Dense node with these params, after Input(8)."""
    graph = Graph()
    graph.add_node(Node("Input", {"batch_shape": [None, 8]}, id="in", title="features"))
    graph.add_node(Node("Dense", {"units": 4, **params}, id="d", title="hidden"))
    graph.connect(Edge("in", "d"))
    report = analyse(graph)
    return [d.message for d in report.diagnostics if d.severity == ERROR and d.node == "d"]


# --- parameters, through analyse ---------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"activation": "foo"}, ["'activation'", "unknown activation 'foo'", "'relu'"]),
        ({"activation": {"class_name": "function", "config": "foo"}}, ["'activation.config'", "'foo'"]),
        ({"activation": {"module": "os", "class_name": "system", "config": "ls"}}, ["'activation.module'", "'os'"]),
        ({"foo_bar": 3}, ["'foo_bar' is not a parameter of Dense", "remove it"]),
        ({"use_bais": False}, ["'use_bais'", "did you mean 'use_bias'"]),
        ({"kernel_initializer": "glorot_uniformm"}, ["'kernel_initializer'", "no initializer", "'glorot_uniform'"]),
        ({"kernel_initializer": {"module": PAYLOAD, "class_name": "GlorotUniform", "config": {}}},
         ["'kernel_initializer.module'", "must be 'keras.initializers'"]),
        ({"kernel_initializer": {"class_name": "GlorotUniform", "config": [1, 2]}},
         ["'kernel_initializer.config'", "must be an object"]),
        ({"kernel_initializer": {"class_name": "GlorotUniform", "config": {"not an identifier": 1}}},
         ["'kernel_initializer.config'", "not a Keras argument name"]),
        ({"kernel_initializer": {"class_name": "Evil", "config": {}}},
         ["'kernel_initializer.class_name'", "'Evil' is not a Keras initializer"]),
        ({"kernel_initializer": {"class_name": "GlorotUniform", "config": {}, "registered_name": "Evil>1"}},
         ["'kernel_initializer.registered_name'", "'GlorotUniform'"]),
        ({"kernel_initializer": {"class_name": "GlorotUniform", "config": {}, "extra": 1}},
         ["'kernel_initializer.extra'", "not part of a Keras config"]),
        ({"kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": float("inf")}}},
         ["'kernel_initializer.config.seed'", "finite"]),
        ({"kernel_initializer": ["glorot_uniform"]}, ["'kernel_initializer'", "initializer name"]),
        ({"kernel_regularizer": {"module": "keras.initializers", "class_name": "L2", "config": {}}},
         ["'kernel_regularizer.module'", "'keras.regularizers'"]),
        ({"kernel_constraint": "l1_l2"}, ["'kernel_constraint'", "no constraint"]),
        ({"units": 10**4000}, ["'units'", "at most", "4,001-digit number"]),
        ({"units": 1e308}, ["'units'", "at most"]),
        ({"dtype": "float32; import os"}, ["'dtype'", "dtype name"]),
        ({"trainable": "yes"}, ["'trainable'", "true or false"]),
        ({"lora_rank": float("inf")}, ["'lora_rank'", "finite"]),
        ({"lora_rank": 10**4000}, ["'lora_rank'", "too large"]),
    ],
)
def test_bad_dense_params_are_errors_naming_the_path(params, words):
    errors = _dense_errors(**params)
    assert errors, params
    message = errors[0]
    assert message.startswith("hidden: "), message
    for word in words:
        assert word in message, (word, message)
    assert len(message) < 400


@pytest.mark.parametrize(
    "params",
    [
        {"activation": "relu"},
        {"activation": "hard_swish"},  # every Keras activation, not only those the menu lists
        {"activation": {"module": "builtins", "class_name": "function", "config": "relu",
                        "registered_name": "function"}},
        {"activation": {"module": "keras.layers", "class_name": "LeakyReLU", "config": {"negative_slope": 0.2},
                        "registered_name": None}},
        {"kernel_initializer": "he_normal", "bias_initializer": "zeros"},
        {"kernel_initializer": "uniform", "kernel_regularizer": "l2", "kernel_constraint": "max_norm"},
        {"kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform",
                                "config": {"seed": None}, "registered_name": None}},
        {"kernel_initializer": {"class_name": "Constant", "config": {"value": 0.5}}},
        {"kernel_regularizer": {"module": "keras.regularizers", "class_name": "L1L2",
                                "config": {"l1": 0.0, "l2": 0.01}, "registered_name": None}},
        {"dtype": "mixed_float16", "trainable": True, "lora_rank": None, "quantization_config": None},
        {"dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
                   "registered_name": None}},
    ],
)
def test_what_keras_writes_stays_valid(params):
    assert _dense_errors(**params) == []


def test_a_nested_layer_must_be_a_safe_keras_layer():
    graph = Graph()
    graph.add_node(Node("Input", {"batch_shape": [None, 5, 3]}, id="in"))
    graph.add_node(Node("Bidirectional", {"layer": {"class_name": "Lambda", "config": {}}}, id="b", title="bi"))
    graph.add_node(Node("TimeDistributed", {"layer": {"module": "keras.layers", "class_name": "Dense",
                                                      "config": {"units": 2, "activation": "foo"}}},
                        id="t", title="td"))
    graph.connect(Edge("in", "b"), check_shapes=False)
    graph.connect(Edge("in", "t"), check_shapes=False)
    errors = {d.node: d.message for d in analyse(graph).diagnostics if d.severity == ERROR}
    assert "'layer.class_name'" in errors["b"] and "'Lambda'" in errors["b"]
    assert "'activation'" in errors["t"] and "unknown activation 'foo'" in errors["t"]


def test_an_infinite_float_is_an_error():
    graph = Graph()
    graph.add_node(Node("Input", {"batch_shape": [None, 8]}, id="in"))
    graph.add_node(Node("Dropout", {"rate": float("inf")}, id="drop", title="drop"))
    graph.connect(Edge("in", "drop"))
    [error] = [d for d in analyse(graph).diagnostics if d.severity == ERROR]
    assert error.node == "drop" and "'rate'" in error.message and "finite" in error.message


def test_huge_shapes_are_errors_not_crashes():
    graph = Graph()
    graph.add_node(Node("Input", {"batch_shape": [None, 10**4000]}, id="in", title="x"))
    graph.add_node(Node("Dense", {"units": 4}, id="d"))
    graph.connect(Edge("in", "d"))
    [error] = [d for d in analyse(graph).diagnostics if d.severity == ERROR]
    assert error.node == "in" and "'batch_shape'" in error.message and "4,001-digit" in error.message


def test_sizes_multiplying_past_64_bits_are_an_error():
    graph = Graph()
    graph.add_node(Node("Input", {"batch_shape": [None, 2**31 - 1, 1]}, id="in"))
    previous = "in"
    for i in range(4):
        graph.add_node(Node("UpSampling1D", {"size": 1000}, id=f"up{i}", title=f"up{i}"))
        graph.connect(Edge(previous, f"up{i}"), check_shapes=False)
        previous = f"up{i}"
    errors = [d for d in analyse(graph).diagnostics if d.severity == ERROR]
    assert [d.node for d in errors] == ["up3"] and "dimension of 2.15e+21" in errors[0].message


def test_malformed_free_form_params_are_errors_not_crashes():
    graph = Graph()
    graph.add_node(Node("Input", {"batch_shape": [None, 8, 8, 3]}, id="in"))
    graph.add_node(Node("ZeroPadding2D", {"padding": [["a", 1], [1, 1]]}, id="pad", title="pad"))
    graph.connect(Edge("in", "pad"), check_shapes=False)
    errors = [d for d in analyse(graph).diagnostics if d.severity == ERROR]
    assert errors and errors[0].node == "pad" and "'padding'" in errors[0].message


def test_a_spec_tripping_on_a_value_is_an_error_on_its_node():
    """A free-form ("json") value a spec's infer_shape did not expect is reported, not raised."""
    from studio.graph.catalog import Catalog, default_catalog
    from studio.graph.spec import LayerSpec, ParamSpec

    def infer(params, shapes):
        return [shapes[0][:1] + (params["factor"] * 2,)]  # TypeError for a dict

    odd = LayerSpec("Odd", "Odd", "Core", "A layer whose shape needs a number factor." * 3, infer,
                    params=(ParamSpec("factor", "json", 1),))
    catalog = Catalog([default_catalog().get("Input"), odd])
    graph = Graph(catalog)
    graph.add_node(Node("Input", {"batch_shape": [None, 3]}, id="in"))
    graph.add_node(Node("Odd", {}, id="odd", title="odd"))
    graph.connect(Edge("in", "odd"))
    graph.set_param("odd", "factor", {"a": 1})
    [error] = [d for d in analyse(graph).diagnostics if d.severity == ERROR]
    assert error.node == "odd" and "do not make a valid Odd layer" in error.message


# --- the training section ---------------------------------------------------------------
def test_training_problems_name_their_json_path():
    problems = dict(training_problems({"epochs": 1e308, "batch_size": -1, "learning_rate": "x",
                                       "early_stopping": {"patience": 10**4000}}))
    assert set(problems) == {"training.epochs", "training.batch_size", "training.learning_rate",
                             "training.early_stopping.patience"}
    assert "1e+308" in problems["training.epochs"] and "1,000,000" in problems["training.epochs"]
    assert "'x'" in problems["training.learning_rate"]
    assert "4,001-digit" in problems["training.early_stopping.patience"]
    assert training_problems({"epochs": 3}) == []
    assert training_problems(None) == []


# --- through the command line --------------------------------------------------------------
def _write(tmp_path: Path, data: dict | str, name: str = "p.studio.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_units_with_4000_digits(tmp_path):
    text = json.dumps(raw_project()).replace('"units": 4', '"units": 1' + "0" * 4000)
    path = _write(tmp_path, text)
    line = assert_one_clear_line(studio("check", path), str(path), "node 'hidden'", "'units'", "4,001-digit")
    assert len(line) < 400
    result = studio("check", path, "--json")
    assert result.rc == 1 and "internal error" not in result.err
    data = json.loads(result.out)
    assert data["ok"] is False
    [error] = [d for d in data["diagnostics"] if d["severity"] == "error"]
    assert error["node"] == "d1" and "'units'" in error["message"]
    assert data["error"] == line.removeprefix("studio: error: ")


def test_more_digits_than_python_reads(tmp_path):
    text = json.dumps(raw_project()).replace('"units": 4', '"units": 1' + "0" * 5000)
    path = _write(tmp_path, text)
    line = assert_one_clear_line(studio("check", path), str(path), "digits")
    assert "set_int_max_str_digits" not in line
    result = studio("check", path, "--json")
    assert json.loads(result.out)["ok"] is False


def test_the_payload_initializer_is_an_error_and_runs_nothing(tmp_path):
    marker = Path("/tmp/pwned-by-studio")
    marker.unlink(missing_ok=True)
    data = raw_project()
    data["graph"]["nodes"][1]["params"]["kernel_initializer"] = {
        "module": PAYLOAD, "class_name": "GlorotUniform", "config": {}}
    path = _write(tmp_path, data)
    assert_one_clear_line(studio("check", path), str(path), "node 'hidden'", "'kernel_initializer.module'")
    assert json.loads(studio("check", path, "--json").out)["ok"] is False
    assert not marker.exists()


def test_a_bad_training_section_fails_the_check(tmp_path):
    data = raw_project(training={"epochs": 1e308, "batch_size": -1, "learning_rate": "x"})
    path = _write(tmp_path, data)
    result = studio("check", path)
    line = assert_one_clear_line(result, str(path), "training.")
    assert "and 2 more errors" in line
    for key in ("training.epochs", "training.batch_size", "training.learning_rate"):
        assert key in result.out
    out = json.loads(studio("check", path, "--json").out)
    assert out["ok"] is False
    assert sum(1 for d in out["diagnostics"] if d["message"].startswith("training.")) == 3


def test_train_refuses_the_same_training_section(tmp_path):
    data = raw_project(training={"epochs": 1e308})
    path = _write(tmp_path, data)
    result = studio("train", path, "--json")
    assert result.rc == 1 and "internal error" not in result.err
    assert "epochs" in result.err_lines[-1] and "1e+308" in result.err_lines[-1]
    assert json.loads(result.out.splitlines()[-1])["ok"] is False


def test_a_10_mb_title_and_layer_name_stay_short(tmp_path):
    data = raw_project(name="T" * 10_000_000, description="D" * 10_000_000)
    data["graph"]["nodes"][1]["title"] = "N" * 10_000_000
    data["graph"]["nodes"][1]["params"]["activation"] = "a" * 1_000_000
    path = _write(tmp_path, data)
    result = studio("check", path)
    assert result.rc == 1
    assert len(result.out) < 10_000 and len(result.err) < 2_000
    assert "10,000,000 characters" in result.out
    as_json = studio("check", path, "--json")
    assert len(as_json.out) < 10_000
    assert json.loads(as_json.out)["ok"] is False


def test_json_failures_always_print_one_object(tmp_path):
    path = _write(tmp_path, "[" * 100_000)  # too deep for the JSON reader
    result = studio("check", path, "--json")
    assert result.rc == 1 and "internal error" not in result.err
    data = json.loads(result.out)
    assert data["ok"] is False and str(path) in data["error"]
    missing = studio("data", tmp_path / "nope.csv", "--json")
    assert missing.rc == 1 and json.loads(missing.out) == {"ok": False, "error": missing.err_lines[0][15:]}


# --- what must stay valid ----------------------------------------------------------------
@pytest.mark.parametrize("path", sorted((REPO / "projects").glob("*.studio.json")), ids=lambda p: p.name)
def test_bundled_examples_check_clean(path):
    project = load_project(path)
    report = analyse(project.graph)
    assert [d.message for d in report.errors] == []
    assert training_problems(project.training) == []


@pytest.mark.parametrize("name", template_names())
def test_templates_check_clean(name):
    project = make_project(name)
    report = analyse(project.graph)
    assert [d.message for d in report.errors] == []
    assert training_problems(project.training) == []


def test_studio_train_names_the_project_file_of_a_bad_training_setting(tmp_path):
    from tests.cli.helpers import assert_one_clear_line, studio

    source = Path(__file__).resolve().parents[2] / "projects" / "iris-mlp.studio.json"
    data = json.loads(source.read_text())
    data.setdefault("training", {})["epochs"] = 1e308
    path = tmp_path / "bad-epochs.studio.json"
    path.write_text(json.dumps(data))
    assert_one_clear_line(studio("train", path), "bad-epochs.studio.json", "epochs")
