"""The Evaluation tab of a model with two outputs: a selector above the results picks the output,
and each shows its own metrics, confusion matrix or regression plot and samples. The two-heads
example trained for two epochs through `studio.workflows.train`, then evaluated."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from studio.project.io import load_project, save_project
from studio.training.config import TrainingConfig
from studio.workflows import evaluate, train
from tests.ui.test_eval_samples import _panel
from tests.workflows.test_multi_io import EXAMPLE


@pytest.fixture(scope="module")
def two_heads_eval(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("two_heads_eval")
    path = tmp / "two-heads.studio.json"
    save_project(load_project(EXAMPLE), path)
    project = load_project(path)
    config = TrainingConfig.from_dict(dict(project.training, epochs=2))
    result = train.make_session(project, config=config).run()
    assert result.status == "completed", result.message
    return project, evaluate.evaluate_run(project)


def test_switching_outputs_shows_each_outputs_own_results(qtbot, two_heads_eval):
    project, result = two_heads_eval
    view = _panel(qtbot, project, result)
    qtbot.waitUntil(lambda: view.output_names() == ["kind", "amount"])
    assert view.outputs_bar.isVisible()
    kind, amount = result["outputs"]["kind"], result["outputs"]["amount"]

    # The class head first: its accuracy, its 3x3 matrix, its misclassified rows.
    assert view.current_output() == "kind"
    assert view.output_button("kind").text() == "kind · 3 classes"
    assert view.stack.currentWidget() is view.classification
    assert f"accuracy {kind['accuracy']:.4f}" in view.summary.text()
    assert view.summary.text().startswith("Output 'kind'")
    assert f"amount: MAE {amount['mae']:.4g}" in view.summary.text()  # the other output in one line
    assert view.confusion.rowCount() == 3
    assert [view.confusion.horizontalHeaderItem(j).text() for j in range(3)] == ["high", "low", "mid"]
    total = sum(int(view.confusion.item(i, j).text()) for i in range(3) for j in range(3))
    assert total == kind["samples"] == 120

    # A click on the number head's button: its MAE, the predicted-against-actual plot, its errors.
    button = view.output_button("amount")
    assert button.text() == "amount · a number"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=button.rect().center())
    assert view.current_output() == "amount"
    assert view.stack.currentWidget() is view.regression
    assert f"MAE {amount['mae']:.4g}" in view.summary.text() and "accuracy" not in view.summary.text().split("\n")[0]
    xs, ys = view.scatter.getData()
    assert len(xs) == 120 and list(xs[:5]) == pytest.approx(amount["y_true"][:5])
    assert list(ys[:5]) == pytest.approx(amount["y_pred"][:5])
    qtbot.waitUntil(lambda: not view.worst.loading(), timeout=20_000)
    assert view.worst.table.rowCount() > 0
    # The largest error first, shown as its CSV row: its 'amount' column is the true value.
    header = view.worst.header_labels()
    cell = {h: view.worst.table.item(0, c).text() for c, h in enumerate(header)}
    errors = [abs(p - t) for p, t in zip(amount["y_pred"], amount["y_true"])]
    assert abs(float(cell["error"])) == pytest.approx(max(errors), abs=0.01)
    assert cell["sample"].startswith("row ") and float(cell["amount"]) == pytest.approx(float(cell["true"]))
    assert cell["kind"] in ("high", "low", "mid")

    # And back: the class head's matrix again.
    button = view.output_button("kind")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=button.rect().center())
    assert view.current_output() == "kind" and view.stack.currentWidget() is view.classification
    assert view.confusion.rowCount() == 3


def test_a_model_with_one_output_shows_no_selector(qtbot):
    from studio.ui.training.evaluation_view import EvaluationView

    view = EvaluationView()
    qtbot.addWidget(view)
    view.show()
    view.set_evaluation({"task": "regression", "samples": 2, "mse": 1.0, "rmse": 1.0, "mae": 1.0, "r2": 0.5,
                         "max_error": 1.0, "y_true": [1.0, 2.0], "y_pred": [2.0, 1.0]})
    assert view.output_names() == [] and not view.outputs_bar.isVisible()
    assert view.stack.currentWidget() is view.regression
