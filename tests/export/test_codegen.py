"""Exported Python builds exactly the model the app builds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from studio.compiler.keras_build import build_model
from studio.compiler.plan import make_plan
from studio.export.codegen import ScriptSettings, generate_script
from studio.graph.inference import analyse
from studio.graph.model import Node
from tests.compiler.graphs import Builder, branch_add, mlp, multi_io, shared_merge
from tests.export.helpers import assert_ruff_clean, assert_same_model, import_script

RUFF = Path(sys.executable).with_name("ruff")


def _script(tmp_path: Path, graph, name: str = "net", **settings) -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(generate_script(make_plan(graph, name), ScriptSettings(name=name, **settings)))
    return path


@pytest.mark.parametrize("make_graph", [mlp, branch_add, multi_io, shared_merge],
                         ids=["mlp", "branch_add", "multi_io", "shared_merge"])
def test_script_builds_the_same_model(tmp_path, make_graph):
    graph = make_graph()
    module = import_script(_script(tmp_path, graph))
    assert_same_model(build_model(make_plan(graph, "net")), module.build_model())


def test_only_changed_arguments_are_written(tmp_path):
    b = Builder()
    x = b.input(4, title="x_in")
    plain = b.add("Dense", title="plain", units=32)  # the catalog's default, but Keras requires it
    tuned = b.add("Dense", title="tuned", units=5, kernel_initializer="he_normal", use_bias=False)
    b.chain(x, plain, tuned)
    text = _script(tmp_path, b.graph).read_text()
    assert 'layers.Dense(units=32, name="plain")(x_in)' in text
    assert (
        '    tuned = layers.Dense(\n        units=5,\n        use_bias=False,\n'
        '        kernel_initializer="he_normal",\n        name="tuned",\n    )(plain)\n'
    ) in text  # too long for one line: one argument per line, like black
    assert "bias_initializer" not in text and "kernel_regularizer" not in text


def test_generated_code_is_ruff_clean(tmp_path):
    path = _script(tmp_path, multi_io())
    assert_ruff_clean(path)


def test_script_runs_on_its_own(tmp_path):
    """Without a dataset the script prints the summary and saves the model."""
    graph = branch_add()
    path = _script(tmp_path, graph, name="branchy")
    run = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, cwd=tmp_path,
                         env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"}, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert f"Total params: {analyse(graph).total_params:,} " in run.stdout
    assert (tmp_path / "branchy.keras").is_file()


def test_odd_names_frozen_and_nested_layers(tmp_path):
    """Layer names that clash with the script's own names, a frozen layer, and
    opaque layers with nested configs all survive the round trip."""
    b = Builder()
    x = b.input(6, 3, title="keras")
    bi = b.graph.add_node(Node(type="Bidirectional", title="model", params={
        "layer": {"class_name": "LSTM", "config": {"units": 4, "return_sequences": True,
                                                   "kernel_initializer": {"class_name": "HeNormal",
                                                                          "config": {"seed": 3}}}}})).id
    td = b.graph.add_node(Node(type="TimeDistributed", title="layers", params={
        "layer": {"module": "keras.layers", "class_name": "Dense",
                  "config": {"units": 2, "kernel_regularizer": {"module": "keras.regularizers",
                                                                "class_name": "L2", "config": {"l2": 0.1}}}}})).id
    frozen = b.add("Dense", title="print", units=3)
    b.graph.set_trainable(frozen, False)
    b.chain(x, bi, td, frozen)
    path = _script(tmp_path, b.graph)
    text = path.read_text()
    assert "trainable=False" in text and "keras.regularizers.L2(l2=0.1)" in text
    module = import_script(path)
    assert_same_model(build_model(make_plan(b.graph, "net")), module.build_model())


def test_training_settings_are_written(tmp_path):
    text = _script(tmp_path, mlp(), training={"optimizer": "sgd", "learning_rate": 0.1, "epochs": 3,
                                              "optimizer_params": {"momentum": 0.9}, "seed": 7}).read_text()
    assert "keras.optimizers.SGD(learning_rate=LEARNING_RATE, momentum=0.9)" in text
    assert "EPOCHS = 3" in text and "SEED = 7" in text and "LEARNING_RATE = 0.1" in text
    module = import_script(tmp_path / "net.py")
    model = module.compile_model(module.build_model())
    assert type(model.optimizer).__name__ == "SGD"


def test_codegen_imports_without_tensorflow():
    code = (
        "import sys, studio.export.codegen\n"
        "bad = [m for m in ('tensorflow', 'keras', 'numpy') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_no_exec_or_eval_anywhere(tmp_path):
    """Neither the compiler, the exporters nor the generated scripts run code from text."""
    import ast

    from studio.project.templates import make_project

    root = Path(__file__).resolve().parents[2]
    sources = {str(f): f.read_text() for folder in ("studio/compiler", "studio/export", "studio/data")
               for f in (root / folder).glob("*.py")}
    project = make_project("mlp")
    sources["generated"] = generate_script(
        make_plan(project.graph, "iris"),
        ScriptSettings(name="iris", dataset=project.dataset, training={"lr_schedule": "cosine",
                                                                        "early_stopping": True},
                       preprocessing={"normalize": {"mean": [0.0] * 4, "variance": [1.0] * 4}}))
    for where, text in sources.items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                assert name not in ("exec", "eval", "exec_module", "__import__"), f"{where}:{node.lineno}"
            assert not (isinstance(node, ast.Name) and node.id == "Lambda"), where
        assert "safe_mode=False" not in text and "pickle.load" not in text, where


def test_scripts_for_every_sample_dataset_are_pep8(tmp_path):
    """The whole script, data loader included, keeps PEP 8's 99-column limit and is ruff-clean."""
    from studio.data.codegen import fixed_preprocessing

    files = []
    for sample in ("iris", "digits", "shapes", "sine", "short-text", "mnist", "cifar10", "imdb"):
        spec = {"kind": "sample", "path": sample}
        scaling = fixed_preprocessing(spec)
        if scaling is None:  # fitted on the data: any statistics will do here
            scaling = {"normalize": {"mean": [0.5] * 8, "variance": [2.0] * 8}}
        path = tmp_path / f"{sample.replace('-', '_')}.py"
        path.write_text(generate_script(make_plan(mlp(), "net"), ScriptSettings(
            name="net", dataset=spec, preprocessing=scaling, training={"lr_schedule": "cosine"})))
        files.append(str(path))
    lint = subprocess.run([str(RUFF), "check", "--isolated", "--select", "E,W,F", "--line-length", "99", *files],
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout
