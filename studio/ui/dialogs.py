"""The questions and reports the main window shows.

Module-level functions, so tests replace them (monkeypatch) instead of
clicking through modal dialogs.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.project.model import SUFFIX
from studio.ui import icons, theme

FILE_FILTER = f"Network Studio projects (*{SUFFIX});;JSON files (*.json);;All files (*)"


def ask_save_changes(parent: QWidget | None, name: str, before: str = "closing") -> str:
    """'save', 'discard' or 'cancel'; `before` says what the user is about to do
    ("closing", "opening another project", "starting a new project")."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Unsaved changes")
    box.setText(f"Save the changes to “{name}” before {before}?")
    box.setInformativeText("Your changes will be lost if you don't save them.")
    box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                           | QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    return {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}.get(
        QMessageBox.StandardButton(answer), "cancel")


def ask_stop_training(parent: QWidget | None, before: str = "closing") -> bool:
    """True if the user agrees to stop the running training (its run is kept)
    before `before` ("closing", "opening another project"...)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Training is running")
    box.setText("Stop training and close?" if before == "closing" else f"Stop training before {before}?")
    box.setInformativeText("The run so far is saved as 'stopped'; you can continue it later.")
    stop = box.addButton("Stop and close" if before == "closing" else "Stop training",
                         QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is stop


class ProblemsDialog(QDialog):
    """Every problem found in a file, with where it is."""

    def __init__(self, title: str, message: str, problems: list[tuple[str, str]], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("problemsDialog")
        self.resize(640, 380)
        self.problems = problems
        head = QLabel(message, self)
        head.setWordWrap(True)
        head.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["Where", "Problem"])
        self.tree.setRootIsDecorated(False)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        for where, what in problems:
            item = QTreeWidgetItem([where, what])
            item.setIcon(0, icons.action_icon("error", theme.current().error.name()))
            item.setToolTip(1, what)
            self.tree.addTopLevelItem(item)
        self.tree.setVisible(bool(problems))
        note = QLabel("Nothing was opened and the file was not changed.", self)
        note.setObjectName("muted")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        copy = buttons.addButton("Copy", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(self.copy)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addWidget(self.tree)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText("\n".join(f"{w}: {m}" for w, m in self.problems))


def show_problems(parent: QWidget | None, title: str, message: str, problems: list[tuple[str, str]]) -> None:
    ProblemsDialog(title, message, problems, parent).exec()


def show_error(parent: QWidget | None, title: str, message: str) -> None:
    QMessageBox.critical(parent, title, message)


def ask_restore(parent: QWidget | None, name: str, original: Path | None, saved_at: float) -> str:
    """'restore', 'discard' or 'later'."""
    when = _dt.datetime.fromtimestamp(saved_at).strftime("%H:%M on %d %b")
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Recover unsaved work")
    box.setText(f"Network Studio did not close properly. Restore the unsaved changes to “{name}”?")
    box.setInformativeText(f"Autosaved at {when}" + (f" from {original}" if original else "") + ".")
    restore = box.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(restore)
    box.exec()
    clicked = box.clickedButton()
    return "restore" if clicked is restore else "discard" if clicked is discard else "later"


def ask_reload(parent: QWidget | None, path: Path, dirty: bool) -> bool:
    text = f"“{path.name}” was changed by another program."
    info = ("Reload it? Your unsaved changes here will be lost." if dirty else "Reload it?")
    answer = QMessageBox.question(parent, "File changed on disk", f"{text}\n\n{info}",
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def choose_open_file(parent: QWidget | None, folder: str = "") -> Path | None:
    name, _ = QFileDialog.getOpenFileName(parent, "Open project", folder, FILE_FILTER)
    return Path(name) if name else None


def choose_save_file(parent: QWidget | None, suggested: str) -> Path | None:
    name, _ = QFileDialog.getSaveFileName(parent, "Save project as", suggested, FILE_FILTER)
    if not name:
        return None
    path = Path(name)
    if not path.name.endswith(SUFFIX) and not path.suffix:
        path = path.with_name(path.name + SUFFIX)
    return path


def choose_template(parent: QWidget | None, templates: list[tuple[str, str, str]]) -> str | None:
    """Pick one of `(name, title, description)`; None if cancelled."""
    dialog = QDialog(parent)
    dialog.setWindowTitle("New project")
    dialog.resize(520, 360)
    label = QLabel("Start from:", dialog)
    lst = QListWidget(dialog)
    lst.setObjectName("templateList")
    lst.setWordWrap(True)  # long descriptions wrap: no sideways scrolling
    lst.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    lst.setResizeMode(QListWidget.ResizeMode.Adjust)
    blank = QListWidgetItem("Empty project\nAn empty canvas with nothing on it.")
    blank.setData(Qt.ItemDataRole.UserRole, "")
    lst.addItem(blank)
    for name, title, description in templates:
        item = QListWidgetItem(f"{title}\n{description}")
        item.setData(Qt.ItemDataRole.UserRole, name)
        lst.addItem(item)
    lst.setCurrentRow(1 if templates else 0)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dialog)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    lst.itemActivated.connect(lambda _i: dialog.accept())
    layout = QVBoxLayout(dialog)
    layout.addWidget(label)
    layout.addWidget(lst)
    layout.addWidget(buttons)
    if dialog.exec() != QDialog.DialogCode.Accepted or lst.currentItem() is None:
        return None
    return lst.currentItem().data(Qt.ItemDataRole.UserRole)
