"""CSV tables as a user sees them: what describe() infers, what prepare() yields, and the
problems it reports (missing values, bad cells, a missing target, a single class)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from studio import data
from studio.core.errors import DataError
from studio.data.sources.tabular import CsvSource
from studio.data.spec import DatasetSpec
from tests.data.conftest import write


def table(tmp_path, n=60, seed=0, name="t.csv", extra=None):
    rng = np.random.default_rng(seed)
    lines = ["size,weight,color,kind"]
    for i in range(n):
        kind = ["cat", "dog", "bird"][i % 3]
        size = {"cat": 30, "dog": 60, "bird": 10}[kind] + rng.normal(0, 3)
        lines.append(f"{size:.3f},{size * 0.2 + rng.normal(0, 1):.3f},{['red', 'blue'][i % 2]},{kind}")
    if extra:
        lines.extend(extra)
    return write(tmp_path / name, "\n".join(lines) + "\n")


def all_batches(ds):
    xs, ys = [], []
    for x, y in ds:
        xs.append(x.numpy())
        ys.append(y.numpy())
    return np.concatenate(xs), np.concatenate(ys)


def test_describe_infers_task_classes_and_one_hot_width(tmp_path):
    info = data.describe(str(table(tmp_path)))
    assert info.kind == "csv" and info.num_samples == 60
    assert info.task == "classification" and info.targets == ["kind"]
    assert info.class_names == ["bird", "cat", "dog"] and info.class_counts == [20, 20, 20]
    assert info.features == ["size", "weight", "color"]
    assert info.feature_shape == (4,)  # two numbers + two colours one-hot
    assert [c.type for c in info.columns] == ["numeric", "numeric", "categorical", "categorical"]
    assert info.split_sizes == {"train": 42, "validation": 12, "test": 6}
    assert info.ok and info.suggested_loss == "sparse_categorical_crossentropy"


def test_regression_is_inferred_from_a_continuous_target_and_changeable(tmp_path):
    path = table(tmp_path)
    info = data.describe({"kind": "csv", "path": str(path), "targets": ["weight"]})
    assert info.task == "regression" and info.target_shape == (1,) and info.suggested_loss == "mean_squared_error"
    info = data.describe({"kind": "csv", "path": str(path), "targets": ["kind"], "task": "regression"})
    assert not info.ok and "not numbers" in info.errors[0].message


def test_several_target_columns_are_a_regression_with_one_output_each(tmp_path):
    path = table(tmp_path)
    spec = {"kind": "csv", "path": str(path), "features": ["size", "color"], "targets": ["weight", "size_2"]}
    lines = path.read_text().splitlines()
    lines = [lines[0] + ",size_2"] + [f"{row},{float(row.split(',')[0]) * 2}" for row in lines[1:]]
    path.write_text("\n".join(lines) + "\n")
    info = data.describe(spec)
    assert info.task == "regression" and info.targets == ["weight", "size_2"] and info.target_shape == (2,)
    assert info.feature_shape == (3,) and info.target_size == 2
    _, y = all_batches(data.prepare(spec, batch_size=16).validation)
    assert y.shape == (12, 2) and y.dtype == np.float32
    with pytest.raises(DataError, match="exactly one target column"):
        data.prepare({**spec, "task": "classification"}, batch_size=16)


def test_integer_labels_are_classes(tmp_path):
    rows = "\n".join(f"{i * 0.1:.2f},{i % 4}" for i in range(40))
    info = data.describe(str(write(tmp_path / "i.csv", "x,label\n" + rows + "\n")))
    assert info.task == "classification" and info.class_names == ["0", "1", "2", "3"]


def test_missing_target_column_is_an_error_naming_the_columns(tmp_path):
    with pytest.raises(DataError) as err:
        data.describe({"kind": "csv", "path": str(table(tmp_path)), "targets": ["species"]})
    assert "no column named 'species'" in str(err.value) and "'kind'" in str(err.value)


def test_single_class_is_reported(tmp_path):
    path = write(tmp_path / "one.csv", "x,label\n" + "\n".join(f"{i},a" for i in range(10)) + "\n")
    info = data.describe(str(path))
    assert not info.ok and "same class 'a'" in info.errors[0].message
    with pytest.raises(DataError, match="same class"):
        data.prepare(str(path), batch_size=4)


def test_non_numeric_cell_in_numeric_column_names_line_and_column(tmp_path):
    path = table(tmp_path, extra=["oops,3.0,red,cat"])
    info = data.describe(str(path))
    assert not info.ok
    assert "t.csv:62: column 'size': 'oops' is not a number" in info.errors[0].message


def test_missing_values_error_drop_or_fill(tmp_path):
    path = table(tmp_path, extra=["NA,3.0,red,cat", "12.0,,blue,bird", "31.0,6.0,,cat"])
    info = data.describe(str(path))
    assert not info.ok
    first = info.errors[0].message
    assert "t.csv:62: column 'size' has 1 missing value" in first and "'drop'" in first and "'fill'" in first
    dropped = data.prepare({"kind": "csv", "path": str(path), "missing": "drop"}, batch_size=8)
    assert sum(dropped.counts.values()) == 60
    # What the panel shows is what trains: describe() counts the rows left after dropping.
    assert data.describe({"kind": "csv", "path": str(path), "missing": "drop"}).split_sizes == dropped.counts
    unstratified = {"kind": "csv", "path": str(path), "missing": "drop", "split": {"stratify": False}}
    assert data.describe(unstratified).split_sizes == data.prepare(unstratified, batch_size=8).counts
    filled = data.prepare({"kind": "csv", "path": str(path), "missing": "fill"}, batch_size=8)
    assert sum(filled.counts.values()) == 63
    x, _ = all_batches(filled.train)
    assert not np.isnan(x).any()
    fill = filled.preprocessing["fill"]
    assert fill[0] == pytest.approx(filled.preprocessing["normalize"]["mean"][0])


def test_prepare_splits_stratified_and_normalises_on_train_only(tmp_path):
    path = table(tmp_path, n=90)
    prepared = data.prepare(str(path), batch_size=8, seed=3)
    assert prepared.counts == {"train": 63, "validation": 18, "test": 9}
    x_train, y_train = all_batches(prepared.train)
    x_val, y_val = all_batches(prepared.validation)
    x_test, y_test = all_batches(prepared.test)
    assert x_train.shape == (63, 4) and x_train.dtype == np.float32 and y_train.dtype == np.int32
    for ys, n in ((y_train, 21), (y_val, 6), (y_test, 3)):
        assert np.bincount(ys).tolist() == [n, n, n]  # stratified
    norm = prepared.preprocessing["normalize"]
    assert norm["mean"][0] == pytest.approx(float(x_train[:, 0].mean()), rel=1e-5)
    assert norm["mean"][0] != pytest.approx(float(np.concatenate([x_train, x_val, x_test])[:, 0].mean()), rel=1e-6)
    assert norm["mean"][2:] == [0.0, 0.0] and norm["variance"][2:] == [1.0, 1.0]  # one-hot left alone
    # raw features: the model's Normalization layer does the scaling
    assert x_train[:, 0].max() > 5
    # The split follows the spec's split seed only: a training seed reshuffles, the test set stays.
    again = data.prepare(str(path), batch_size=8, seed=4)
    assert np.array_equal(all_batches(again.test)[0], x_test)
    other_split = {"kind": "csv", "path": str(path), "split": {"seed": 5}}
    other = all_batches(data.prepare(other_split, batch_size=8).test)[0]
    assert not np.array_equal(np.sort(other[:, 0]), np.sort(x_test[:, 0]))


def test_train_split_is_reshuffled_each_epoch(tmp_path):
    prepared = data.prepare(str(table(tmp_path, n=90)), batch_size=100)
    first = next(iter(prepared.train))[1].numpy()
    second = next(iter(prepared.train))[1].numpy()
    assert sorted(first) == sorted(second) and not np.array_equal(first, second)


def test_index_encoding_for_categories(tmp_path):
    info = data.describe({"kind": "csv", "path": str(table(tmp_path)), "categorical": "index"})
    assert info.feature_shape == (3,)


def test_text_and_id_columns_are_left_out_with_a_note(tmp_path):
    lines = ["id,comment,x,label"] + [f"{i},this is a long free text comment number {i},{i % 7},{'ab'[i % 2]}"
                                      for i in range(30)]
    info = data.describe(str(write(tmp_path / "m.csv", "\n".join(lines) + "\n")))
    assert info.features == ["x"]
    messages = " ".join(p.message for p in info.problems)
    assert "'comment' looks like free text" in messages and "'id' looks like a row number" in messages


def test_tsv_kind_reads_tabs(tmp_path):
    path = write(tmp_path / "t.tsv", "a\tb\tlabel\n" + "\n".join(f"{i}\t{i * 2}\t{'xy'[i % 2]}" for i in range(20)))
    info = data.describe(str(path))
    assert info.kind == "tsv" and info.feature_shape == (2,) and info.num_classes == 2


def test_wrap_model_takes_raw_inputs(tmp_path):
    import keras

    prepared = data.prepare(str(table(tmp_path, n=90)), batch_size=16)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    wrapped = prepared.wrap_model(model)
    assert wrapped.layers[1].name == "normalize"
    x, _ = next(iter(prepared.train))
    norm = prepared.preprocessing["normalize"]
    expected = model((x.numpy() - np.array(norm["mean"])) / np.sqrt(norm["variance"]))
    assert np.allclose(wrapped(x).numpy(), np.asarray(expected), atol=1e-5)


def test_streamed_table_matches_the_in_memory_one(tmp_path):
    path = table(tmp_path, n=300)
    spec = DatasetSpec.from_dict({"kind": "csv", "path": str(path)})
    memory = CsvSource(spec).prepare(batch_size=32, seed=1)
    streamed = CsvSource(spec).prepare(batch_size=32, seed=1, in_memory_bytes=0)
    assert memory.counts == streamed.counts
    assert memory.preprocessing["normalize"]["mean"] == pytest.approx(streamed.preprocessing["normalize"]["mean"])
    for a, b in ((memory.validation, streamed.validation), (memory.test, streamed.test)):
        xa, ya = all_batches(a)
        xb, yb = all_batches(b)
        assert np.array_equal(ya, yb) and np.allclose(xa, xb)
    xa, ya = all_batches(memory.train)
    xb, yb = all_batches(streamed.train)
    assert sorted(ya.tolist()) == sorted(yb.tolist()) and np.isclose(xa.sum(), xb.sum())


def _peak_describe(path) -> int:
    tracemalloc.start()
    info = data.describe(str(path))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return info, peak


def _big_table(path, rows: int):
    with open(path, "w") as fh:
        fh.write("a,b,c,d,label\n")
        for i in range(rows):
            fh.write(f"{i * 0.5},{i % 97},{(i * 7) % 13}.25,{i % 5},{'xyz'[i % 3]}\n")
    return path


def test_describe_memory_does_not_grow_with_the_file(tmp_path):
    small_info, small_peak = _peak_describe(_big_table(tmp_path / "small.csv", 25_000))
    big = _big_table(tmp_path / "big.csv", 100_000)
    info, peak = _peak_describe(big)
    assert small_info.num_samples == 25_000
    assert info.num_samples == 100_000 and info.class_counts == [33_334, 33_333, 33_333]
    # Four times the rows, about the same peak: one chunk at a time.
    assert peak < 1.5 * small_peak, f"peak {peak / 1e6:.1f} MB vs {small_peak / 1e6:.1f} MB"
    assert peak < 16e6


def test_streamed_training_rows_are_mixed_even_when_the_file_is_sorted(tmp_path):
    lines = ["x,label"] + [f"{i},{'a' if i < 3000 else 'b'}" for i in range(6000)]
    path = write(tmp_path / "sorted.csv", "\n".join(lines) + "\n")
    spec = DatasetSpec.from_dict({"kind": "csv", "path": str(path)})
    prepared = CsvSource(spec).prepare(batch_size=64, seed=0, in_memory_bytes=0)
    first = next(iter(prepared.train))[1].numpy()
    assert 10 < first.sum() < 54  # both classes in the first batch
    again = next(iter(prepared.train))[1].numpy()
    assert not np.array_equal(first, again)  # a new order every epoch
    assert prepared.train.cardinality().numpy() == -(-prepared.counts["train"] // 64)
