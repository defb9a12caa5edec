"""Issue 10, points 1 and 2: no text from a project file becomes code in the exported script.

Each payload would touch a marker file if it ever ran as Python. A payload in a
class name, module or config key refuses `studio export --format python` with
one line naming the node and the parameter, before anything is built, written
or run; text that is legitimately free (data paths, column and class names,
titles, the output file's name) is written only as string literals.
"""

from __future__ import annotations

import ast
import copy
import io
import json
import tokenize
from pathlib import Path

from tests.cli.helpers import assert_one_clear_line, studio
from tests.project.samples import raw_project


def touch(marker: Path) -> str:
    """Python that creates `marker`, written without dots or slashes (so it fits in a
    module name, a file name or a column name)."""
    codes = ",".join(str(ord(c)) for c in str(marker))
    path = f"getattr(str(), 'join')(map(chr, ({codes},)))"
    return f"getattr(getattr(__import__('pathlib'), 'Path')({path}), 'touch')()"


def touch_beside() -> str:
    """Short Python (for a file name) that creates MARKER in the folder above the one it runs
    in: the export's verification runs the script from a staging folder beside the output."""
    return "__import__('pathlib').Path('..'+chr(47)+'MARKER').touch()"


def project_file(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "p.studio.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def with_hidden(params: dict, node_type: str = "Dense") -> dict:
    """The sample project with its 'hidden' layer replaced."""
    data = raw_project()
    data["graph"]["nodes"][1].update(type=node_type, params=params)
    return data


def assert_refused(tmp_path: Path, data: dict, *words: str) -> str:
    """`studio export --format python` fails with one line naming `words`, writes nothing
    and runs nothing."""
    project = project_file(tmp_path, data)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = studio("export", project, "--format", "python", "-o", tmp_path / "out.py")
    line = assert_one_clear_line(result, *words)
    assert not (tmp_path / "MARKER").exists(), "the payload ran"
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "something was written"
    return line


def test_initializer_module_payload_is_refused(tmp_path):
    """The issue's example: Keras ignores `module` when building, the script would not."""
    payload = f"keras.initializers if not {touch(tmp_path / 'MARKER')} else keras"
    data = with_hidden({"units": 4, "kernel_initializer": {"module": payload, "class_name": "GlorotUniform",
                                                           "config": {}}})
    assert_refused(tmp_path, data, "hidden", "kernel_initializer.module")


def test_check_reports_the_initializer_payload_on_the_node(tmp_path):
    payload = f"keras.initializers if not {touch(tmp_path / 'MARKER')} else keras"
    data = with_hidden({"units": 4, "kernel_initializer": {"module": payload, "class_name": "GlorotUniform",
                                                           "config": {}}})
    project = project_file(tmp_path, data)
    assert_one_clear_line(studio("check", project), "hidden", "kernel_initializer")
    report = json.loads(studio("check", project, "--json").out)
    errors = [d for d in report["diagnostics"] if d["severity"] == "error"]
    assert [d["node"] for d in errors] == ["d1"] and "kernel_initializer" in errors[0]["message"]


def test_initializer_class_name_payload_is_refused(tmp_path):
    payload = f"GlorotUniform() if {touch(tmp_path / 'MARKER')} else keras.initializers.Zeros"
    data = with_hidden({"units": 4, "kernel_initializer": {"module": "keras.initializers", "class_name": payload,
                                                           "config": {}}})
    assert_refused(tmp_path, data, "hidden", "kernel_initializer", "class_name")


def test_payload_in_a_config_key_is_refused(tmp_path):
    key = f"seed=None, extra={touch(tmp_path / 'MARKER')}"
    data = with_hidden({"units": 4, "kernel_initializer": {"module": "keras.initializers",
                                                           "class_name": "GlorotUniform", "config": {key: 1}}})
    assert_refused(tmp_path, data, "hidden", "kernel_initializer", "seed=None, extra=")


def test_payload_in_an_opaque_layers_key_is_refused(tmp_path):
    """A layer outside the catalog keeps its Keras config, keys included."""
    key = f"mask_value=0.0, extra={touch(tmp_path / 'MARKER')}"
    assert_refused(tmp_path, with_hidden({"mask_value": 0.0, key: 1}, "Masking"), "hidden", "mask_value=0.0, extra=")


def test_payload_in_an_opaque_class_name_is_refused(tmp_path):
    node_type = f"Identity() if {touch(tmp_path / 'MARKER')} else layers.Identity"
    line = assert_refused(tmp_path, with_hidden({}, node_type), "hidden")
    assert "class_name" in line or "type" in line, line


def test_a_custom_or_lambda_layer_is_refused(tmp_path):
    assert_refused(tmp_path, with_hidden({"units": 4}, "MyCustomLayer"), "hidden")
    assert_refused(tmp_path, with_hidden({"function": "lambda x: x"}, "Lambda"), "hidden", "Lambda")


def test_payload_in_a_wrapped_layer_is_refused(tmp_path):
    """Layer configs inside wrappers (Bidirectional, TimeDistributed) are checked like the layer's own."""
    marker = touch(tmp_path / "MARKER")
    data = raw_project()
    data["graph"]["nodes"][0]["params"] = {"batch_shape": [None, 5, 8]}
    data["graph"]["nodes"][1].update(type="Bidirectional", params={"layer": {
        "module": "keras.layers", "class_name": "LSTM",
        "config": {"units": 3, "kernel_initializer": {
            "module": f"keras.initializers if not {marker} else keras", "class_name": "GlorotUniform",
            "config": {}}}}})
    assert_refused(tmp_path, data, "hidden", "layer.config.kernel_initializer")
    data["graph"]["nodes"][1]["params"]["layer"].update(class_name=f"LSTM if {marker} else layers.GRU")
    del data["graph"]["nodes"][1]["params"]["layer"]["config"]["kernel_initializer"]
    assert_refused(tmp_path, data, "hidden", "layer")


# --- free text: written only as string literals ---------------------------------------------
def code_without_strings(text: str) -> str:
    """The script's code with every string constant (docstrings too) emptied."""
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.unparse(tree)


def assert_only_literals(script: Path, *texts: str) -> None:
    """Each text is in the script as (part of) a string literal, and nowhere else:
    not in code, a docstring or a comment; the script calls no `__import__`."""
    text = script.read_text(encoding="utf-8")
    tree = ast.parse(text)
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    docs = [ast.get_docstring(n) or "" for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    comments = [t.string for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type == tokenize.COMMENT]
    code = code_without_strings(text)
    assert "__import__" not in code
    for piece in texts:
        assert any(piece in s for s in strings), piece
        assert not any(piece in d for d in docs), piece
        assert not any(piece in c for c in comments), piece


def test_data_path_column_and_class_names_are_string_literals(tmp_path):
    """A data folder named to close the loader's docstring, and column and class names
    written to break out of a string: all stay string literals."""
    marker = tmp_path / "MARKER"
    folder_name = f'd"""\n    {touch_beside()}\n    """'
    folder = tmp_path / folder_name
    folder.mkdir()
    column = f"x')+{touch_beside()}#"  # no commas: these are CSV cells
    label = f"lo'];{touch_beside()}#"
    rows = [f"{i % 3 + (i % 7) / 10},{(i * 37) % 11 / 3},{[label, 'hi'][i % 2]}" for i in range(40)]
    (folder / "table.csv").write_text("\n".join([f"size,{column},label", *rows]) + "\n", encoding="utf-8")
    data = raw_project(dataset={"kind": "csv", "path": f"{folder_name}/table.csv", "features": ["size", column],
                                "targets": ["label"]})
    data["graph"]["nodes"][0]["params"] = {"batch_shape": [None, 2]}
    project = project_file(tmp_path, data)
    out = tmp_path / "out.py"
    result = studio("export", project, "--format", "python", "-o", out)
    assert result.rc == 0, result.err
    assert_only_literals(out, folder_name, column, label)
    assert not marker.exists()


def test_project_name_titles_and_file_name_are_string_literals(tmp_path):
    """The project's name, description and layer titles, and an output file named to close
    the script's docstring."""
    marker = tmp_path / "MARKER"
    payload = f'"""\n{touch_beside()}\n"""'
    data = raw_project(name=f"net{payload}", description=f"about{payload}")
    graph = copy.deepcopy(data["graph"])
    for node in graph["nodes"]:
        node["title"] = f"{node['title']}{payload}"
    data["graph"] = graph
    project = project_file(tmp_path, data)
    out = tmp_path / f"out{payload}.py"
    result = studio("export", project, "--format", "python", "-o", out)
    assert result.rc == 0, result.err
    assert_only_literals(out, f"out{payload}.keras")
    assert not marker.exists()
