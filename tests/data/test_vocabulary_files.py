"""Text vocabularies saved beside the project: one project's file is never another's.

Two projects in one folder that read the same data used to share ``<data>.vocab.txt``, so
training one replaced the vocabulary the other's trained model (and exported script) reads.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

from studio import data
from studio.cli import main
from studio.data.codegen import loader_source
from studio.project.io import load_project, save_project
from tests.data.conftest import write

PROJECTS = Path(__file__).resolve().parents[2] / "projects"
TOPICS = {"sport": ["match", "goal", "team", "coach"], "food": ["bread", "cheese", "soup", "salt"],
          "tech": ["chip", "code", "robot", "laptop"]}


def reviews(path: Path, n: int = 60, extra: str = "") -> Path:
    rows = []
    for i in range(n):
        topic = list(TOPICS)[i % 3]
        words = TOPICS[topic]
        rows.append(f'"the {words[i % 4]} and a {words[(i + 1) % 4]} word{i} {extra}",{topic}')
    path.parent.mkdir(parents=True, exist_ok=True)
    return write(path, "text,topic\n" + "\n".join(rows) + "\n")


def text_spec(path: str, **text) -> dict:
    return {"kind": "text", "path": path, "features": ["text"], "targets": ["topic"],
            "text": {"sequence_length": 24, **text}}


def saved(folder: Path, prepared) -> list[str]:
    """The tokens in the file that `prepared` names (what a trained model and its script read)."""
    name = prepared.preprocessing["vocabulary_file"]
    return (folder / name).read_text(encoding="utf-8").split("\n")[:-1]


def test_two_settings_on_one_data_file_keep_their_own_vocabularies(tmp_path):
    reviews(tmp_path / "data" / "reviews.csv")
    big = data.prepare(text_spec("data/reviews.csv", max_tokens=2000), tmp_path, batch_size=8)
    big_file = tmp_path / big.preprocessing["vocabulary_file"]
    before = big_file.read_text(encoding="utf-8")
    small = data.prepare(text_spec("data/reviews.csv", max_tokens=8), tmp_path, batch_size=8)
    assert small.preprocessing["vocabulary_file"] != big.preprocessing["vocabulary_file"]
    assert saved(tmp_path, small) == small.vocabulary and len(small.vocabulary) == 6
    assert saved(tmp_path, big) == big.vocabulary and len(big.vocabulary) > 40
    assert big_file.read_text(encoding="utf-8") == before  # untouched by the other project
    assert big_file.name.startswith("reviews.") and big_file.name.endswith(".vocab.txt")


def test_the_same_vocabulary_is_one_file_and_changed_data_another(tmp_path):
    path = reviews(tmp_path / "reviews.csv")
    first = data.prepare(text_spec("reviews.csv"), tmp_path, batch_size=8)
    again = data.prepare(text_spec("reviews.csv"), tmp_path, batch_size=8)
    assert again.preprocessing["vocabulary_file"] == first.preprocessing["vocabulary_file"]
    assert len(list(tmp_path.glob("*.vocab.txt"))) == 1
    old = saved(tmp_path, first)
    reviews(path, extra="newword")  # the data is edited, then another project trains on it
    edited = data.prepare(text_spec("reviews.csv"), tmp_path, batch_size=8)
    assert "newword" in saved(tmp_path, edited) and "newword" not in old
    assert saved(tmp_path, first) == old


def test_data_files_of_the_same_name_in_two_folders_do_not_collide(tmp_path):
    reviews(tmp_path / "a" / "reviews.csv")
    reviews(tmp_path / "b" / "reviews.csv", extra="onlyinb")
    a = data.prepare(text_spec("a/reviews.csv"), tmp_path, batch_size=8)
    b = data.prepare(text_spec("b/reviews.csv"), tmp_path, batch_size=8)
    assert "onlyinb" in saved(tmp_path, b) and "onlyinb" not in saved(tmp_path, a)


def test_an_older_projects_vocabulary_file_still_works(tmp_path):
    reviews(tmp_path / "reviews.csv")
    legacy = tmp_path / "reviews.vocab.txt"  # written by an earlier version, named in an old run
    legacy.write_text("the\nmatch\nbread\n", encoding="utf-8")
    prepared = data.prepare(text_spec("reviews.csv"), tmp_path, batch_size=8)
    assert prepared.preprocessing["vocabulary_file"] != legacy.name
    assert legacy.read_text(encoding="utf-8") == "the\nmatch\nbread\n"
    old_run = dict(prepared.spec, preprocessing={"vocabulary_file": legacy.name})
    assert vocabulary_constant(loader_source(old_run, tmp_path)) == str(legacy)


def vocabulary_constant(source: str):
    """The value the generated ``load_data()`` assigns to ``VOCABULARY`` (read from the syntax
    tree, however the literal writer quotes it)."""
    values = [ast.literal_eval(node.value) for node in ast.walk(ast.parse(source))
              if isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == ["VOCABULARY"]]
    assert len(values) == 1, values
    return values[0]


def make_project(folder: Path, name: str, max_tokens: int) -> Path:
    project = load_project(PROJECTS / "text-gru.studio.json")
    project.dataset = text_spec("data/reviews.csv", max_tokens=max_tokens)
    path = folder / f"{name}.studio.json"
    save_project(project, path)
    return path


def train(capsys, project: Path) -> dict:
    """`studio train PROJECT --epochs 1`; the run's recorded dataset (with its vocabulary file)."""
    capsys.readouterr()
    rc = main(["train", str(project), "--epochs", "1", "--json"])
    _, err = capsys.readouterr()
    assert rc == 0, err[-2000:]
    runs = sorted(project.with_name(project.name.replace(".studio.json", ".runs")).iterdir())
    config = json.loads((runs[-1] / "config.json").read_text(encoding="utf-8"))
    return config["dataset_resolved"]


def test_two_trained_projects_in_one_folder_keep_their_vocabularies(capsys, tmp_path):
    reviews(tmp_path / "data" / "reviews.csv")
    first = train(capsys, make_project(tmp_path, "topics", 2000))
    first_file = tmp_path / first["preprocessing"]["vocabulary_file"]
    first_words = first_file.read_text(encoding="utf-8")
    second = train(capsys, make_project(tmp_path, "topics-small", 10))
    second_file = tmp_path / second["preprocessing"]["vocabulary_file"]
    assert first_file != second_file
    assert first_file.read_text(encoding="utf-8") == first_words  # the first model's vocabulary is intact
    assert len(second_file.read_text(encoding="utf-8").split()) == 8 < len(first_words.split())
    expected = data.prepare(text_spec("data/reviews.csv", max_tokens=2000), tmp_path, batch_size=8)
    assert first_words.split() == expected.vocabulary
    # The first run's exported script tokenises with the first run's vocabulary.
    assert vocabulary_constant(loader_source(first, tmp_path)) == str(first_file)
