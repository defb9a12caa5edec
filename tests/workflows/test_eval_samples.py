"""The samples behind the evaluation's numbers: each test sample keeps where it comes from (its
file, or its CSV row), `read_samples` shows the ones asked for, and `studio evaluate --json`
names the worst ones. Tiny projects (8x8 PNGs, 40-row CSVs) trained for one epoch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.project.io import load_project, save_project
from studio.project.model import Project
from studio.project.templates import Builder
from studio.workflows import evaluate, train

LONG_CLASS = "bright squares photographed under a very strong lamp"


def _project(folder: Path, name: str, build, dataset: dict) -> Project:
    builder = Builder()
    build(builder)
    project = Project(graph=builder.graph, name=name, dataset=dataset,
                      training={"epochs": 1, "batch_size": 8, "seed": 1})
    path = folder / f"{name}.studio.json"
    save_project(project, path)
    return load_project(path)


def image_project(folder: Path, per_class: int = 10) -> Project:
    """Two classes of 8x8 RGB PNGs: bright (a long class name) and dark, in images/<class>/."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for cls, level in ((LONG_CLASS, 220), ("dark", 30)):
        sub = folder / "images" / cls
        sub.mkdir(parents=True)
        for i in range(per_class):
            pixels = np.clip(level + rng.normal(0, 20, size=(8, 8, 3)), 0, 255).astype("uint8")
            Image.fromarray(pixels, "RGB").save(sub / f"img{i:02d}.png")

    def build(b: Builder) -> None:
        b.add("Input", "image", after=None, batch_shape=[None, 8, 8, 3])
        b.add("Flatten", "flatten")
        b.add("Dense", "class", units=2, activation="softmax")

    return _project(folder, "images", build, {"kind": "images", "path": "images",
                                              "split": {"validation": 0.2, "test": 0.3, "seed": 3}})


