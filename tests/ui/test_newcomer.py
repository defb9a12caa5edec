"""Issue 15, the window a newcomer expects (the points off the canvas): an honest
ETA, panels that show only the open project, no modified mark without a change,
help and examples in the menus, readable panels at the default sizes, and the
small things (names, labels, prompts, file modes).

Driven like a user where a user would act: mouse clicks, key presses and wheel
turns on the real widgets."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from studio.project.io import load_project
from studio.ui import dialogs  # the real dialogs, kept before the fixtures stub them
from tests.ui.waiting import HANG_MS, settle

PROJECTS = Path(__file__).resolve().parents[2] / "projects"
ASK_SAVE_CHANGES = dialogs.ask_save_changes
CHOOSE_TEMPLATE = dialogs.choose_template
IRIS = PROJECTS / "iris-mlp.studio.json"


@pytest.fixture(autouse=True)
def _offline(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "studio-cache"))
    monkeypatch.setenv("STUDIO_OFFLINE", "1")


def copy_example(tmp_path: Path, name: str = "iris-mlp") -> Path:
    source = PROJECTS / f"{name}.studio.json"
    if not source.is_file():
        pytest.skip(f"the bundled {name} example is missing")
    path = tmp_path / source.name
    shutil.copy(source, path)
    return path


@pytest.fixture
def iris_window(qtbot, make_window, tmp_path):
    """A main window with every panel, on a copy of the iris example."""
    path = copy_example(tmp_path)
    window = make_window(optional_panels=True, size=(1400, 860))
    assert window.files.open(path, ask=False)
    settle(qtbot)
    return window


def click(qtbot, widget, pos: QPoint | None = None) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=pos or widget.rect().center())


def wheel(widget, steps: int = -3) -> None:
    """Turn the mouse wheel over `widget` (without clicking it first)."""
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(widget.rect().center())), QPoint(0, 0),
                        QPoint(0, 120 * steps), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


# -- 2. the ETA ------------------------------------------------------------------------------
def test_the_eta_waits_for_steady_batches(monkeypatch):
    """The first call of an epoch carries the tracing: it says nothing about the rest."""
    from studio.training import session as session_module
    from studio.training.config import TrainingConfig
    from studio.training.reports import Reporter

    clock = SimpleNamespace(now=100.0)
    monkeypatch.setattr(session_module, "time", SimpleNamespace(perf_counter=lambda: clock.now))
    reports = []

    class Collect(Reporter):
        def on_batches(self, report):
            reports.append(report)

    session = session_module.TrainingSession(config=TrainingConfig(epochs=2), reporter=Collect(),
                                             report_interval=0)
    session.begin_training({"steps": 10})
    session.begin_epoch(0)
    clock.now += 8.0  # tracing the model: 8 s for the first batch
    session.end_batch(0, {"loss": 1.0})
    assert reports[-1].eta_s is None  # "estimating...", not 20 minutes
    for batch in range(1, 10):
        clock.now += 0.1
        session.end_batch(batch, {"loss": 1.0})
    # after the second batch: 8 batches left in this epoch and 10 in the next, 0.1 s each
    assert reports[1].eta_s == pytest.approx(1.8)
    assert reports[-1].eta_s == pytest.approx(1.0)
    assert reports[-1].samples_per_s == pytest.approx(10.0)  # batch size 1, steady batches only


def test_progress_says_estimating_then_done_and_no_stale_eta_after_stop(qtbot, iris_window):
    panel = iris_window.panels["TrainingPanel"]
    panel.settings.epochs.setValue(2000)
    shown = []
    panel.runner.batches.connect(lambda _r: shown.append(panel.progress.format()))
    click(qtbot, panel.train_button)
    qtbot.waitUntil(lambda: len(shown) >= 3, timeout=HANG_MS)
    assert "estimating" in shown[0] and "ETA" not in shown[0], shown[0]
    qtbot.waitUntil(lambda: "ETA" in panel.progress.format(), timeout=HANG_MS)
    with qtbot.waitSignal(panel.runner.finished, timeout=HANG_MS):
        click(qtbot, panel.stop_button)
    text = panel.progress.format()
    assert "ETA" not in text and "samples/s" not in text, text
    assert text.startswith("Stopped after"), text


# -- 3. a project shows only its own state -----------------------------------------------------
def test_opening_another_project_clears_the_last_ones_training_and_data(qtbot, iris_window, tmp_path,
                                                                        dialog_log):
    window = iris_window
    panel = window.panels["TrainingPanel"]
    data = window.panels["DataPanel"]
    qtbot.waitUntil(lambda: not data.busy and data.info is not None, timeout=HANG_MS)
    from PySide6.QtWidgets import QGroupBox

    settings_box = next(b for b in data.findChildren(QGroupBox) if b.title() == "Settings")
    assert settings_box.isVisibleTo(data)
    panel.settings.epochs.setValue(2)
    with qtbot.waitSignal(panel.runner.finished, timeout=HANG_MS):
        click(qtbot, panel.train_button)
    assert "saved as run" in panel.message.text()
    window.files.save()

    # an empty project of its own, opened with Ctrl+O
    other = tmp_path / "other" / "empty.studio.json"
    other.parent.mkdir()
    from studio.project.io import save_project
    from studio.ui.document import new_project

    save_project(new_project(), other)
    dialog_log.open_file = other
    window.activateWindow()
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.document.path == other, timeout=HANG_MS)
    settle(qtbot)
    assert not panel.message.isVisibleTo(panel) or not panel.message.text()
    assert "run" not in panel.message.text()
    assert panel.progress.format() == "" and panel.progress.value() <= 0
    assert panel.runs_view.tree.topLevelItemCount() == 0
    assert not panel.status.isVisibleTo(panel)
    qtbot.waitUntil(lambda: not data.busy, timeout=HANG_MS)
    assert not settings_box.isVisibleTo(data)  # no greyed settings of the iris data
    assert "iris" not in data.title.text().lower()


def test_opening_another_project_while_training_stops_the_run_first(qtbot, iris_window, tmp_path,
                                                                  dialog_log, monkeypatch):
    window = iris_window
    panel = window.panels["TrainingPanel"]
    asked = []
    monkeypatch.setattr(dialogs, "ask_stop_training", lambda parent, before="closing": asked.append(before) or True)
    panel.settings.epochs.setValue(2000)
    click(qtbot, panel.train_button)
    qtbot.waitUntil(lambda: panel.history.batch_count > 0, timeout=HANG_MS)
    (tmp_path / "other").mkdir()
    dialog_log.open_file = copy_example(tmp_path / "other", "spirals-mlp")
    dialog_log.save_changes = "discard"
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert asked == ["opening another project"]
    assert not panel.is_training()
    assert window.document.path.name == "spirals-mlp.studio.json"
    settle(qtbot)
    assert not panel.message.text() and panel.progress.format() == ""


# -- 8. modified only by a real change ---------------------------------------------------------
def test_clicking_and_scrolling_the_settings_changes_nothing(qtbot, iris_window):
    window = iris_window
    panel = window.panels["TrainingPanel"]
    window.docks["TrainingPanelDock"].raise_()
    settle(qtbot)
    doc = window.document
    steps = doc.undo_stack.count()
    form = panel.settings
    # click into the loss box, the metrics field and the device box, then away
    for widget in (form.loss.lineEdit(), form.metrics, form.device.lineEdit(), form.epochs):
        click(qtbot, widget)
    qtbot.keyClick(form.metrics, Qt.Key.Key_Tab)
    click(qtbot, form.batch_size)
    # the wheel over boxes the user has not clicked scrolls the column, not the value
    for widget in (form.learning_rate, form.optimizer, form.validation_split, form.schedule):
        before = widget.value() if hasattr(widget, "value") else widget.currentIndex()
        wheel(widget)
        after = widget.value() if hasattr(widget, "value") else widget.currentIndex()
        assert after == before, widget
    settle(qtbot)
    assert doc.undo_stack.count() == steps, doc.undo_stack.text(doc.undo_stack.count() - 1)
    assert not doc.is_dirty and not window.isWindowModified()


def test_a_real_setting_change_writes_only_that_setting(qtbot, iris_window):
    window = iris_window
    form = window.panels["TrainingPanel"].settings
    window.docks["TrainingPanelDock"].raise_()
    settle(qtbot)
    click(qtbot, form.epochs)
    form.epochs.selectAll()
    qtbot.keyClicks(form.epochs, "12")
    qtbot.keyClick(form.epochs, Qt.Key.Key_Return)
    assert window.document.undo_stack.undoText() == "Change training settings"
    assert window.document.project.training == {"epochs": 12, "batch_size": 16, "learning_rate": 0.01}


def test_save_writes_what_it_read(qtbot, iris_window):
    window = iris_window
    path = window.document.path
    before = path.read_text(encoding="utf-8")
    xs = [n.position[0] for n in window.document.graph.nodes]
    assert sorted(xs) != [0.0, 220.0, 440.0]  # spread on screen to show the wires
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert path.read_text(encoding="utf-8") == before
    assert not window.isWindowModified()


def test_save_keeps_a_moved_node_where_the_user_put_it(qtbot, iris_window):
    from studio.graph.edits import MoveNodes

    window = iris_window
    path = window.document.path
    node = window.document.graph.node("hidden")
    window.document.push(MoveNodes({"hidden": (node.position[0], 90.0)}, "Move"))
    assert window.files.save()
    saved = {n.id: n.position for n in load_project(path).graph.nodes}
    assert saved["hidden"][1] == 90.0
    assert saved["species"] == (440.0, 0.0)  # untouched: as the file had it


# -- 9. help, examples, shortcuts, theme ---------------------------------------------------------
def test_file_open_example_lists_the_bundled_projects_with_a_line_each(qtbot, window, monkeypatch):
    from studio.ui import guide

    items = guide.examples()
    assert [e.name for e in items][:2] == ["iris-mlp", "spirals-mlp"] and len(items) >= 6
    assert all(e.title and e.line for e in items)
    assert window.actions_.open_example in window.menus.file.actions()
    shown = {}

    def pick(parent, listed):  # the dialog as the user sees it: double-click "Two spirals"
        dialog = guide.ExamplesDialog(listed, parent)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        shown["texts"] = [dialog.list.item(i).text() for i in range(dialog.list.count())]
        row = next(i for i, e in enumerate(listed) if e.name == "spirals-mlp")
        rect = dialog.list.visualItemRect(dialog.list.item(row))
        qtbot.mouseClick(dialog.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(dialog.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        assert dialog.result() == dialog.DialogCode.Accepted
        return dialog.chosen()

    monkeypatch.setattr(guide, "choose_example", pick)
    window.actions_.open_example.trigger()
    assert window.document.path.name == "spirals-mlp.studio.json"
    assert any("Two spirals" in t and "\n" in t for t in shown["texts"])


def test_help_has_getting_started_with_example_links_and_the_shortcuts(qtbot, window):
    help_texts = [a.text().replace("&", "") for a in window.menus.help.actions()]
    assert "Getting Started" in help_texts and "Keyboard Shortcuts" in help_texts
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_F1)
    from studio.ui.guide import GettingStarted

    qtbot.waitUntil(lambda: window.findChild(GettingStarted) is not None)
    page = window.findChild(GettingStarted)
    qtbot.waitExposed(page)
    text = page.browser.toPlainText()
    assert "Open an example" in text and "Ctrl+Enter" in text
    # the first example link opens it
    found = page.browser.document().find("Two spirals")
    assert not found.isNull()
    found.setPosition(found.selectionStart() + 3)
    rect = page.browser.cursorRect(found)
    qtbot.mouseClick(page.browser.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.document.path is not None and window.document.path.name == "spirals-mlp.studio.json")

    dialog = window.show_shortcuts()
    qtbot.addWidget(dialog)
    assert dialog.keys_for("Save") == "Ctrl+S"
    assert dialog.keys_for("Add a layer at the mouse (search)") == "Tab"
    assert dialog.keys_for("Getting Started") == "F1"


def test_ctrl_enter_trains_and_esc_in_the_panel_stops(qtbot, iris_window):
    window = iris_window
    panel = window.panels["TrainingPanel"]
    window.docks["DataPanelDock"].raise_()  # the training panel is behind another tab
    panel.settings.epochs.setValue(2000)
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert panel.is_training()
    assert window.docks["TrainingPanelDock"].isVisible()
    qtbot.waitUntil(lambda: panel.history.batch_count > 0, timeout=HANG_MS)
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Escape)  # Esc on the canvas is the canvas's
    assert not panel.runner.session.stop_requested
    panel.pause_button.setFocus()
    with qtbot.waitSignal(panel.runner.finished, timeout=HANG_MS) as blocker:
        qtbot.keyClick(panel.pause_button, Qt.Key.Key_Escape)
    assert blocker.args[0].status == "stopped"


@pytest.fixture
def restore_theme(qapp):
    from studio.ui import theme

    palette, sheet, style, current = qapp.palette(), qapp.styleSheet(), qapp.style().name(), theme._current
    yield
    qapp.setStyle(style)
    qapp.setPalette(palette)
    qapp.setStyleSheet(sheet)
    theme._current = current


def test_view_theme_switches_and_is_kept(qtbot, window, restore_theme):
    from studio.ui import settings, theme

    titles = [a.text().replace("&", "") for a in window.menus.themes.actions()]
    assert titles == ["System", "Light", "Dark"]
    window.actions_.theme_dark.trigger()
    assert theme.current().dark and window.actions_.theme_dark.isChecked()
    assert QApplication.palette().color(QApplication.palette().ColorRole.Window).lightness() < 100
    assert settings.settings().value("view/theme") == "dark"
    window.actions_.theme_light.trigger()
    assert not theme.current().dark and not window.actions_.theme_dark.isChecked()
    assert settings.settings().value("view/theme") == "light"


# -- 10. the small things -----------------------------------------------------------------------
def test_a_new_conv2d_is_named_like_keras_names_it(qtbot, window):
    added = window.add_layer_after_selection("Conv2D")
    assert window.document.graph.node(added).title == "conv2d"
    added = window.add_layer_after_selection("ConvLSTM2D")
    assert window.document.graph.node(added).title == "conv_lstm2d"
    added = window.add_layer_after_selection("Conv2D")
    assert window.document.graph.node(added).title == "conv2d_1"


def test_the_input_has_no_trainable_box_and_its_help_matches_its_field(qtbot, window, tmp_path):
    window.files.open(copy_example(tmp_path), ask=False)
    inspector = window.inspector
    window.reveal_node("measurements")
    assert inspector.trainable_box is not None and not inspector.trainable_box.isVisibleTo(inspector)
    spec = window.catalog.get("Input")
    shape = spec.param_map["batch_shape"]
    assert "batch" in shape.title and "without the batch" not in spec.description
    assert "(None, 4)" in spec.description
    window.reveal_node("hidden")
    assert inspector.trainable_box.isVisibleTo(inspector)


def test_the_unsaved_changes_prompt_says_what_comes_next(qtbot, window, tmp_path, dialog_log):
    window.add_layer_after_selection("Dense")
    dialog_log.open_file = copy_example(tmp_path)
    dialog_log.save_changes = "cancel"
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    (_name, args, kwargs), = dialog_log.named("ask_save_changes")
    assert kwargs.get("before") == "opening another project"
    boxes = []

    def look():
        box = QApplication.activeModalWidget()
        if box is not None:
            try:
                boxes.append(box.text())
            finally:
                box.reject()

    from PySide6.QtCore import QTimer

    QTimer.singleShot(0, look)
    ASK_SAVE_CHANGES(window, "iris", before="opening another project")
    assert boxes == ["Save the changes to “iris” before opening another project?"]


def test_the_template_list_has_no_sideways_scroll_bar(qtbot, window, qapp, restore_theme):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QListWidget

    from studio.ui.files import templates
    from studio.ui.theme import ThemeManager

    ThemeManager(qapp).apply(dark=False)  # the app's style sheet pads the items, as users see them

    seen = {}

    def look():
        dialog = QApplication.activeModalWidget()
        try:
            lst = dialog.findChild(QListWidget)
            bars = []
            for width in (520, 460, 400):  # as the dialog opens, and made narrower by the user
                dialog.resize(width, 360)
                qtbot.waitUntil(lambda w=width: lst.isVisible() and dialog.width() == w)
                settle(qtbot, 5)  # the list lays its wrapped items out
                bars.append(lst.horizontalScrollBar().isVisible() or lst.horizontalScrollBar().maximum() > 0)
            seen["bar"] = any(bars)
            seen["rows"] = lst.count()
        finally:
            dialog.reject()  # whatever was seen: a modal left open would hang the test

    QTimer.singleShot(0, look)
    assert CHOOSE_TEMPLATE(window, templates()) is None
    assert seen["rows"] > 1 and seen["bar"] is False


def test_imported_weights_are_readable_like_any_file(tmp_path):
    keras = pytest.importorskip("keras")
    import os
    import stat

    from studio.compiler.keras_import import import_model

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
    model.save(tmp_path / "m.keras")
    result = import_model(tmp_path / "m.keras", tmp_path / "m")
    for path in (result.project_path, result.weights_path):
        assert stat.S_IMODE(os.stat(path).st_mode) & 0o044 == 0o044, oct(os.stat(path).st_mode)


def test_predict_offers_image_only_for_image_models(qtbot):
    from studio.ui.training.predict_view import takes_images

    two_numbers = {"dataset_resolved": {"kind": "csv", "features": ["x", "y"]},
                   "graph": {"nodes": [{"type": "Input", "params": {"batch_shape": [None, 2]}}]}}
    arrays = {"dataset_resolved": {"kind": "npz"},
              "graph": {"nodes": [{"type": "Input", "params": {"batch_shape": [None, 2]}}]}}
    digits = {"dataset_resolved": {"kind": "npz"},
              "graph": {"nodes": [{"type": "Input", "params": {"batch_shape": [None, 8, 8, 1]}}]}}
    assert not takes_images(two_numbers) and not takes_images(arrays)
    assert takes_images(digits) and takes_images({"dataset_resolved": {"kind": "images"}})


def test_predict_tab_of_a_two_number_model_has_no_image_button(qtbot, iris_window, tmp_path):
    window = iris_window
    window.files.open(copy_example(tmp_path, "spirals-mlp"), ask=False)
    panel = window.panels["TrainingPanel"]
    panel.settings.epochs.setValue(1)
    with qtbot.waitSignal(panel.runner.finished, timeout=HANG_MS):
        click(qtbot, panel.train_button)
    panel.tabs.setCurrentWidget(panel.predict)
    qtbot.waitUntil(lambda: panel.predict.run is not None)
    assert not panel.predict.image_button.isVisibleTo(panel.predict)
    assert "Image" not in panel.predict.input.placeholderText()


def test_status_bar_names_the_file_and_keeps_the_path_for_the_tooltip(qtbot, window, tmp_path):
    path = copy_example(tmp_path)
    window.files.open(path, ask=False)
    message = window.statusBar().currentMessage()
    assert path.name in message and str(tmp_path) not in message
    assert window.file_label.text() == path.name
    assert window.file_label.toolTip() == str(path)


def test_status_bar_memory_estimate_names_the_projects_optimizer(qtbot, iris_window):
    window = iris_window
    bar = window.summary_bar
    assert "with Adam" in bar.totals.text() and "≈2.0 KB" in bar.totals.text()  # 131 weights x 4 values
    form = window.panels["TrainingPanel"].settings
    window.docks["TrainingPanelDock"].raise_()
    settle(qtbot)
    form.optimizer.setFocus()
    form.optimizer.setCurrentIndex(form.optimizer.findData("sgd"))
    assert window.document.project.training["optimizer"] == "sgd"
    assert "with SGD" in bar.totals.text() and "≈1.0 KB" in bar.totals.text()  # weights and gradients


# -- 5. readable at the default sizes -------------------------------------------------------------
def dock_tab(window, title: str):
    """The tab bar and index of the docked panel `title` (the tabs under the bottom panels)."""
    from PySide6.QtWidgets import QTabBar

    for bar in window.findChildren(QTabBar):
        for i in range(bar.count()):
            if bar.tabText(i) == title and bar.isVisible():
                return bar, i
    raise AssertionError(f"no tab {title!r}")


def in_view(widget, viewport) -> bool:
    """True when `widget` lies within `viewport` from left to right (nothing cut at a side)."""
    left = widget.mapTo(viewport, QPoint(0, 0)).x()
    return left >= 0 and left + widget.width() <= viewport.width()


def assert_readable_settings(panel) -> None:
    from PySide6.QtWidgets import QAbstractSpinBox, QCheckBox, QComboBox, QLabel, QLineEdit

    scroll = panel.settings_scroll
    assert not scroll.horizontalScrollBar().isVisible(), "the settings scroll sideways"
    viewport = scroll.viewport()
    checked = 0
    for kind in (QLabel, QCheckBox, QComboBox, QAbstractSpinBox, QLineEdit):
        for widget in panel.settings.findChildren(kind):
            if not widget.isVisibleTo(panel.settings) or widget.parent() is not None and \
                    isinstance(widget.parent(), (QComboBox, QAbstractSpinBox)):
                continue
            checked += 1
            assert in_view(widget, viewport), f"{type(widget).__name__} {widget.objectName() or widget} cut off"
            if isinstance(widget, (QLabel, QCheckBox)) and widget.text() and not getattr(widget, "wordWrap",
                                                                                          lambda: False)():
                assert widget.width() >= widget.sizeHint().width(), f"{widget.text()!r} cut"
            if isinstance(widget, QComboBox) and not widget.isEditable():
                assert widget.width() >= widget.sizeHint().width(), f"{widget.currentText()!r} box too narrow"
            if isinstance(widget, (QComboBox, QAbstractSpinBox, QLineEdit)):
                assert widget.width() >= widget.minimumSizeHint().width(), widget
    assert checked > 20


def assert_columns_fit(table, names) -> None:
    """Every column of `table` (a tree or table view) lies inside its view, its title in full."""
    header = table.header() if hasattr(table, "header") else table.horizontalHeader()
    width = table.viewport().width()
    assert not table.horizontalScrollBar().isVisible(), f"{type(table).__name__} scrolls sideways"
    metrics = header.fontMetrics()
    for i in range(header.count()):
        if header.isSectionHidden(i):
            continue
        text = str(table.model().headerData(i, Qt.Orientation.Horizontal) or "")
        right = header.sectionViewportPosition(i) + header.sectionSize(i)
        assert right <= width, f"column {text!r} ends at {right} beyond {width}"
        assert header.sectionSize(i) >= metrics.horizontalAdvance(text), f"column {text!r} cut"
    shown = {str(table.model().headerData(i, Qt.Orientation.Horizontal)) for i in range(header.count())
             if not header.isSectionHidden(i)}
    assert set(names) <= shown, (names, shown)


@pytest.mark.parametrize("size", [(1400, 860), (1280, 800)])
def test_the_training_panel_is_readable_at_the_default_size(qtbot, make_window, tmp_path, size):
    window = make_window(optional_panels=True, size=size)
    assert window.files.open(copy_example(tmp_path), ask=False)
    settle(qtbot)
    bar, index = dock_tab(window, "Training")
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    panel = window.panels["TrainingPanel"]
    qtbot.waitUntil(lambda: panel.isVisible())
    settle(qtbot)
    holder = window.docks["TrainingPanelDock"].widget()
    assert holder.viewport().height() >= 240, f"the training panel starts {holder.viewport().height()} px tall"
    assert not holder.horizontalScrollBar().isVisible()
    qtbot.waitUntil(lambda: assert_readable_settings(panel) is None)

    panel.settings.epochs.setValue(2)
    with qtbot.waitSignal(panel.runner.finished, timeout=HANG_MS):
        click(qtbot, panel.train_button)
    settle(qtbot)
    tabs = panel.tabs.tabBar()
    qtbot.mouseClick(tabs, Qt.MouseButton.LeftButton, pos=tabs.tabRect(panel.tabs.indexOf(panel.runs_view)).center())
    table = panel.runs_view.tree
    qtbot.waitUntil(lambda: table.isVisible() and table.topLevelItemCount() == 1)
    settle(qtbot)
    qtbot.waitUntil(lambda: assert_columns_fit(table, ["Metric", "Duration", "Device"]) is None)
    qtbot.mouseClick(tabs, Qt.MouseButton.LeftButton,
                     pos=tabs.tabRect(panel.tabs.indexOf(panel.evaluation)).center())
    matrix = panel.evaluation.confusion
    qtbot.waitUntil(lambda: matrix.isVisible() and matrix.columnCount() == 3)
    settle(qtbot)
    qtbot.waitUntil(lambda: assert_columns_fit(matrix, ["setosa", "versicolor", "virginica"]) is None)
    assert not holder.horizontalScrollBar().isVisible()
