"""File handling of a main window: new (from a template), open, save, save
as, recent files, autosave with crash recovery, and files changed on disk.

Every failure is shown to the user and leaves the document as it was: a
broken file opens nothing; a failed save keeps the document dirty and the old
file intact.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from studio.core import paths
from studio.core.errors import ProjectError, StudioError
from studio.project.io import load_project, save_project
from studio.project.model import SUFFIX, Project
from studio.ui import dialogs, guide, settings
from studio.ui.document import new_project
from studio.ui.file_watch import FileWatcher
from studio.ui.recovery import INTERVAL_MS, Autosaver, find_recoveries

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow

# The checkout's projects/ or the installed copy; a broken install fails here with one clear line.
EXAMPLE = paths.projects_dir() / "iris-mlp.studio.json"


def read_only(path: Path) -> bool:
    """True if the file exists and nobody may write it (the user's wish,
    honoured even where the folder would allow replacing it)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)) or not os.access(path, os.W_OK)


def templates() -> list[tuple[str, str, str]]:
    try:
        from studio.project import templates as t
    except ImportError:
        return []
    out = []
    for name in t.template_names():
        template = t.get_template(name)
        if not t.missing_layers(template):
            out.append((name, template.title, template.description))
    return out


def project_from_template(name: str) -> Project:
    if not name:
        return new_project()
    from studio.project.templates import make_project

    return make_project(name)