def table_project(folder: Path, task: str = "classification", rows: int = 40) -> Project:
    """A CSV of two numeric columns and a target: a class (small/large) or a number."""
    import numpy as np

    rng = np.random.default_rng(1)
    lines = ["width,height,target"]
    for _ in range(rows):
        w, h = rng.uniform(0, 10, size=2)
        target = ("large" if w + h > 10 else "small") if task == "classification" else f"{3 * w - h:.3f}"
        lines.append(f"{w:.3f},{h:.3f},{target}")
    (folder / "table.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    units, activation = (2, "softmax") if task == "classification" else (1, "linear")

    def build(b: Builder) -> None:
        b.add("Input", "measurements", after=None, batch_shape=[None, 2])
        b.add("Dense", "out", units=units, activation=activation)

    return _project(folder, f"table-{task}", build,
                    {"kind": "csv", "path": "table.csv", "targets": ["target"], "task": task,
                     "split": {"validation": 0.2, "test": 0.25, "seed": 2}})


def trained(project: Project) -> Project:
    result = train.make_session(project).run()
    assert result.status == "completed", result.message
    return project


@pytest.fixture(scope="module")
def image_eval(tmp_path_factory):
    folder = tmp_path_factory.mktemp("img")
    project = trained(image_project(folder))
    return project, evaluate.evaluate_run(project)


def test_an_image_evaluation_keeps_each_test_image_file_and_its_probabilities(image_eval):
    project, result = image_eval
    n = result["samples"]
    assert n == 6  # 30 % of 10 per class
    source = result["sample_source"]
    assert source["kind"] == "images" and Path(source["path"]) == project.folder / "images"
    refs = result["sample_refs"]
    assert len(refs) == n and len(set(refs)) == n
    # Each reference is the file that was evaluated, with the class it was labelled with.
    names = result["class_names"]
    for ref, truth in zip(refs, result["y_true"]):
        assert (Path(source["path"]) / ref).is_file()
        assert Path(ref).parent.name == names[truth]
    # Per sample: the classes by probability, the first one is the predicted class.
    assert [top[0] for top in result["top_classes"]] == result["y_pred"]
    for probs in result["top_probs"]:
        assert len(probs) == 2 and probs[0] >= probs[1] and sum(probs) == pytest.approx(1.0, abs=1e-3)
    # Nothing of the pixels is kept: the file holds names and numbers only.
    saved = (Path(project.runs_dir) / result["run"] / "evaluation.json").read_text(encoding="utf-8")
    assert len(saved) < 4000


def test_read_samples_names_the_image_files_and_reports_a_missing_one(image_eval, tmp_path):
    project, result = image_eval
    shown = evaluate.read_samples(result, [0, 1])
    assert [s["label"] for s in shown] == result["sample_refs"][:2]
    assert all(Path(s["path"]).is_file() and not s["problem"] for s in shown)
    gone = dict(result, sample_source={**result["sample_source"], "path": str(tmp_path / "moved")})
    missing = evaluate.read_samples(gone, [0])[0]
    assert "no longer there" in missing["problem"] and str(tmp_path / "moved") in missing["problem"]


def test_csv_samples_are_read_back_as_their_rows(tmp_path):
    project = table_project(tmp_path)
    run = train.make_session(project).run()
    assert run.status == "completed", run.message
    # The evaluation written at the end of training points at its samples too.
    saved = json.loads((run.run_dir / "evaluation.json").read_text(encoding="utf-8"))
    assert saved["sample_source"]["kind"] == "table" and len(saved["sample_refs"]) == saved["samples"] == 10
    result = evaluate.evaluate_run(project)
    assert result["sample_refs"] == saved["sample_refs"]
    refs = result["sample_refs"]
    assert result["sample_source"]["kind"] == "table" and all(isinstance(r, int) for r in refs)
    lines = (tmp_path / "table.csv").read_text(encoding="utf-8").splitlines()
    shown = evaluate.read_samples(result, [0, len(refs) - 1])
    for item, ref in zip(shown, (refs[0], refs[-1])):
        row = lines[ref + 1].split(",")  # the header is line 1
        assert item["columns"] == [["width", row[0]], ["height", row[1]], ["target", row[2]]]
        assert item["label"] == f"row {ref + 1} (line {ref + 2})"
        assert result["class_names"][result["y_true"][refs.index(ref)]] == row[2]


def test_the_worst_regression_errors_point_at_their_rows_and_the_cli_prints_them(tmp_path, capsys):
    from studio.cli import main

    project = trained(table_project(tmp_path, "regression"))
    assert main(["evaluate", str(project.path), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    worst = printed["worst"]
    assert len(worst) == printed["samples"] == 10  # fewer test rows than the 20 kept
    errors = [abs(w["error"]) for w in worst]
    assert errors == sorted(errors, reverse=True)
    lines = (tmp_path / "table.csv").read_text(encoding="utf-8").splitlines()
    for w in worst:
        assert w["error"] == pytest.approx(w["predicted"] - w["true"])
        assert float(lines[w["row"]].split(",")[2]) == pytest.approx(w["true"], abs=1e-3)  # row 1 is line 2
    # The per-sample lists stay in evaluation.json; the printed object stays small.
    assert not {"y_true", "y_pred", "sample_refs", "top_probs"} & set(printed)
    assert len(json.dumps(printed)) < 6000


def test_the_cli_lists_the_most_confident_mistakes_of_a_classifier(image_eval, capsys):
    from studio.cli import main

    project, result = image_eval
    assert main(["evaluate", str(project.path)]) == 0
    text = capsys.readouterr().out
    wrong = [i for i, (t, p) in enumerate(zip(result["y_true"], result["y_pred"])) if t != p]
    assert sorted(w["index"] for w in result["worst"]) == wrong
    assert ("Most confident mistakes" in text) == bool(wrong)
    for w in result["worst"][:5]:
        assert w["file"] == result["sample_refs"][w["index"]]
        assert f"#{w['index']}: {w['file']}: true {w['true']}, predicted {w['predicted']}" in text


def test_the_worst_mistakes_are_the_most_confident_ones_first():
    import numpy as np

    from studio.training.evaluation import worst_classification

    truth = np.array([0, 1, 1, 0, 1])
    guess = np.array([1, 1, 0, 0, 0])
    confidence = np.array([0.6, 0.99, 0.9, 0.8, 0.7])
    worst = worst_classification(truth, guess, confidence, ["a", "b"], ["x/0.png", "x/1.png", "y/2.png", "x/3.png",
                                                                         "y/4.png"])
    assert [(w["index"], w["file"], w["true"], w["predicted"], w["confidence"]) for w in worst] == [
        (2, "y/2.png", "b", "a", 0.9), (4, "y/4.png", "b", "a", 0.7), (0, "x/0.png", "a", "b", 0.6)]


def text_project(folder: Path) -> Project:
    """Two classes of short .txt files (weather and cooking), in texts/<class>/."""
    words = {"weather": "rain wind cloud storm sun", "cooking": "pan oven salt butter onion"}
    for cls, vocabulary in words.items():
        sub = folder / "texts" / cls
        sub.mkdir(parents=True)
        for i in range(10):
            chosen = vocabulary.split()
            (sub / f"note{i:02d}.txt").write_text(f"{cls} note {i}: " + " ".join(chosen[i % 5:] + chosen[:i % 5]),
                                                  encoding="utf-8")

    def build(b: Builder) -> None:
        b.add("Input", "token ids", after=None, batch_shape=[None, 8], dtype="int32")
        b.add("Embedding", "embedding", input_dim=100, output_dim=4)
        b.add("GlobalAveragePooling1D", "average")
        b.add("Dense", "topic", units=2, activation="softmax")

    return _project(folder, "texts", build, {"kind": "text", "path": "texts", "text": {"max_tokens": 100,
                                                                                      "sequence_length": 8},
                                             "split": {"validation": 0.2, "test": 0.3, "seed": 4}})


def test_text_samples_are_shown_as_the_start_of_their_text(tmp_path):
    project = trained(text_project(tmp_path))
    result = evaluate.evaluate_run(project)
    assert result["sample_source"]["kind"] == "text" and result["samples"] == 6
    shown = evaluate.read_samples(result, list(range(6)))
    for item, truth in zip(shown, result["y_true"]):
        cls = result["class_names"][truth]
        assert item["label"].startswith(cls + "/note") and item["text"].startswith(f"{cls} note ")
        assert item["text"] == (tmp_path / "texts" / item["label"]).read_text(encoding="utf-8")
