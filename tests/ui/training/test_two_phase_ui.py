"""Two-phase fine-tuning in the window: its settings group, and the line where fine-tuning starts on the curves."""

from __future__ import annotations

from PySide6.QtCore import Qt

from studio.graph.edits import AddNode
from studio.graph.model import Node
from studio.training.history import MetricsHistory
from studio.ui.training.plots import MetricsPlots
from tests.ui.training.test_panel import panel  # noqa: F401 - the fixture: the panel on the iris example
from tests.ui.training.test_views import wait_painted


def _type(qtbot, box, text):
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, text)
    qtbot.keyClick(box, Qt.Key.Key_Return)


def test_fine_tuning_settings_write_the_project_and_refuse_a_phase_without_epochs(qtbot, panel):  # noqa: F811 - the imported fixture
    form, document = panel.settings, panel.document
    panel.show()
    qtbot.waitExposed(panel)
    assert form.ft_box.isHidden()  # the iris network has no pretrained base
    document.push(AddNode(Node(type="Backbone", params={"backbone": "MobileNetV2"}, title="base")))
    qtbot.waitUntil(lambda: not form.ft_box.isHidden())
    assert not form.ft_head_epochs.isEnabled()
    qtbot.mouseClick(form.fine_tune, Qt.MouseButton.LeftButton, pos=form.fine_tune.rect().center())
    assert form.fine_tune.isChecked()
    assert form.ft_head_epochs.isEnabled() and form.ft_lr_factor.isEnabled()
    _type(qtbot, form.ft_head_epochs, "5")
    _type(qtbot, form.ft_unfreeze_top, "20")
    stored = document.project.training["fine_tune"]
    assert stored == {"enabled": True, "head_epochs": 5, "unfreeze_top": 20, "lr_factor": 0.1}
    assert form.ft_unfreeze_top.text() == "20"
    form.ft_unfreeze_top.setValue(0)
    assert form.ft_unfreeze_top.text() == "all" and document.project.training["fine_tune"]["unfreeze_top"] == 0
    assert form.cache_features.isChecked()
    qtbot.mouseClick(form.cache_features, Qt.MouseButton.LeftButton, pos=form.cache_features.rect().center())
    assert document.project.training["cache_features"] is False
    document.undo_stack.undo()
    assert form.cache_features.isChecked()
    epochs = document.project.training["epochs"]
    before = dict(document.project.training)
    _type(qtbot, form.ft_head_epochs, str(epochs))  # no epoch would be left for fine-tuning
    assert not form.error.isHidden() and "fine_tune.head_epochs" in form.error.text()
    assert document.project.training == before
    for _ in range(4):  # the unfreeze count twice, the head epochs, the tick: one undo step each
        document.undo_stack.undo()
    assert form.ft_head_epochs.value() == 3 and not form.fine_tune.isChecked() and not form.ft_head_epochs.isEnabled()
    document.undo_stack.undo()  # the Backbone node: no base, and two-phase off, hide the group again
    qtbot.waitUntil(lambda: form.ft_box.isHidden())


def test_the_curves_mark_where_fine_tuning_starts(qtbot, tmp_path):
    history = MetricsHistory()
    for epoch in range(1, 5):
        history.add_batches([epoch - 0.5, float(epoch)], {"loss": [1.0 / epoch, 0.9 / epoch]})
        history.add_epoch(epoch, {"loss": 0.95 / epoch, "val_loss": 1.0 / epoch, "learning_rate": 0.01,
                                  "phase": 1.0 if epoch <= 2 else 2.0})
    plots = MetricsPlots(history)
    qtbot.addWidget(plots)
    plots.resize(900, 500)
    plots.show()
    qtbot.waitExposed(plots)
    plots.refresh(force=True)
    wait_painted(qtbot, plots)
    assert "phase" not in plots.plot_names()
    assert plots.phase_markers("loss") == [2.0] and plots.phase_markers("learning_rate") == [2.0]
    plots.grab().save(str(tmp_path / "two_phase_curves.png"))
    history.add_epoch(5, {"loss": 0.1, "val_loss": 0.2, "learning_rate": 0.001, "phase": 2.0})
    plots.refresh(force=True)
    assert plots.phase_markers("loss") == [2.0]  # still the one boundary
    plots.set_history(MetricsHistory())
    plots.refresh(force=True)
    assert plots.phase_markers("loss") == []
