"""The Python export's check is real: the written script runs in its own process, and a script
that computes something else, or does not run, is refused with nothing written.

The check process builds the script's model while the exporter builds its own (the script is
written before the model exists); these tests make sure that head start changes nothing a user
relies on: what is compared, what is reported, what is left behind."""

from __future__ import annotations

import pytest

from studio.compiler.keras_build import build_model
from studio.compiler.plan import make_plan
from studio.core.errors import ExportError
from studio.export import codegen, exporters
from studio.export.exporters import export_model
from tests.compiler.graphs import mlp


@pytest.fixture
def runners(monkeypatch):
    """Every check process the export starts (real ones), to see that each has ended."""
    started: list = []
    original = exporters.ScriptRunner.__init__

    def record(self) -> None:
        original(self)
        started.append(self)

    monkeypatch.setattr(exporters.ScriptRunner, "__init__", record)
    return started


def _written_as(monkeypatch, edit) -> None:
    """The code generator's script, changed by `edit(text)` before it is written."""
    generate = codegen.generate_script
    monkeypatch.setattr(codegen, "generate_script", lambda plan, settings=None: edit(generate(plan, settings)))


def _export(tmp_path):
    plan = make_plan(mlp(), "net")
    return export_model(build_model(plan), "python", tmp_path / "net.py", plan=plan)


def test_a_script_that_computes_something_else_is_refused(tmp_path, monkeypatch, runners):
    (tmp_path / "net.py").write_text("the user's old script\n")
    # Same layers, names and parameter counts; only the hidden activation differs.
    _written_as(monkeypatch, lambda text: text.replace('activation="relu"', 'activation="tanh"'))
    with pytest.raises(ExportError, match="does not give the same answers.*nothing was written"):
        _export(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.py"]
    assert (tmp_path / "net.py").read_text() == "the user's old script\n"
    assert runners and all(r.proc.poll() is not None for r in runners)


def test_a_script_whose_model_does_not_build_is_refused_with_its_reason(tmp_path, monkeypatch, runners):
    broken = '    """The network as drawn in Network Studio."""\n    raise ValueError("no model today")\n'
    _written_as(monkeypatch, lambda text: text.replace('    """The network as drawn in Network Studio."""\n',
                                                       broken, 1))
    with pytest.raises(ExportError, match=r"net\.py: the exported script does not run: "
                                          r"ValueError: no model today; nothing was written"):
        _export(tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert runners and all(r.proc.poll() is not None for r in runners)


def test_a_script_with_other_layer_names_is_refused(tmp_path, monkeypatch):
    """The weights file is loaded by the script's model: a model built differently is caught."""
    _written_as(monkeypatch, lambda text: text.replace('name="hidden"', 'name="hidden_2"'))
    with pytest.raises(ExportError, match="builds a different model than the app.*nothing was written"):
        _export(tmp_path)
    assert list(tmp_path.iterdir()) == []

