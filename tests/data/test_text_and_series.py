"""Text (CSV column or folder per class) and time series windows."""

from __future__ import annotations

import numpy as np
import pytest

from studio import data
from studio.core.errors import DataError
from tests.data.conftest import write

WORDS = {"pos": ["great", "lovely", "wonderful", "superb"], "neg": ["awful", "boring", "terrible", "dull"]}


def reviews(n=40):
    rows = []
    for i in range(n):
        label = "pos" if i % 2 else "neg"
        rows.append((f"the film was {WORDS[label][i % 4]} and the cast was {WORDS[label][(i + 1) % 4]}", label))
    return rows


def test_text_csv_describe_and_vocabulary_from_train_only(tmp_path):
    rows = reviews() + [("zyzzyva appears only once here", "pos")]
    body = "\n".join(f'"{t}",{lab}' for t, lab in rows)
    path = write(tmp_path / "reviews.csv", "review,sentiment\n" + body + "\n")
    info = data.describe({"kind": "text", "path": str(path)})
    assert info.features == ["review"] and info.targets == ["sentiment"]
    assert info.class_names == ["neg", "pos"] and info.feature_shape == (64,) and info.feature_dtype == "int32"
    assert info.vocabulary_size >= 12
    spec = {"kind": "text", "path": "reviews.csv", "text": {"sequence_length": 10},
            "split": {"validation": 0.2, "test": 0.2, "seed": 1}}
    prepared = data.prepare(spec, tmp_path, batch_size=8)
    vocab_file = tmp_path / prepared.preprocessing["vocabulary_file"]
    vocab = vocab_file.read_text(encoding="utf-8").split()
    assert vocab == prepared.vocabulary and "great" in vocab and "the" in vocab
    # The rare word is in the training split or not; the vocabulary follows the training split only.
    src = data.open_source(spec, tmp_path)
    src.describe()
    from studio.data import splits

    labels = src.labels
    assignment = splits.assign(len(src.texts), 0.2, 0.2, 1, labels)
    rare_index = len(src.texts) - 1
    assert ("zyzzyva" in vocab) == (assignment[rare_index] == splits.TRAIN)
    x, _ = next(iter(prepared.train))
    assert x.shape == (8, 10) and x.dtype.name == "int32"


def test_raw_text_model_gives_the_same_ids_as_the_pipeline(tmp_path):
    import keras
    import tensorflow as tf

    path = write(tmp_path / "r.csv", "text,label\n" + "\n".join(f'"{t}",{lab}' for t, lab in reviews()) + "\n")
    prepared = data.prepare({"kind": "text", "path": str(path), "text": {"sequence_length": 12}}, tmp_path,
                            batch_size=4)
    ids = keras.Sequential([keras.Input((12,), dtype="int32"), keras.layers.Identity()])
    wrapped = prepared.wrap_model(ids, raw_text=True)
    src = data.open_source({"kind": "text", "path": str(path)}, tmp_path)
    src.describe()
    texts = tf.constant(src.texts[:5])
    vectorize = keras.layers.TextVectorization(output_sequence_length=12, vocabulary=prepared.vocabulary)
    assert np.array_equal(np.asarray(wrapped(texts)), np.asarray(vectorize(texts)))
    assert np.asarray(vectorize(texts)).max() > 1  # real word ids, not all [UNK]


def test_text_folder_per_class(tmp_path):
    for label in ("neg", "pos"):
        (tmp_path / label).mkdir()
    for i, (text, label) in enumerate(reviews(20)):
        (tmp_path / label / f"{i}.txt").write_text(text, encoding="utf-8")
    (tmp_path / "pos" / "bad.txt").write_bytes(b"\xff\xfe\xfa not utf8")
    (tmp_path / "empty_class").mkdir()
    info = data.describe(str(tmp_path))
    assert info.kind == "text" and info.class_counts == [10, 10]
    messages = " ".join(p.message for p in info.warnings)
    assert "1 files are not UTF-8" in messages and "'empty_class' has no .txt files" in messages


