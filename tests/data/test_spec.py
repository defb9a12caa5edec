"""The dataset spec: from_dict/to_dict round trip and one clear message per bad key."""

from __future__ import annotations

import pytest

from studio.core.errors import DataError
from studio.data import registry
from studio.data.info import group_split, split_sizes
from studio.data.spec import DatasetSpec


def test_round_trip_keeps_options_and_unknown_keys():
    data = {"kind": "csv", "path": "data/t.csv", "features": ["a", "b"], "targets": ["c"],
            "task": "regression", "split": {"validation": 0.25, "test": 0.0, "seed": 7, "stratify": False},
            "delimiter": ";", "header": True, "missing": "fill", "categorical": "index",
            "preprocessing": {"normalize": {"mean": [1.0], "variance": [2.0]}}, "future_key": {"x": 1}}
    spec = DatasetSpec.from_dict(data)
    assert spec.split.seed == 7 and spec.missing == "fill" and spec.categorical == "index"
    again = spec.to_dict()
    assert again["future_key"] == {"x": 1}
    assert DatasetSpec.from_dict(again).to_dict() == again
    for key in ("features", "targets", "task", "delimiter", "missing", "categorical", "preprocessing"):
        assert again[key] == data[key]


@pytest.mark.parametrize("data, words", [
    ({"kind": "excel", "path": "a"}, ["dataset.kind", "csv"]),
    ({"kind": "csv"}, ["dataset.path", "missing"]),
    ({"kind": "csv", "path": "a", "split": {"validation": 1.5}}, ["split.validation", "1.5"]),
    ({"kind": "csv", "path": "a", "split": {"validation": 0.6, "test": 0.4}}, ["validation + test", "0.9"]),
    ({"kind": "csv", "path": "a", "split": {"seed": -1}}, ["split.seed"]),
    ({"kind": "csv", "path": "a", "delimiter": ",,"}, ["delimiter", "one character"]),
    ({"kind": "csv", "path": "a", "missing": "guess"}, ["missing", "drop", "fill"]),
    ({"kind": "csv", "path": "a", "encoding": "klingon"}, ["encoding", "klingon"]),
    ({"kind": "csv", "path": "a", "task": "clustering"}, ["task", "classification"]),
    ({"kind": "csv", "path": "a", "features": ["a"], "targets": ["a"]}, ["'a' is also a target"]),
    ({"kind": "images", "path": "a", "image": {"size": [0, 5]}}, ["image.size"]),
    ({"kind": "timeseries", "path": "a", "window": {"length": 0}}, ["window.length"]),
    ({"kind": "text", "path": "a", "text": {"max_tokens": "many"}}, ["text.max_tokens"]),
    ("iris.csv", ["dataset must be an object"]),
])
def test_bad_specs_name_the_key(data, words):
    with pytest.raises(DataError) as err:
        DatasetSpec.from_dict(data, "proj.studio.json")
    message = str(err.value)
    assert "\n" not in message and message.startswith("proj.studio.json")
    for word in words:
        assert word in message


def test_sample_spec_becomes_the_files_spec_with_project_keys_winning():
    concrete = registry.concrete_spec({"kind": "sample", "path": "iris", "split": {"validation": 0.3}})
    assert concrete["kind"] == "csv" and concrete["path"].endswith("iris.csv")
    assert concrete["targets"] == ["species"] and concrete["split"] == {"validation": 0.3}
    with pytest.raises(DataError, match="no bundled sample named 'nope'"):
        registry.concrete_spec({"kind": "sample", "path": "nope"})


def test_split_sizes_keep_one_training_sample_per_group():
    assert group_split(10, 0.2, 0.1) == (7, 2, 1)
    assert group_split(1, 0.2, 0.1) == (1, 0, 0)
    assert group_split(2, 0.5, 0.5)[0] == 1
    assert split_sizes([50, 50, 50], 0.2, 0.1) == {"train": 105, "validation": 30, "test": 15}


def test_another_target_of_a_sample_drops_the_samples_task():
    concrete = registry.concrete_spec({"kind": "sample", "path": "iris", "targets": ["petal_width"]})
    assert "task" not in concrete and concrete["targets"] == ["petal_width"]
    same = registry.concrete_spec({"kind": "sample", "path": "iris", "targets": ["species"]})
    assert same["task"] == "classification"
    text = registry.concrete_spec({"kind": "sample", "path": "short-text", "targets": ["text"]})
    assert "features" not in text  # the default input became the target
