"""Text: a CSV with a text column and a label column, or a folder of .txt files per class.

describe() reads the texts (no TensorFlow) and estimates the vocabulary.
prepare() builds a Keras TextVectorization vocabulary from the training
split only, saves it beside the project (one token per line) and turns every
text into ``sequence_length`` token ids.

The vocabulary file is named after the data and its own contents,
``<data name>.<digest>.vocab.txt`` (the digest: 12 hex digits of the SHA-256
of the file's text). Two projects in one folder that read the same data (or
data files of the same name) with other settings or after the data changed
get different files, and a file, once written, never changes: a trained
run's ``preprocessing.vocabulary_file`` keeps naming the vocabulary that run
learned. Projects with the same vocabulary share one file. Files of older
versions (``<data name>.vocab.txt``) are left alone, so runs that name them
still find them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
from collections import Counter
from pathlib import Path

import numpy as np

from studio.core.errors import DataError
from studio.data import csvreader, files, pipeline, splits
from studio.data.files import excerpt, names_list
from studio.data.info import CATEGORICAL, NUMERIC, TEXT, DatasetInfo, split_sizes
from studio.data.sources.base import Source, class_balance_problems, pick_target
from studio.data.sources.tabular import nonfinite_problem, one_column_message

WORD = re.compile(r"\w+", re.UNICODE)
VOCAB_SAMPLE_DOCS = 200_000


class TextSource(Source):
    kind = "text"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.texts: list[str] = []
        self.raw_targets: list[str] = []
        self.refs: list = []  # per text, where it comes from: its data row (CSV) or file (folder)
        self.labels: np.ndarray | None = None
        self.values: np.ndarray | None = None  # regression targets
        self.decimal = "."  # the CSV's decimal mark (regression targets)
        self.layout: dict = {}  # the CSV's delimiter and header
        self.csv_format: dict | None = None  # how to read the CSV again (csvreader.sniff's arguments)

    def _describe(self) -> DatasetInfo:
        if self.path.is_dir():
            info = self._read_folder()
        else:
            info = self._read_csv()
        where = str(self.path)
        if info.task == "classification":
            counts = Counter(self.raw_targets)
            names = sorted(counts, key=_natural) if info.class_names == [] else info.class_names
            position = {n: i for i, n in enumerate(names)}
            self.labels = np.asarray([position[t] for t in self.raw_targets], dtype=np.int32)
            info.class_names, info.class_counts = names, [counts[n] for n in names]
            info.num_classes = len(names)
            class_balance_problems(self, where, names, info.class_counts)
            groups = info.class_counts if self.spec.split.stratify else [len(self.texts)]
            info.target_shape = ()
        else:
            info.target_shape = (1,)
            groups = [len(self.texts)]
        info.num_samples = len(self.texts)
        info.split_sizes = split_sizes(groups, self.spec.split.validation, self.spec.split.test)
        info.feature_shape = (self.spec.text.sequence_length,)
        info.feature_dtype = "int32"
        if self.spec.text.strings:  # each sample is its text, for a model that reads text itself
            info.feature_shape = ()
            info.feature_dtype = "string"
        words: set[str] = set()
        lengths = []
        for text in self.texts[:VOCAB_SAMPLE_DOCS]:
            tokens = WORD.findall(text.lower())
            lengths.append(len(tokens))
            words.update(tokens)
        info.vocabulary_size = len(words)
        if lengths:
            longest = int(np.percentile(lengths, 90))
            if longest > 2 * self.spec.text.sequence_length:
                self.note(f"{where}: 90% of the texts have up to {longest} words but only the first "
                          f"{self.spec.text.sequence_length} are used; raise the sequence length to use more")
        for text, target in zip(self.texts, self.raw_targets):
            if len(info.preview_items) >= 12:
                break
            info.preview_items.append((text[:200], target))
        spec = self.spec.to_dict()
        spec.update({"task": info.task, "features": info.features, "targets": info.targets})
        spec.update(self.layout)  # a CSV's delimiter and header as found: the script reads the same
        if self.decimal != ".":
            spec["decimal"] = self.decimal
        info.spec = spec
        return info

    def _read_csv(self) -> DatasetInfo:
        where = str(self.path)
        fmt = csvreader.sniff(self.path, self.spec.delimiter, self.spec.header, self.spec.encoding,
                              self.spec.decimal, self.spec.skip_rows)
        if len(fmt.names) < 2:
            raise DataError(one_column_message(fmt, "a text dataset needs a text column and a label column"))
        if fmt.first_line_note:
            self.error(fmt.first_line_note)
        self.decimal = fmt.decimal
        self.layout = {"delimiter": fmt.delimiter, "header": fmt.header}
        self.csv_format = fmt.settings()
        scan = csvreader.scan(fmt)
        names = fmt.names
        stats = {s.name: s for s in scan.stats}
        if self.spec.features:
            column = self.spec.features[0]
            if len(self.spec.features) > 1:
                self.warn(f"{where}: only the first text column {excerpt(column)} is used")
        else:
            others = [s for s in scan.stats if s.name not in (self.spec.targets or [])]
            texts = [s for s in others if s.type == TEXT]
            if not texts:  # short texts look like categories: take the wordiest non-number column
                texts = [s for s in others if s.type == CATEGORICAL]
                if not texts:
                    raise DataError(f"{where}: no column holds text (every column is numbers or empty); "
                                    "choose a file with a text column")
                if len(texts) > 1:
                    self.note(f"{where}: no column looks like free text; {excerpt(max(texts, key=_wordiness).name)} "
                              "is read as the text (choose another input column to change it)")
            column = max(texts, key=_wordiness).name
        rest = [n for n in names if n != column]
        if not self.spec.targets and not rest:
            raise DataError(f"{where}: the file has one column; a text dataset needs a text column and a label "
                            "column")
        target = self.spec.targets[0] if self.spec.targets else pick_target(rest)
        for name in (column, target):
            if name not in names:
                raise DataError(f"{where}: there is no column named {excerpt(name)}; the columns are "
                                f"{names_list(names)}")
        if column == target:
            raise DataError(f"{where}: the text column {excerpt(column)} cannot also be the target")
        ci, ti = names.index(column), names.index(target)
        tstat = stats[target]
        if self.spec.task == "forecast":
            self.error(f"{where}: texts are classified (or scored); the task must be classification or regression")
        task = self.spec.task or ("regression" if tstat.type == NUMERIC and not (
            tstat.integer and tstat.counter is not None and len(tstat.category_counts()) <= 20) else "classification")
        canonical = tstat.numeric_keys() if tstat.type == NUMERIC else {}
        dropped = 0
        cells: list[str] = []  # the target cells as written (numbers for a regression)
        row_number = -1
        for rows, _lines in csvreader.read_chunks(fmt):
            for row in rows:
                row_number += 1
                value = row[ti]
                if value in csvreader.MISSING_TOKENS:
                    dropped += 1
                    continue
                self.refs.append(row_number)
                self.texts.append(row[ci])
                self.raw_targets.append(canonical.get(value, value))
                if task == "regression":
                    cells.append(value)
        if dropped:
            self.warn(f"{where}: {dropped} rows have no {excerpt(target)} label and are left out")
        if not self.texts:
            raise DataError(f"{where}: no rows have a label in column {excerpt(target)}")
        info = DatasetInfo(kind="text", path=where, task=task, features=[column], targets=[target],
                           columns=[s.info() for s in scan.stats])
        for col in info.columns:
            col.role = "feature" if col.name == column else "target" if col.name == target else ""
        if task == "regression":
            try:
                self.values = np.asarray([csvreader.to_number(t, fmt.decimal) for t in cells],
                                         dtype=np.float32)[:, None]
            except ValueError:
                raise DataError(f"{where}: the target column {excerpt(target)} is not numeric; set the task to "
                                "classification") from None
            nonfinite_problem(self, tstat)
        elif tstat.type == NUMERIC:
            info.class_names = sorted(set(self.raw_targets), key=_natural)
        return info

    def _read_folder(self) -> DatasetInfo:
        root = self.path
        classes = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        if not classes:
            raise DataError(f"{root}: has no class subfolders; put the .txt files of each class in a subfolder "
                            "named after the class")
        unreadable = links = 0
        for folder in classes:
            files = sorted(p for p in folder.rglob("*.txt") if p.is_file())
            if not files:
                self.warn(f"{folder}: the class folder '{folder.name}' has no .txt files; it is left out")
                continue
            for f in files:
                if f.is_symlink() and not _links_to_text(f):
                    links += 1  # a link named .txt to another kind of file (or into /proc): not read
                    continue
                try:
                    text = f.read_text(encoding="utf-8-sig")
                except (UnicodeDecodeError, OSError):
                    unreadable += 1
                    continue
                self.texts.append(text)
                self.refs.append(os.path.relpath(f, root))
                self.raw_targets.append(folder.name)
        if unreadable:
            self.warn(f"{root}: {unreadable} files are not UTF-8 text and are skipped")
        if links:
            many = links > 1
            self.warn(f"{root}: {links} .txt file{'s are links' if many else ' is a link'} to a file that is not "
                      f"a .txt file; {'they are' if many else 'it is'} skipped")
        if not self.texts:
            raise DataError(f"{root}: the class folders hold no readable .txt files")
        if self.spec.task == "regression":
            self.error(f"{root}: a text folder is labelled by class; the task must be classification")
        return DatasetInfo(kind="text", path=str(root), task="classification", features=["text"],
                           targets=["class"])

    # -- prepare ----------------------------------------------------------------------
    def vocabulary_path(self, vocabulary: list[str]) -> Path | None:
        """Where `vocabulary` is saved: beside the project, named by the data and the contents
        (None without a project folder)."""
        if self.base_dir is None:
            return None
        return self.base_dir / vocabulary_file_name(self.path, vocabulary)

    def prepare(self, batch_size: int, seed: int | None = None):
        import keras
        import tensorflow as tf

        info = self.require_ok()
        seed = self.seed(seed)
        split = self.spec.split
        classification = info.task == "classification"
        labels = self.labels if classification and split.stratify else None
        assignment = splits.assign(len(self.texts), split.validation, split.test, split.seed, labels)
        texts = np.asarray(self.texts, dtype=object)
        train_texts = texts[assignment == splits.TRAIN]
        opts = self.spec.text
        if opts.strings:
            return self._prepare_strings(texts, assignment, batch_size, seed, info, classification)
        layer = keras.layers.TextVectorization(max_tokens=opts.max_tokens,
                                               output_sequence_length=opts.sequence_length)
        layer.adapt(tf.data.Dataset.from_tensor_slices(train_texts.astype(str)).batch(1024))
        vocabulary = [str(t) for t in layer.get_vocabulary()[2:]]  # without "" (padding) and [UNK]
        ids = np.zeros((len(texts), opts.sequence_length), dtype=np.int32)
        for start in range(0, len(texts), 2048):
            batch = tf.constant(texts[start:start + 2048].astype(str))
            ids[start:start + 2048] = np.asarray(layer(batch), dtype=np.int32)
        y = self.labels if classification else self.values
        pre: dict = {"vocabulary_size": len(vocabulary) + 2, "sequence_length": opts.sequence_length,
                     "max_tokens": opts.max_tokens}
        path = self.vocabulary_path(vocabulary)
        if path is not None:
            save_vocabulary(path, vocabulary)
            pre["vocabulary_file"] = path.name
        if classification:
            pre["class_names"] = list(info.class_names)
        spec = dict(info.spec)
        spec["preprocessing"] = pre
        train, val, test, counts = pipeline.array_splits(ids, y, assignment, batch_size, seed, x_dtype="int32")
        data = pipeline.PreparedData(train=train, validation=val, test=test, info=info, spec=spec,
                                     batch_size=batch_size, counts=counts)
        data.vocabulary = vocabulary
        data.test_samples = {"kind": "text", "path": str(self.path), "column": info.features[0],
                             "format": self.csv_format,
                             "refs": [self.refs[i] for i in np.flatnonzero(assignment == splits.TEST)]}
        return data


    def _prepare_strings(self, texts, assignment, batch_size: int, seed: int, info, classification: bool):
        """Each sample is its text as one string (text option "strings": true): no vocabulary."""
        y = self.labels if classification else self.values
        pre: dict = {"strings": True}
        if classification:
            pre["class_names"] = list(info.class_names)
        spec = dict(info.spec)
        spec["preprocessing"] = pre
        train, val, test, counts = pipeline.array_splits(texts.astype(str), y, assignment, batch_size, seed,
                                                         x_dtype=str)
        data = pipeline.PreparedData(train=train, validation=val, test=test, info=info, spec=spec,
                                     batch_size=batch_size, counts=counts)
        data.test_samples = {"kind": "text", "path": str(self.path), "column": info.features[0],
                             "refs": [self.refs[i] for i in np.flatnonzero(assignment == splits.TEST)]}
        return data


def _links_to_text(path: Path) -> bool:
    target = Path(os.path.realpath(path))
    return target.suffix.lower() == ".txt" and not files.system_path(target)


def _wordiness(stat: csvreader.ColumnStats) -> float:
    """Characters per non-number cell: how much text a column holds."""
    return stat.text_chars / max(stat.text_cells, 1)


def _natural(name: str):
    try:
        return (0, float(name), name)
    except ValueError:
        return (1, 0.0, name)


def vocabulary_text(vocabulary: list[str]) -> str:
    return "\n".join(vocabulary) + "\n"


def vocabulary_file_name(data_path: Path, vocabulary: list[str]) -> str:
    """``<data name>.<12 hex digits of the contents' SHA-256>.vocab.txt``."""
    stem = data_path.name if data_path.is_dir() else data_path.stem
    digest = hashlib.sha256(vocabulary_text(vocabulary).encode("utf-8")).hexdigest()[:12]
    return f"{stem}.{digest}.vocab.txt"


def save_vocabulary(path: Path, vocabulary: list[str]) -> None:
    """Write the file unless it already holds `vocabulary`; atomically (a temporary file renamed),
    so a project reading it while another one trains never sees half a file."""
    text = vocabulary_text(vocabulary)
    try:
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            return
    except (OSError, UnicodeDecodeError):
        pass  # unreadable: write it again
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise DataError(f"{path}: cannot save the vocabulary ({exc.strerror})") from None


def read_vocabulary(path: Path) -> list[str]:
    """Tokens saved by prepare(), one per line (without the padding and [UNK] entries)."""
    try:
        return [line for line in path.read_text(encoding="utf-8").split("\n") if line]
    except OSError as exc:
        raise DataError(f"{path}: cannot read the vocabulary ({exc.strerror}); prepare the data again") from None
