"""The main window's actions, menus and toolbar, with standard shortcuts."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QToolBar

from studio.ui import icons

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow

Std = QKeySequence.StandardKey


def _action(window: MainWindow, text: str, slot: Callable | None, shortcut=None, icon: str | None = None,
            tip: str = "", checkable: bool = False) -> QAction:
    action = QAction(text, window)
    if icon:
        action.setIcon(icons.action_icon(icon))
        action.setProperty("iconName", icon)
    if shortcut is not None:
        if isinstance(shortcut, (list, tuple)):
            action.setShortcuts([QKeySequence(s) if isinstance(s, str) else QKeySequence(s) for s in shortcut])
        else:
            action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(f"{text.replace('&', '').rstrip('.…')} ({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
                          if action.shortcut() and not action.shortcut().isEmpty() else tip)
    action.setCheckable(checkable)
    if slot is not None:
        if checkable:
            action.toggled.connect(slot)
        else:
            action.triggered.connect(lambda _checked=False: slot())
    return action


def build_actions(w: MainWindow) -> SimpleNamespace:
    f = w.files
    undo = w.document.undo_stack.createUndoAction(w, "&Undo")
    undo.setShortcuts(QKeySequence.keyBindings(Std.Undo))
    undo.setIcon(icons.action_icon("undo"))
    undo.setProperty("iconName", "undo")
    redo = w.document.undo_stack.createRedoAction(w, "&Redo")
    redo_keys = QKeySequence.keyBindings(Std.Redo)
    if QKeySequence("Ctrl+Y") not in redo_keys:
        redo_keys.append(QKeySequence("Ctrl+Y"))
    redo.setShortcuts(redo_keys)
    redo.setIcon(icons.action_icon("redo"))
    redo.setProperty("iconName", "redo")
    a = SimpleNamespace(
        new=_action(w, "&New…", f.new, Std.New, "new", "Start a new project from a template"),
        open=_action(w, "&Open…", f.open_dialog, Std.Open, "open", "Open a project file"),
        open_example=_action(w, "Open &Example…", f.open_example, None, None,
                             "Open one of the example projects that come with Network Studio"),
        new_window=_action(w, "New &Window", w.new_window, "Ctrl+Shift+N", None,
                           "Open another window (copy and paste layers between them)"),
        save=_action(w, "&Save", f.save, Std.Save, "save", "Save the project"),
        save_as=_action(w, "Save &As…", f.save_as, Std.SaveAs, None, "Save the project under a new name"),
        quit=_action(w, "&Quit", w.close, Std.Quit, None, "Close the window"),
        undo=undo,
        redo=redo,
        cut=_action(w, "Cu&t", w.cut, Std.Cut, "cut", "Cut the selected layers"),
        copy=_action(w, "&Copy", w.copy, Std.Copy, "copy", "Copy the selected layers and their wires"),
        paste=_action(w, "&Paste", w.paste, Std.Paste, "paste", "Paste layers"),
        duplicate=_action(w, "D&uplicate", w.duplicate, "Ctrl+D", "duplicate", "Duplicate the selected layers"),
        delete=_action(w, "&Delete", w.delete_selection, [QKeySequence(Std.Delete), QKeySequence("Backspace")],
                       "delete", "Delete the selected layers and wires"),
        select_all=_action(w, "Select &All", w.select_all, Std.SelectAll, "select-all", "Select every layer"),
        history=_action(w, "&History", None, "Ctrl+H", "history", "Show the undo history"),
        zoom_in=_action(w, "Zoom &In", w.view.zoom_in, [QKeySequence(Std.ZoomIn), QKeySequence("Ctrl+=")],
                        "zoom-in", "Zoom in"),
        zoom_out=_action(w, "Zoom &Out", w.view.zoom_out, Std.ZoomOut, "zoom-out", "Zoom out"),
        zoom_reset=_action(w, "&Actual Size", w.view.reset_zoom, "Ctrl+0", None, "Zoom to 100%"),
        fit=_action(w, "&Fit to View", w.view.fit_to_view, ["Ctrl+Shift+F", "Home"], "fit", "Show the whole graph"),
        auto_layout=_action(w, "Auto-&layout", w.auto_layout, "Ctrl+L", "layout", "Arrange the graph left to right"),
        add_layer=_action(w, "Add &Layer…", w.quick_add_at_cursor, None, None, "Search and add a layer (Tab)"),
        snap=_action(w, "&Snap to Grid", w.set_snap, None, None, "Snap nodes to the grid", checkable=True),
        minimap=_action(w, "&Minimap", w.set_minimap, "Ctrl+M", "minimap", "Show the overview", checkable=True),
        summary=_action(w, "Model &Summary", w.show_summary, "Ctrl+I", "summary", "Keras-style summary table"),
        about=_action(w, "&About Network Studio", w.about, None, None, ""),
        getting_started=_action(w, "&Getting Started", w.show_getting_started, Std.HelpContents, None,
                                "What to do first, with the example projects"),
        shortcuts=_action(w, "&Keyboard Shortcuts", w.show_shortcuts, "Ctrl+/", None,
                          "Every key and mouse gesture"),
        theme_system=_action(w, "&System", None, None, None,
                             "Follow the system's light or dark setting", checkable=True),
        theme_light=_action(w, "&Light", None, None, None, "Light colours",
                            checkable=True),
        theme_dark=_action(w, "&Dark", None, None, None, "Dark colours",
                           checkable=True),
    )
    group = QActionGroup(w)
    group.setExclusive(True)
    for action, mode in ((a.theme_system, "system"), (a.theme_light, "light"), (a.theme_dark, "dark")):
        # triggered, not toggled: checking the current mode from code applies nothing
        action.triggered.connect(lambda _checked=False, m=mode: w.set_theme(m))
        action.setProperty("themeMode", mode)
        group.addAction(action)
    a.theme_system.setChecked(True)
    a.snap.setChecked(True)
    # Editing keys act on the canvas only when it has the focus, so Delete or
    # Ctrl+A typed in the inspector or palette never touch the graph.
    for action in (a.cut, a.copy, a.paste, a.duplicate, a.delete, a.select_all):
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        w.view.addAction(action)
    return a


def build_menus(w: MainWindow, a: SimpleNamespace) -> SimpleNamespace:
    bar = w.menuBar()
    file = bar.addMenu("&File")
    file.addAction(a.new)
    file.addAction(a.open)
    file.addAction(a.open_example)
    recent = QMenu("Open &Recent", w)
    recent.setObjectName("recentMenu")
    file.addMenu(recent)
    file.addAction(a.new_window)
    file.addSeparator()
    file.addAction(a.save)
    file.addAction(a.save_as)
    file.addSeparator()
    file.addAction(a.quit)
    edit = bar.addMenu("&Edit")
    for item in (a.undo, a.redo, None, a.cut, a.copy, a.paste, a.duplicate, a.delete, None, a.select_all,
                 None, a.history):
        edit.addSeparator() if item is None else edit.addAction(item)
    view = bar.addMenu("&View")
    for item in (a.zoom_in, a.zoom_out, a.zoom_reset, a.fit, None, a.minimap, a.snap, None):
        view.addSeparator() if item is None else view.addAction(item)
    panels = view.addMenu("&Panels")
    themes = view.addMenu("&Theme")
    for action in (a.theme_system, a.theme_light, a.theme_dark):
        themes.addAction(action)
    graph = bar.addMenu("&Model")
    for item in (a.add_layer, a.auto_layout, None, a.summary):
        graph.addSeparator() if item is None else graph.addAction(item)
    help_menu = bar.addMenu("&Help")
    for item in (a.getting_started, a.shortcuts, None, a.about):
        help_menu.addSeparator() if item is None else help_menu.addAction(item)

    tools = QToolBar("Main toolbar", w)
    tools.setObjectName("mainToolbar")
    tools.setIconSize(QSize(20, 20))
    tools.setMovable(False)
    for item in (a.new, a.open, a.save, None, a.undo, a.redo, None, a.cut, a.copy, a.paste, a.delete, None,
                 a.zoom_in, a.zoom_out, a.fit, a.auto_layout, None, a.summary):
        tools.addSeparator() if item is None else tools.addAction(item)
    w.addToolBar(tools)
    return SimpleNamespace(file=file, edit=edit, view=view, panels=panels, themes=themes, model=graph,
                           help=help_menu, recent=recent, toolbar=tools)


def retint(actions: SimpleNamespace) -> None:
    """Redraw the action icons in the current theme's colours."""
    for action in vars(actions).values():
        name = action.property("iconName")
        if name:
            action.setIcon(icons.action_icon(name))