def test_text_csv_without_a_text_column(tmp_path):
    path = write(tmp_path / "n.csv", "a,b\n1,2\n2,3\n3,4\n")
    with pytest.raises(DataError, match="n.csv: no column holds text"):
        data.describe({"kind": "text", "path": str(path)})


def test_short_texts_that_look_like_categories_are_still_read(tmp_path):
    rows = [f"{w},{code},{'ab'[i % 2]}" for i, (w, code) in enumerate(
        [("hello there", "k1"), ("bye now", "k2"), ("good day", "k1"), ("so long", "k2")] * 5)]
    path = write(tmp_path / "short.csv", "phrase,code,label\n" + "\n".join(rows) + "\n")
    info = data.describe({"kind": "text", "path": str(path), "targets": ["label"]})
    assert info.ok and info.features == ["phrase"] and info.num_classes == 2
    assert any("'phrase' is read as the text" in p.message for p in info.problems)


# --- time series --------------------------------------------------------------------------
def series_file(tmp_path, n=200, missing_at=None):
    t = np.arange(n)
    lines = ["time,temp,load"]
    for i in t:
        temp = "" if missing_at == i else f"{np.sin(i / 5):.4f}"
        lines.append(f"2024-01-01T{i:05d},{temp},{i * 0.5:.2f}")
    return write(tmp_path / "s.csv", "\n".join(lines) + "\n")


def test_series_windows_shapes_and_chronological_split(tmp_path):
    path = series_file(tmp_path)
    spec = {"kind": "timeseries", "path": str(path), "targets": ["load"],
            "window": {"length": 10, "stride": 2, "horizon": 3}}
    info = data.describe(spec)
    assert info.task == "forecast" and info.features == ["temp", "load"]
    assert info.feature_shape == (10, 2) and info.target_shape == (3,)
    # 140 / 40 / 20 rows -> (rows - 13) // 2 + 1 windows each
    assert info.split_sizes == {"train": 64, "validation": 14, "test": 4}
    assert info.column("time").role == "time" and len(info.series["load"]) == 200
    prepared = data.prepare(spec, batch_size=256)
    x, y = next(iter(prepared.validation))
    # load = step / 2: windows of validation start inside rows 140..179 and never reach the test rows
    assert y.numpy().min() >= 140 * 0.5 + 10 * 0.5 and y.numpy().max() < 180 * 0.5
    assert np.allclose(y.numpy()[:, 0], x.numpy()[:, -1, 1] + 0.5)
    xt, yt = next(iter(prepared.train))
    assert yt.numpy().max() < 140 * 0.5
    assert prepared.preprocessing["normalize"]["mean"][1] == pytest.approx(np.arange(140).mean() * 0.5, rel=1e-4)


def test_series_missing_values_and_short_series(tmp_path):
    path = series_file(tmp_path, missing_at=7)
    info = data.describe({"kind": "timeseries", "path": str(path)})
    assert not info.ok and "s.csv:9: column 'temp' has 1 missing values" in info.errors[0].message
    filled = data.describe({"kind": "timeseries", "path": str(path), "missing": "fill"})
    assert filled.ok
    short = data.describe({"kind": "timeseries", "path": str(series_file(tmp_path, n=20)),
                           "window": {"length": 16}})
    assert not short.ok and "fewer than a window" in short.errors[0].message


def test_a_series_forecasting_itself_marks_its_column_as_input_and_target(capsys, tmp_path):
    from studio.cli import main

    info = data.describe({"kind": "timeseries", "path": str(series_file(tmp_path)), "features": ["load"],
                          "targets": ["load"]})
    assert info.column("load").role == "feature+target" and info.column("temp").role == ""
    assert main(["data", "sine"]) == 0
    assert "[feature+target]" in capsys.readouterr().out


def test_a_text_file_with_one_column_says_a_label_column_is_needed(tmp_path):
    path = write(tmp_path / "one.csv", "note\n" + "\n".join(f"words number {i} here" for i in range(10)) + "\n")
    with pytest.raises(DataError, match="one.csv: the file has one column; a text dataset needs a text column and "
                                        "a label column"):
        data.describe({"kind": "text", "path": str(path)})
