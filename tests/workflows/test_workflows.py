"""The workflows on their own, without either front: plain functions, plain results,
progress and cancel hooks; Qt-free and (for check and data) TensorFlow-free."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from studio.core.errors import ExportError
from studio.project.io import load_project, save_project
from studio.project.templates import make_project
from studio.workflows import check, data, evaluate, export, importing, train
from studio.workflows.hooks import Cancelled

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path):
    project = make_project("mlp", name="demo")
    project.dataset = {"kind": "sample", "path": "iris"}
    path = tmp_path / "demo.studio.json"
    save_project(project, path)
    return load_project(path)


def test_check_project_reports_shapes_totals_and_the_training_settings(project):
    outcome = check.check_project(project)
    assert outcome.ok and outcome.unchecked == []
    assert outcome.report.total_params > 0
    project.training = {**project.training, "epochs": 0}
    bad = check.check_project(project, data=False)
    assert not bad.ok
    assert any(d.message.startswith("training.epochs:") for d in bad.report.errors)


def test_check_file_loads_and_checks(project):
    assert check.check_file(project.path).ok


def test_describe_file_turns_options_into_a_spec_and_describes_it(tmp_path):
    info = data.describe_file("iris", targets=None)
    assert info.task == "classification" and info.num_classes == 3
    with pytest.raises(Exception, match="--kind does not apply to a bundled sample"):
        data.data_spec("iris", kind="csv")
    table = tmp_path / "table.csv"
    table.write_text("note\nnote\na\tb\n1\t2\n3\t4\n", encoding="utf-8")
    spec = data.data_spec(str(table), delimiter="tab", header=True, skip_rows=2)
    assert spec["delimiter"] == "\t" and spec["header"] is True and spec["skip_rows"] == 2


def test_describe_project_data_reads_the_projects_dataset(project):
    assert data.describe_project_data(project).num_samples == 150


def test_training_config_applies_only_the_overrides_given(project):
    config = train.training_config(project, epochs=3, batch_size=None)
    assert config.epochs == 3
    assert config.batch_size == train.training_config(project).batch_size


def test_a_project_without_dataset_is_refused_before_any_thread(project):
    project.dataset = None
    with pytest.raises(Exception, match="the project has no dataset"):
        train.make_session(project)


def test_export_refuses_a_bad_format_before_building_anything(project, tmp_path):
    with pytest.raises(ExportError, match="unknown export format"):
        export.export_project(project, "pickle", tmp_path / "m.pkl")


def test_the_export_workflow_knows_every_format_the_exporters_write():
    from studio.export.exporters import FORMATS

    assert export.FORMATS == FORMATS


def test_cancelled_workflows_stop_before_touching_anything(project, tmp_path):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled, match="cancelled: exporting demo"):
        export.export_project(project, "keras", tmp_path / "m.keras", cancel=cancel)
    with pytest.raises(Cancelled):
        importing.import_model(tmp_path / "missing.keras", tmp_path / "p", cancel=cancel)
    assert not (tmp_path / "m.keras").exists() and not (tmp_path / "p.studio.json").exists()


def test_result_lines_say_what_was_written(tmp_path):
    from types import SimpleNamespace

    exported = SimpleNamespace(notes=["n1"], files=[tmp_path / "m.py", tmp_path / "m.py.verify.json",
                                                    tmp_path / "m_data.npz"],
                               path=tmp_path / "m.py", report_path=tmp_path / "m.py.verify.json",
                               max_abs_diff=1e-7, tolerance=1e-5)
    lines = export.result_lines(exported)
    assert lines[0] == "note: n1"
    assert lines[1] == f"Exported {tmp_path / 'm.py'} (with {tmp_path / 'm_data.npz'})"
    assert lines[2].startswith("Verified: max abs difference 1e-07 (tolerance 1e-05)")
    imported = SimpleNamespace(layers=5, opaque=1, params=1234, max_abs_diff=0.0,
                               project_path=tmp_path / "p.studio.json", weights_path=tmp_path / "p.weights.h5")
    assert importing.result_lines(imported)[0] == (
        "Imported 5 layers, 1 kept as-is (not in the catalog), 1,234 parameters "
        "(rebuilt model matches, max abs difference 0)")


def test_evaluation_summary_leaves_the_per_sample_values_in_the_file():
    assert evaluate.summary({"run": "r", "y_true": [1], "y_pred": [1], "accuracy": 1.0}) == {
        "run": "r", "accuracy": 1.0}


def test_commands_and_workflows_never_name_the_gui_package():
    """`grep -rn "studio.ui" studio/commands studio/workflows` finds nothing."""
    import re

    pattern = re.compile(r"studio.ui")
    for folder in ("commands", "workflows"):
        for path in sorted((REPO / "studio" / folder).glob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                assert not pattern.search(line), f"{path.name}:{number}: {line}"


def test_create_project_writes_a_template_and_refuses_to_replace_a_file(tmp_path):
    from studio.core.errors import StudioError
    from studio.workflows.new import create_project

    created = create_project(tmp_path / "demo", "cnn")
    assert created.path == tmp_path / "demo.studio.json" and created.total_params > 0
    assert load_project(created.path).name == "demo"
    with pytest.raises(StudioError, match="the file exists already"):
        create_project(tmp_path / "demo.studio.json", "cnn")
    assert create_project(tmp_path / "demo.studio.json", "mlp", force=True).template == "mlp"
