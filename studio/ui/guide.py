"""Help for a newcomer: the bundled examples (File > Open Example), the
getting-started page and the keyboard shortcuts (Help menu).

`examples()` lists the projects shipped in `projects/` with their title and
one line about each; the dialogs take what they show in `__init__`, so tests
build them without a main window.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from studio.core import paths
from studio.core.errors import ProjectError
from studio.project.io import read_json
from studio.project.model import SUFFIX

# Order of the examples: the gentlest first.
ORDER = ("iris-mlp", "spirals-mlp", "digits-cnn", "shapes-cnn", "sine-lstm", "text-gru")
EXAMPLE_SCHEME = "example"  # links on the getting-started page: example:iris-mlp


@dataclass(frozen=True)
class Example:
    name: str  # the file's stem, e.g. "iris-mlp"
    title: str
    line: str  # one sentence about it
    path: Path


def first_sentence(text: str, limit: int = 140) -> str:
    """The description's first sentence, shortened to `limit` characters."""
    text = " ".join(str(text).split())
    ends = [i for i in (text.find(". "), text.find("? "), text.find("! ")) if i >= 0]
    line = text[: min(ends) + 1] if ends else text
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def examples(folder: Path | None = None) -> list[Example]:
    """The bundled example projects, gentlest first; unreadable files are left out."""
    folder = folder or paths.projects_dir()
    found = []
    for path in sorted(Path(folder).glob(f"*{SUFFIX}")):
        try:
            data = read_json(path)
        except ProjectError:
            continue
        if not isinstance(data, dict):
            continue
        stem = path.name[: -len(SUFFIX)]
        title = str(data.get("name") or stem)
        found.append(Example(stem, title, first_sentence(data.get("description") or ""), path))
    rank = {name: i for i, name in enumerate(ORDER)}
    return sorted(found, key=lambda e: (rank.get(e.name, len(rank)), e.name))


def is_example(path: Path | None) -> bool:
    """True for a project file shipped with the app (saving it asks for a new place)."""
    if path is None:
        return False
    try:
        return Path(path).resolve().parent == paths.projects_dir().resolve()
    except OSError:
        return False


class ExamplesDialog(QDialog):
    """Pick a bundled example: its title and a line about it; double-click or Open."""

    def __init__(self, items: list[Example], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open example")
        self.setObjectName("examplesDialog")
        self.resize(560, 380)
        self.list = QListWidget(self)
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setSpacing(2)
        for example in items:
            item = QListWidgetItem(f"{example.title}\n{example.line}")
            item.setData(Qt.ItemDataRole.UserRole, str(example.path))
            item.setToolTip(str(example.path))
            self.list.addItem(item)
        if items:
            self.list.setCurrentRow(0)
        note = QLabel("Each example brings its own bundled data: open it, then press Train (Ctrl+Enter).", self)
        note.setWordWrap(True)
        note.setObjectName("muted")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel,
                                   self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.list.itemActivated.connect(lambda _i: self.accept())
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Example projects:", self))
        layout.addWidget(self.list, 1)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def chosen(self) -> Path | None:
        item = self.list.currentItem()
        return Path(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None


def choose_example(parent: QWidget | None, items: list[Example]) -> Path | None:
    dialog = ExamplesDialog(items, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.chosen()


def getting_started_html(items: list[Example]) -> str:
    links = "".join(
        f'<li><a href="{EXAMPLE_SCHEME}:{html.escape(e.name)}">{html.escape(e.title)}</a>'
        f" — {html.escape(e.line)}</li>"
        for e in items
    )
    return f"""
<h2>Getting started</h2>
<p>Network Studio lets you draw a neural network, train it on your data and export it as a
Keras model or a Python script.</p>
<h3>1. Open an example</h3>
<p>Each one comes with its own small dataset, so it trains at once:</p>
<ul>{links}</ul>
<p>(File &gt; Open Example lists them too.)</p>
<h3>2. Look at the network</h3>
<p>Layers sit on the canvas, wired left to right. Click one to edit it in the
<b>Inspector</b>; each node shows its output shape. Press <b>Tab</b> on the canvas to add a layer,
or drag one from the <b>Layers</b> list. Problems show in <b>Diagnostics</b>.</p>
<h3>3. Check the data</h3>
<p>The <b>Data</b> panel shows what the project trains on. Choose a sample, a CSV or NumPy file,
or a folder of images (one subfolder per class); <b>Fit model to data</b> sets the input and
output sizes for you.</p>
<h3>4. Train</h3>
<p>Press <b>Train</b> in the Training panel (or <b>Ctrl+Enter</b>) and watch the curves.
<b>Esc</b> in the panel stops the run; every run is kept in <b>Runs</b>, with its
<b>Evaluation</b> and a <b>Predict</b> tab to try it.</p>
<h3>5. Save and export</h3>
<p>Save the project (<b>Ctrl+S</b>); the runs are kept beside it. <code>studio export</code>
writes the trained model or a Python script that builds and trains the same network.</p>
<p>Help &gt; Keyboard Shortcuts lists every key.</p>
"""


class GettingStarted(QDialog):
    """The getting-started page; its example links emit `exampleRequested(path)`."""

    exampleRequested = Signal(object)

    def __init__(self, items: list[Example], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Getting started")
        self.setObjectName("gettingStarted")
        self.resize(620, 620)
        self._paths = {e.name: e.path for e in items}
        self.browser = QTextBrowser(self)
        self.browser.setOpenLinks(False)
        self.browser.setHtml(getting_started_html(items))
        self.browser.anchorClicked.connect(self._on_link)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser, 1)
        layout.addWidget(buttons)

    def _on_link(self, url: QUrl) -> None:
        if url.scheme() == EXAMPLE_SCHEME and url.path() in self._paths:
            self.exampleRequested.emit(self._paths[url.path()])
            self.accept()


def shortcut_rows(actions: list, extra: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(what, keys) for every action that has a shortcut, then `extra` (canvas gestures...)."""
    rows = []
    for action in actions:
        keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts() if not k.isEmpty()]
        keys = [k for k in keys if k not in RARE_KEYS]
        if keys:
            rows.append((action.text().replace("&", "").rstrip("…."), ", ".join(keys)))
    return rows + list(extra)


# Keys of special keyboards that standard key bindings add (Sun's Undo key...): noise in the list.
RARE_KEYS = {"F14", "F16", "F18", "F20", "Undo", "Redo", "Copy", "Cut", "Paste", "Open", "Find"}
CANVAS_KEYS = [
    ("Add a layer at the mouse (search)", "Tab"),
    ("Pan the canvas", "Space + drag, or middle-drag"),
    ("Zoom", "Mouse wheel"),
    ("Scroll sideways", "Shift + wheel"),
    ("Select several layers", "Ctrl + click, or drag a box"),
    ("Cancel a wire being drawn", "Esc"),
    ("Stop training (in the Training panel)", "Esc"),
]


class ShortcutsDialog(QDialog):
    def __init__(self, rows: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.setObjectName("shortcutsDialog")
        self.resize(520, 560)
        self.table = QTableWidget(len(rows), 2, self)
        self.table.setHorizontalHeaderLabels(["Action", "Keys"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for row, (what, keys) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(what))
            self.table.setItem(row, 1, QTableWidgetItem(keys))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)

    def keys_for(self, what: str) -> str | None:
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).text() == what:
                return self.table.item(row, 1).text()
        return None
