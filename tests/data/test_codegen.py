"""`loader_source`: pure to import and call, only numpy/tensorflow in the generated code, and
the generated `load_data()` (run as a script in a fresh process) splits like the app."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio import data
from studio.data.codegen import loader_source
from tests.data.conftest import write

REPO = Path(__file__).resolve().parents[2]

BLOCKER = """
import sys
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"numpy", "tensorflow", "keras", "PySide6", "pyqtgraph", "PIL"}:
            raise ImportError(name + " is blocked in this test")
sys.meta_path.insert(0, Blocker())
"""


def test_data_package_codegen_and_binding_import_without_numpy_or_tf():
    code = BLOCKER + textwrap.dedent("""
        import studio.data, studio.data.codegen, studio.data.binding, studio.data.spec, studio.data.info
        from studio.data.codegen import loader_source
        for name in ("iris", "digits", "shapes", "sine", "short-text", "mnist", "imdb"):
            assert "def load_data" in loader_source({"kind": "sample", "path": name})
        print("ok")
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]


@pytest.mark.parametrize("name", ["iris", "digits", "shapes", "sine", "short-text", "mnist", "cifar10", "imdb"])
def test_generated_code_imports_only_numpy_and_tensorflow(name):
    source = loader_source({"kind": "sample", "path": name})
    tree = ast.parse(source)
    assert [n.name for n in tree.body if isinstance(n, ast.FunctionDef)] == ["load_data"]
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            modules.add((node.module or "").split(".")[0])
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in ("eval", "exec", "open", "__import__")
    assert modules <= {"numpy", "tensorflow"}
    assert "allow_pickle=True" not in source and "pickle" not in source.replace("allow_pickle=False", "")


def make_inputs(root: Path) -> dict:
    """Files of every kind, with specs for the app and the script."""
    rng = np.random.default_rng(0)
    lines = ["size,colour,score,label"]
    for i in range(80):
        label = ["lo", "mid", "hi"][i % 3]
        size = "" if i == 5 else f"{i % 3 * 10 + rng.normal():.3f}"
        lines.append(f"{size},{['red', 'blue'][i % 2]},{rng.normal():.3f},{label}")
    write(root / "table.csv", "\n".join(lines) + "\n")
    x = rng.normal(size=(90, 3)).astype("float32")
    np.savez(root / "arrays.npz", x_train=x[:70], y_train=np.arange(70) % 2, x_test=x[70:], y_test=np.arange(20) % 2)
    for k, name in enumerate(("a", "b")):
        (root / "images" / name).mkdir(parents=True)
        for i in range(8):
            Image.new("RGB", (6, 5), (k * 200, 10 * i, 30)).save(root / "images" / name / f"{i}.png")
    texts = "\n".join(f"{['good fine nice', 'bad poor sad'][i % 2]} words {i},{['pos', 'neg'][i % 2]}"
                      for i in range(40))
    write(root / "texts.csv", "text,label\n" + texts + "\n")
    write(root / "series.csv", "t,v\n" + "\n".join(f"{i},{np.sin(i / 3):.4f}" for i in range(120)) + "\n")
    return {
        "table": {"kind": "csv", "path": "table.csv", "missing": "fill"},
        "arrays": {"kind": "npz", "path": "arrays.npz"},
        "images": {"kind": "images", "path": "images"},
        "text": {"kind": "text", "path": "texts.csv", "text": {"sequence_length": 6}},
        "strings": {"kind": "text", "path": "texts.csv", "text": {"strings": True}},  # for a text module
        "series": {"kind": "timeseries", "path": "series.csv", "window": {"length": 8, "horizon": 2}},
        "iris": {"kind": "sample", "path": "iris"},
    }


RUNNER = """
import importlib, json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
sys.path.insert(0, sys.argv[1])
out = {}
for name in sys.argv[2].split(","):
    train, validation, test = importlib.import_module("loader_" + name).load_data(4)
    x, y = next(iter(train))
    test_y = [] if test is None else [v.tolist() for _, yb in test for v in yb.numpy()]
    out[name] = {"x": list(x.shape[1:]), "y": list(y.shape[1:]), "x_dtype": x.dtype.name,
                 "validation": sum(int(yb.shape[0]) for _, yb in validation), "test_y": test_y,
                 "x_mean": float(abs(x.numpy()).mean()) if x.dtype.is_numeric else None}
print(json.dumps(out))
"""


def test_generated_loaders_run_and_split_like_the_app(tmp_path):
    specs = make_inputs(tmp_path)
    expected = {}
    for name, spec in specs.items():
        prepared = data.prepare(spec, tmp_path, batch_size=4)
        resolved = prepared.spec if spec["kind"] != "sample" else spec
        (tmp_path / f"loader_{name}.py").write_text(loader_source(resolved, tmp_path), encoding="utf-8")
        test_y = [v.tolist() for _, yb in prepared.test for v in yb.numpy()]
        expected[name] = (prepared.info.feature_shape, prepared.counts["validation"], test_y)
    env = dict(os.environ, PYTHONPATH="")
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(tmp_path), ",".join(specs)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    for name, (shape, n_val, test_y) in expected.items():
        assert tuple(got[name]["x"]) == tuple(shape), name
        assert got[name]["validation"] == n_val, name
        if name != "series":
            assert got[name]["test_y"] == test_y, f"{name}: the script's test split differs from the app's"
        else:
            assert np.allclose(got[name]["test_y"], test_y, atol=1e-4)
    assert got["text"]["x_dtype"] == "int32"
    assert got["strings"]["x_dtype"] == "string"  # each sample its whole text, as the app gives it
    assert got["images"]["x_mean"] > 1.0  # raw pixels, like the app's datasets: the model scales them


def test_generated_code_is_ruff_clean(tmp_path):
    ruff = Path(sys.executable).with_name("ruff")
    files = []
    for name in ("iris", "digits", "shapes", "sine", "short-text", "mnist", "cifar10", "imdb"):
        path = tmp_path / f"loader_{name.replace('-', '_')}.py"
        path.write_text(loader_source({"kind": "sample", "path": name}), encoding="utf-8")
        files.append(str(path))
    lint = subprocess.run([str(ruff), "check", "--isolated", "--select", "E,F,W", "--line-length", "200", *files],
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout
