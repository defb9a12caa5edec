"""Hostile model files given to `studio import` (issue 10, points 4 and 5).

Each hostile file is refused with exit != 0 and one line naming the file (and
the archive entry or layer), before Keras reads or extracts anything; nothing
is written outside tmp_path. A real `.keras` saved by Keras still imports.
"""

from __future__ import annotations

import errno
import json
import os
import struct
import tempfile
import uuid
import warnings
import zipfile
import zlib
from pathlib import Path

import pytest

from studio.cli import main
from studio.compiler import archive
from studio.core.errors import ExportError, TrainingError
from tests.cli.helpers import assert_one_clear_line, studio

GIB = 1 << 30
CRC_OF_1_GIB_OF_ZEROS = 1533330096  # zlib.crc32(bytes(2**30)), precomputed (0.7 s to compute)


# --- building archives ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def real(tmp_path_factory) -> dict:
    """A small real model saved by Keras: an RNN over a list of cells and a nested
    Sequential. Returns its archive entries (name -> bytes) and its path."""
    import keras

    folder = tmp_path_factory.mktemp("real")
    x = keras.Input((4, 3), name="seq")
    rnn = keras.layers.RNN([keras.layers.SimpleRNNCell(5, name="first_cell"),
                            keras.layers.GRUCell(5, name="second_cell")], return_sequences=True, name="rnn")(x)
    inner = keras.Sequential([keras.Input((4, 5)), keras.layers.Dense(3, name="inner_dense"),
                              keras.layers.Dense(2, name="inner_out")], name="inner")
    model = keras.Model(x, inner(rnn), name="outer")
    path = folder / "real.keras"
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        entries = {info.filename: zf.read(info) for info in zf.infolist()}
    return {"path": path, "entries": entries, "config": json.loads(entries["config.json"])}


def write_zip(path: Path, entries: list[tuple[str, bytes]], compression: int = zipfile.ZIP_STORED) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names: they are the point
        with zipfile.ZipFile(path, "w", compression=compression) as zf:
            for name, data in entries:
                zf.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return path


def with_config(real: dict, path: Path, config) -> Path:
    """The real archive with its config.json replaced (a dict, or raw bytes)."""
    data = config if isinstance(config, bytes) else json.dumps(config).encode()
    entries = [(name, data if name == "config.json" else value) for name, value in real["entries"].items()]
    return write_zip(path, entries)


def write_raw_zip(path: Path, members: list[tuple[str, int, int, int, bytes]]) -> Path:
    """A zip written byte by byte: (name, method, crc, uncompressed size, stored bytes) per member,
    so a member can declare 1 GiB while storing 1 MB without compressing 1 GiB here."""
    out, central = bytearray(), bytearray()
    for name, method, crc, size, payload in members:
        encoded = name.encode()
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(payload), size,
                           len(encoded), 0) + encoded + payload
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(payload),
                               size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded
    start = len(out)
    out += central + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), start, 0)
    path.write_bytes(bytes(out))
    return path


def zeros_deflated(size: int) -> bytes:
    """A raw deflate stream of `size` zero bytes (size a multiple of 16 MiB), built from one
    16 MiB block: after a full flush the compressor's output for the same input repeats."""
    block = 1 << 24
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = compressor.compress(bytes(block)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return segment * (size // block) + compressor.flush()


def bomb(real: dict, path: Path) -> Path:
    """The real model with its weights replaced by 1 GiB of zeros, about 1 MB on disk."""
    members = [(name, zipfile.ZIP_STORED, zlib.crc32(data), len(data), data)
               for name, data in real["entries"].items() if name != "model.weights.h5"]
    members.append(("model.weights.h5", zipfile.ZIP_DEFLATED, CRC_OF_1_GIB_OF_ZEROS, GIB, zeros_deflated(GIB)))
    return write_raw_zip(path, members)


def lambda_entry(name: str) -> dict:
    return {"module": "keras.layers", "class_name": "Lambda", "registered_name": None,
            "config": {"name": name, "trainable": True, "dtype": "float32",
                       "function": {"class_name": "__lambda__", "config": {"code": "4wEAAA==", "defaults": None,
                                                                           "closure": None}},
                       "arguments": {}}}


def layer(config: dict, name: str) -> dict:
    return next(entry for entry in config["config"]["layers"] if entry["config"]["name"] == name)


# --- end to end: one line, exit != 0 ----------------------------------------------------------
def refused(model: Path, tmp_path: Path, *words: str) -> str:
    result = studio("import", model, "-o", tmp_path / "out" / "p", cwd=tmp_path)
    line = assert_one_clear_line(result, str(model), *words)
    assert not (tmp_path / "out" / "p.studio.json").exists()
    assert not (tmp_path / "out" / "p.weights.npz").exists()
    return line


@pytest.fixture
def out(tmp_path) -> Path:
    (tmp_path / "out").mkdir()
    return tmp_path / "out"


def test_entry_outside_the_archive_is_refused_and_nothing_escapes(real, tmp_path, out):
    escape = f"escaped-{uuid.uuid4().hex}.txt"
    model = write_zip(tmp_path / "dots.keras", [*real["entries"].items(), (f"assets/../../{escape}", b"x"),
                                                (f"../{escape}", b"x")])
    line = refused(model, tmp_path, f"assets/../../{escape}", "outside the archive")
    assert "warn" not in line.lower()
    tmp = Path(tempfile.gettempdir())
    for folder in (tmp_path, tmp_path.parent, out, tmp, tmp.parent):
        assert not (folder / escape).exists()


def test_absolute_entry_is_refused(real, tmp_path, out):
    target = tmp_path / "absolute-escape.txt"
    model = write_zip(tmp_path / "abs.keras", [*real["entries"].items(), (str(target), b"x")])
    refused(model, tmp_path, str(target), "absolute path")
    assert not target.exists()
    drive = write_zip(tmp_path / "drive.keras", [*real["entries"].items(), ("C:/Windows/x.dll", b"x")])
    refused(drive, tmp_path, "C:/Windows/x.dll", "absolute path")


def test_duplicate_names_are_refused(real, tmp_path, out):
    model = write_zip(tmp_path / "dup.keras", [*real["entries"].items(), ("config.json", b'{"class_name": "x"}')])
    refused(model, tmp_path, "'config.json' twice")
    cased = write_zip(tmp_path / "case.keras", [*real["entries"].items(), ("CONFIG.json", b"{}")])
    refused(cased, tmp_path, "config.json", "CONFIG.json")


def test_config_over_64_mb_is_refused_before_it_is_read(real, tmp_path, out):
    padding = b" " * (65 * 1000 * 1000)
    model = write_zip(tmp_path / "big.keras", [("config.json", b'{"a": 1}' + padding), *(
        (n, d) for n, d in real["entries"].items() if n != "config.json")], compression=zipfile.ZIP_DEFLATED)
    assert model.stat().st_size < 500_000  # a few hundred kB on disk
    refused(model, tmp_path, "config.json", "64 MB")


def test_weights_bomb_is_refused_without_reading_it(real, tmp_path, out, capsys, monkeypatch):
    model = bomb(real, tmp_path / "bomb.keras")
    assert model.stat().st_size < 2_000_000
    with zipfile.ZipFile(model) as zf:  # a real bomb: 1 GiB of zeros behind 1 MB
        assert zf.getinfo("model.weights.h5").file_size == GIB
        with zf.open("model.weights.h5") as member:
            assert member.read(1 << 20) == bytes(1 << 20)
    refused(model, tmp_path, "model.weights.h5", "1.0 GB", "decompression bomb")

    # In process: the member is never opened (so never decompressed or extracted).
    opened: list[str] = []
    real_open = zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):
        opened.append(name if isinstance(name, str) else name.filename)
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    assert main(["import", str(model), "-o", str(out / "p")]) == 1
    err = capsys.readouterr().err.strip()
    assert "model.weights.h5" in err and "\n" not in err
    assert "model.weights.h5" not in opened and "config.json" not in opened
    assert list(out.iterdir()) == []


def test_many_entries_and_a_split_bomb_are_refused(tmp_path, out):
    many = write_zip(tmp_path / "many.keras", [(f"assets/{i}", b"") for i in range(archive.MAX_ENTRIES + 1)])
    refused(many, tmp_path, "10,001 entries")
    # Five entries of 60 MiB each: each under the per-entry floor, together over 256 MiB from ~300 kB.
    # Only the declared sizes matter: the check never decompresses a member.
    chunk = 60 * (1 << 20)
    members = [(f"assets/part{i}", zipfile.ZIP_DEFLATED, 0, chunk, bytes(1000)) for i in range(5)]
    members.append(("config.json", zipfile.ZIP_STORED, zlib.crc32(b"{}"), 2, b"{}"))
    split = write_raw_zip(tmp_path / "split.keras", members)
    refused(split, tmp_path, "would unpack to 300.0 MB")


@pytest.mark.parametrize("name,config,words", [
    ("latin1.keras", '{"class_name": "Functional", "config": {"name": "caf\xe9"}}'.encode("latin-1"),
     ("config.json is not UTF-8 text",)),
    ("deep.keras", b"[" * 200_000 + b"]" * 200_000, ("config.json", "too deeply")),
    ("deep_object.keras", b'{"a": ' * 200_000 + b"1" + b"}" * 200_000, ("config.json", "too deeply")),
    ("broken.keras", b'{"class_name": "Functional",\n "config": {"name": }}', ("config.json is not valid JSON (line 2, column 21",)),
    ("list.keras", b"[1, 2]", ("config.json is not a JSON object",)),
])
def test_config_json_that_is_not_a_model_config(real, tmp_path, out, name, config, words):
    refused(with_config(real, tmp_path / name, config), tmp_path, *words)


def test_h5_model_config_that_is_not_utf8_or_too_deep(tmp_path, out):
    import h5py
    import numpy as np

    with h5py.File(tmp_path / "latin1.h5", "w") as f:
        f.attrs["model_config"] = np.bytes_('{"name": "caf\xe9"}'.encode("latin-1"))
    refused(tmp_path / "latin1.h5", tmp_path, "model_config attribute is not UTF-8 text")
    with h5py.File(tmp_path / "deep.h5", "w") as f:
        f.attrs["model_config"] = "[" * 200_000 + "]" * 200_000
    refused(tmp_path / "deep.h5", tmp_path, "model_config attribute", "too deeply")


def test_lambda_in_an_rnn_cell_list_is_named(real, tmp_path, out):
    config = json.loads(json.dumps(real["config"]))
    stacked = layer(config, "rnn")["config"]["cell"]
    assert stacked["class_name"] == "StackedRNNCells"
    stacked["config"]["cells"][1] = lambda_entry("sneaky")
    refused(with_config(real, tmp_path / "cells.keras", config), tmp_path,
            "layer 'rnn' holds a Lambda layer 'sneaky' (at cell.cells[1])", "safe mode")
    # The cell itself given as a list (Keras deserialises a list into a list of cells).
    config = json.loads(json.dumps(real["config"]))
    layer(config, "rnn")["config"]["cell"] = [stacked["config"]["cells"][0], lambda_entry("hidden")]
    refused(with_config(real, tmp_path / "cell_list.keras", config), tmp_path,
            "layer 'rnn' holds a Lambda layer 'hidden' (at cell[1])")


def test_lambda_in_a_nested_sequential_is_named(real, tmp_path, out):
    config = json.loads(json.dumps(real["config"]))
    inner = layer(config, "inner")
    inner["config"]["layers"].insert(2, lambda_entry("double"))
    refused(with_config(real, tmp_path / "nested.keras", config), tmp_path,
            "layer 'inner/double' is a Lambda layer")
    # Deeper: a Sequential wrapped by a Bidirectional-like wrapper inside the nested model.
    config = json.loads(json.dumps(real["config"]))
    wrapped = {"module": "keras.layers", "class_name": "TimeDistributed", "registered_name": None,
               "config": {"name": "td", "layer": {"module": "keras", "class_name": "Sequential",
                                                  "registered_name": None,
                                                  "config": {"name": "deep_seq", "layers": [lambda_entry("x2")]}}}}
    layer(config, "inner")["config"]["layers"].insert(2, wrapped)
    refused(with_config(real, tmp_path / "deeper.keras", config), tmp_path,
            "layer 'inner/td' holds a Lambda layer 'x2' (at layer.layers[0])")


def test_python_lambda_and_custom_class_in_a_layer_config_are_named(real, tmp_path, out):
    config = json.loads(json.dumps(real["config"]))
    dense = next(e for e in layer(config, "inner")["config"]["layers"] if e["config"]["name"] == "inner_dense")
    dense["config"]["activation"] = {"module": "builtins", "class_name": "__lambda__", "registered_name": None,
                                     "config": {"code": "4wEAAA==", "defaults": None, "closure": None}}
    refused(with_config(real, tmp_path / "act.keras", config), tmp_path,
            "layer 'inner/inner_dense' holds a Python lambda (at activation)")
    config = json.loads(json.dumps(real["config"]))
    cell = layer(config, "rnn")["config"]["cell"]["config"]["cells"][0]
    cell["config"]["kernel_initializer"] = {"module": "acme.init", "class_name": "Evil",
                                            "registered_name": "acme>Evil", "config": {}}
    refused(with_config(real, tmp_path / "init.keras", config), tmp_path,
            "layer 'rnn' uses the custom class 'acme>Evil' (at cell.cells[0].kernel_initializer)")


# --- the positive controls ------------------------------------------------------------------
def test_real_model_still_imports_also_when_recompressed(real, tmp_path, capsys):
    assert main(["import", str(real["path"]), "-o", str(tmp_path / "p")]) == 0
    assert (tmp_path / "p.studio.json").is_file() and (tmp_path / "p.weights.npz").is_file()
    capsys.readouterr()
    # Re-zipped with deflate by some other tool: the bounds leave room for that.
    rezipped = write_zip(tmp_path / "rezipped.keras", list(real["entries"].items()), zipfile.ZIP_DEFLATED)
    assert archive.read_keras_config(rezipped) == real["config"]
    assert main(["import", str(rezipped), "-o", str(tmp_path / "q")]) == 0


def test_the_archive_check_raises_the_callers_error(real, tmp_path):
    """Run checkpoints and exports call the same check with their own error type."""
    model = bomb(real, tmp_path / "best.keras")
    with pytest.raises(TrainingError, match="model.weights.h5"):
        archive.check_keras_archive(model, TrainingError)
    with pytest.raises(ExportError, match="model.weights.h5"):
        archive.check_keras_archive(model, ExportError)
    assert [i.filename for i in archive.check_keras_archive(real["path"])] == list(real["entries"])


def test_run_model_loader_refuses_a_bomb_before_keras(real, tmp_path):
    from studio.workflows.evaluate import load_run_model

    run = tmp_path / "20260101-000000-abcdef"
    run.mkdir()
    (run / "config.json").write_text("{}")
    bomb(real, run / "best.keras")
    with pytest.raises(TrainingError, match="best.keras: refused: the archive entry 'model.weights.h5'"):
        load_run_model(run)


# --- a full disk ----------------------------------------------------------------------------
def _small_model(tmp_path) -> Path:
    import keras

    keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, name="d")]).save(tmp_path / "m.keras")
    return tmp_path / "m.keras"


def test_full_disk_while_writing_the_weights(tmp_path, capsys, monkeypatch):
    from studio.compiler import keras_import

    model = _small_model(tmp_path)
    out = tmp_path / "out"
    out.mkdir()

    def full(path, *args, **kwargs):
        Path(path).write_bytes(b"half a file")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(keras_import, "write_weights", full)
    assert main(["import", str(model), "-o", str(out / "p")]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith(f"studio: error: {out / 'p.weights.npz'}: ")
    assert "disk is full" in err and "free some space" in err
    assert list(out.iterdir()) == []  # no temporary file left, no project without weights


def test_full_disk_while_writing_the_project(tmp_path, capsys, monkeypatch):
    model = _small_model(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "p.studio.json").write_text("old project")
    (out / "p.weights.npz").write_bytes(b"old weights")

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    assert main(["import", str(model), "-o", str(out / "p"), "--force"]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith(f"studio: error: {out / 'p.studio.json'}: ")
    assert "disk is full" in err
    # Both old files untouched, no temporary files left.
    assert sorted(p.name for p in out.iterdir()) == ["p.studio.json", "p.weights.npz"]
    assert (out / "p.studio.json").read_text() == "old project"
    assert (out / "p.weights.npz").read_bytes() == b"old weights"

