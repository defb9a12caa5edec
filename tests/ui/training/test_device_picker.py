"""The training settings' Device box lists the devices TensorFlow sees, once the
background preload has listed them (issue 16, point 1)."""

from __future__ import annotations

import pytest

from studio.training.devices import DeviceInfo
from studio.ui import preload

CPU = DeviceInfo("cpu", "CPU", "the CPU, 16 cores", 128 * 10**9, False, "/device:CPU:0")
GPUS = [
    DeviceInfo(f"gpu:{i}", "GPU", "NVIDIA H100 80GB HBM3", 79 * 10**9, False, f"/device:GPU:{i}")
    for i in range(3)
]


@pytest.fixture
def fresh_preload(monkeypatch):
    monkeypatch.setattr(preload, "_FOUND", None)
    monkeypatch.setattr(preload, "_NOTIFIER", None)


def _box(window):
    return window.panels["TrainingPanel"].settings.device


def test_device_box_fills_when_the_devices_are_known(make_window, fresh_preload):
    window = make_window(optional_panels=True)
    box = _box(window)
    assert [box.itemText(i) for i in range(box.count())] == ["auto", "cpu", "gpu:0", "gpu:1"]
    was_modified = window.document.undo_stack.isClean()
    preload._notifier().found.emit([CPU, *GPUS])  # what the preload thread sends
    assert [box.itemText(i) for i in range(box.count())] == ["auto", "cpu", "gpu:0", "gpu:1", "gpu:2", "mirrored"]
    assert box.currentText() == "auto"  # the project's setting stays
    assert "NVIDIA H100" in box.itemData(2, 3)  # Qt.ToolTipRole
    assert "NVIDIA H100" in box.toolTip()
    assert window.document.undo_stack.isClean() == was_modified  # listing devices is no edit


def test_device_box_on_a_cpu_box_offers_auto_and_cpu(make_window, fresh_preload):
    window = make_window(optional_panels=True)
    preload._notifier().found.emit([CPU])
    box = _box(window)
    assert [box.itemText(i) for i in range(box.count())] == ["auto", "cpu"]
    assert "no GPU" in box.toolTip()


def test_devices_listed_before_the_window_fill_it_at_once(make_window, fresh_preload, monkeypatch):
    monkeypatch.setattr(preload, "_FOUND", [CPU, GPUS[0]])
    box = _box(make_window(optional_panels=True))
    assert [box.itemText(i) for i in range(box.count())] == ["auto", "cpu", "gpu:0"]


def test_the_preload_lists_the_real_devices(make_window, fresh_preload):
    pytest.importorskip("tensorflow")
    window = make_window(optional_panels=True)
    preload._import_tensorflow()  # what the background thread runs (here on the GUI thread)
    box = _box(window)
    names = [box.itemText(i) for i in range(box.count())]
    assert names[:2] == ["auto", "cpu"] and all(n.startswith("gpu:") for n in names[2:])


def test_several_gpus_offer_all_gpus_mirrored_and_choosing_it_is_saved(make_window, fresh_preload, qtbot):
    from PySide6.QtCore import Qt

    window = make_window(optional_panels=True)
    preload._notifier().found.emit([CPU, *GPUS])
    box = _box(window)
    index = box.findText("mirrored")
    assert index == box.count() - 1 and "all GPUs (mirrored)" in box.itemData(index, 3)
    box.setFocus()
    while box.currentText() != "mirrored":  # the user steps down the list with the arrow key
        qtbot.keyClick(box, Qt.Key.Key_Down)
    assert window.document.project.training["device"] == "mirrored"


def test_one_gpu_offers_no_mirrored_choice(make_window, fresh_preload):
    window = make_window(optional_panels=True)
    preload._notifier().found.emit([CPU, GPUS[0]])
    assert _box(window).findText("mirrored") == -1