class FileController(QObject):
    recentChanged = Signal(list)

    def __init__(self, window: MainWindow, autosave_interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(window)
        self.window = window
        self.document = window.document
        self.autosaver = Autosaver(self.document, autosave_interval_ms, self)
        self.autosaver.failed.connect(lambda msg: window.show_message(f"Autosave failed: {msg}"))
        self.watcher = FileWatcher(self)
        self.watcher.changedOnDisk.connect(self.on_changed_on_disk)
        self.watcher.watch(self.document.path)

    # -- closing the current document ----------------------------------------------
    def confirm_discard(self, before: str = "closing") -> bool:
        """Ask about unsaved changes before `before` ("closing", "opening another
        project"...); True if we may drop the current project."""
        if not self.document.is_dirty:
            return True
        if before == "closing":
            answer = dialogs.ask_save_changes(self.window, self.document.name)
        else:
            answer = dialogs.ask_save_changes(self.window, self.document.name, before=before)
        if answer == "save":
            return self.save()
        return answer == "discard"

    def stop_training(self, before: str) -> bool:
        """A run of this project must not go on (and report) under another one: ask to
        stop it first; True when nothing is training any more."""
        training = self.window.panels.get("TrainingPanel")
        if training is None or not training.is_training():
            return True
        if not dialogs.ask_stop_training(self.window, before=before):
            return False
        training.stop_and_wait()  # the run is saved as "stopped"
        return True

    # -- new / open --------------------------------------------------------------------
    def new(self, template: str | None = None) -> bool:
        if template is None:
            choice = dialogs.choose_template(self.window, templates())
            if choice is None:
                return False
            template = choice
        if not self.stop_training("starting a new project") or not self.confirm_discard("starting a new project"):
            return False
        try:
            project = project_from_template(template)
        except StudioError as exc:
            dialogs.show_error(self.window, "Cannot create project", str(exc))
            return False
        self._replace(project)
        return True

    def open_dialog(self) -> bool:
        folder = str(self.document.path.parent) if self.document.path else str(Path.home())
        path = dialogs.choose_open_file(self.window, folder)
        return self.open(path) if path else False

    def open(self, path: Path | str, ask: bool = True) -> bool:
        """Open a project file; on any problem list them all and open nothing."""
        path = Path(path)
        try:
            project = self.window.read_project(path)  # a big file: off the GUI thread
        except ProjectError as exc:
            dialogs.show_problems(self.window, "Cannot open project", str(exc), exc.problems)
            return False
        if ask and not (self.stop_training("opening another project")
                        and self.confirm_discard("opening another project")):
            return False
        self._replace(project)
        settings.add_recent_file(path)
        self.recentChanged.emit(settings.recent_files())
        self.window.show_message(f"Opened {path.name}")
        return True

    def open_example(self) -> bool:
        """File > Open Example: pick one of the bundled projects."""
        path = guide.choose_example(self.window, guide.examples())
        return self.open(path) if path else False

    def open_default(self) -> None:
        """The bundled example, or a template if it is missing."""
        if EXAMPLE.exists() and self.open(EXAMPLE, ask=False):
            # The example is read from the install: saving asks for a new place.
            return
        names = [t[0] for t in templates()]
        self._replace(project_from_template(names[0] if names else ""))

    def _replace(self, project: Project) -> None:
        self.document.set_project(project)
        self.watcher.watch(project.path)
        self.window.restore_view(project.ui.get("view") if isinstance(project.ui, dict) else None)

    # -- save ----------------------------------------------------------------------------
    def save(self) -> bool:
        path = self.document.path
        if path is None or guide.is_example(path):  # the bundled examples stay as shipped
            return self.save_as()
        return self.save_to(path)

    def save_as(self) -> bool:
        name = self.document.name if self.document.name != "untitled" else "untitled"
        path = self.document.path
        folder = path.parent if path and not guide.is_example(path) else Path.home()
        stem = name.lower().replace(" ", "-")
        path = dialogs.choose_save_file(self.window, str(folder / f"{stem}{SUFFIX}"))
        return self.save_to(path) if path else False

    def save_to(self, path: Path) -> bool:
        path = Path(path)
        if read_only(path):
            dialogs.show_error(self.window, "Cannot save",
                               f"{path} is read-only; the file was not changed. Use Save As to save a copy.")
            return False
        project = self.document.project
        # Save writes what it read: the view only with other changes (or where the
        # file kept one), nodes the window spread out at their file positions.
        if isinstance(project.ui, dict) and (self.document.is_dirty or "view" in project.ui):
            project.ui = {**project.ui, "view": self.window.view_state()}
        old_path = project.path
        try:
            save_project(project, path, self.window.file_positions())
        except ProjectError as exc:
            project.path = old_path
            dialogs.show_error(self.window, "Cannot save", str(exc))
            return False
        self.document.mark_saved(path)
        self.watcher.watch(path)
        settings.add_recent_file(path)
        self.recentChanged.emit(settings.recent_files())
        self.window.show_message(f"Saved {path.name}")
        return True

    # -- recovery -----------------------------------------------------------------------------
    def offer_recovery(self) -> bool:
        """After a crash: offer each autosave left behind. True if one was restored."""
        restored = False
        for recovery in find_recoveries():
            if restored:
                break
            answer = dialogs.ask_restore(self.window, recovery.name, recovery.original, recovery.saved_at)
            if answer == "restore":
                try:
                    project = recovery.load()
                except ProjectError as exc:
                    dialogs.show_problems(self.window, "Cannot restore", str(exc), exc.problems)
                    continue
                self._replace(project)
                self.document.mark_dirty()
                recovery.discard()
                self.autosaver.autosave()
                self.window.show_message(f"Restored unsaved changes to {project.name}")
                restored = True
            elif answer == "discard":
                recovery.discard()
        return restored

    # -- the file changed behind our back ----------------------------------------------------------
    def on_changed_on_disk(self, path: Path) -> None:
        if path != self.document.path:
            return
        if dialogs.ask_reload(self.window, path, self.document.is_dirty):
            try:
                project = load_project(path)
            except ProjectError as exc:
                dialogs.show_problems(self.window, "Cannot reload project", str(exc), exc.problems)
                return
            self._replace(project)
            self.window.show_message(f"Reloaded {path.name}")
        else:
            self.document.mark_dirty()

    def close(self) -> None:
        self.autosaver.close()
