"""`studio data FILE [--target COLUMN] [--skip-rows N] [--json]`: what the app infers from a data file or folder."""

from __future__ import annotations

import argparse
import json
import sys


def add_parser(sub) -> None:
    p = sub.add_parser(
        "data",
        help="describe a data file or folder as the app reads it",
        description="Describe a dataset: its kind, samples, columns and their types (or image size and "
        "classes), class counts and problems. FILE is a .csv/.tsv/.npy/.npz file, a folder with one "
        "subfolder per class (images or .txt), or a bundled sample name (iris, digits, spirals, moons, "
        "sine, shapes, short-text). Exits 1 if the data cannot be used for training.",
    )
    p.add_argument("file", metavar="FILE", help="data file, folder, or sample name")
    p.add_argument("--target", metavar="COLUMN", action="append",
                   help="the column (or array) to predict; repeat for several (default: inferred)")
    p.add_argument("--features", metavar="COLUMN", action="append", help="an input column (repeatable)")
    p.add_argument("--kind", choices=("csv", "tsv", "npy", "npz", "images", "text", "timeseries"),
                   help="read the data as this kind (default: from the name or the folder's contents)")
    p.add_argument("--task", choices=("classification", "regression", "forecast"),
                   help="override the inferred task")
    p.add_argument("--missing", choices=("error", "drop", "fill"),
                   help="missing cells: report them as errors (default), drop those rows, or fill them "
                   "(training mean / most frequent value; the last value for a time series)")
    p.add_argument("--delimiter", metavar="CHAR", help="the field delimiter of a text table (default: sniffed; "
                   "'\\t' or tab for tabs; space for values separated by runs of spaces or tabs)")
    p.add_argument("--decimal", choices=(".", ","), help="the decimal mark of the numbers: '.' (5.1) or ',' "
                   "(5,1, as Excel writes in many locales; default: sniffed)")
    p.add_argument("--header", action=argparse.BooleanOptionalAction, default=None,
                   help="the first row holds the column names (default: sniffed)")
    p.add_argument("--skip-rows", metavar="N", type=_count, default=None,
                   help="skip the first N lines of a text file (notes, counts, a title) before the header "
                   "(default 0)")
    p.add_argument("--encoding", metavar="NAME", help="the text encoding (default utf-8; e.g. latin-1, cp1252)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number of lines (0 or more), got {text!r}")
    return value


def run(args: argparse.Namespace) -> int:
    from studio.workflows.data import describe_file

    delimiter = " " if args.delimiter in SPACE_NAMES else args.delimiter
    info = describe_file(args.file, kind=args.kind, targets=args.target, features=args.features, task=args.task,
                         missing=args.missing, delimiter=delimiter, decimal=args.decimal, header=args.header,
                         encoding=args.encoding, skip_rows=args.skip_rows)
    if args.json:
        data = info.to_dict()
        data["ok"] = info.ok
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(format_info(info))
    if info.errors:
        first = info.errors[0].message
        more = len(info.errors) - 1
        print(f"studio: error: {first}" + (f" (and {more} more)" if more else ""), file=sys.stderr)
        return 1
    return 0


SPACE_NAMES = ("space", "spaces", "whitespace", " ")


def printable(text: str, limit: int = 40) -> str:
    """A column or class name from a file as a table cell: control characters (terminal escapes,
    line breaks) shown escaped, at most `limit` characters."""
    text = str(text)
    if len(text) > limit:
        text = text[: limit - 1] + "\u2026"
    return text if text.isprintable() else repr(text)[1:-1]


KIND_NAMES = {"csv": "CSV table", "tsv": "TSV table", "npy": "NumPy arrays", "npz": "NumPy arrays (.npz)",
              "images": "image folder", "text": "texts", "timeseries": "time series", "keras": "Keras dataset"}


def format_info(info) -> str:
    from studio.data.info import format_shape

    lines = []
    title = f" ({info.title})" if info.title else ""
    what = "windows" if info.kind == "timeseries" else "images" if info.kind == "images" else \
        "texts" if info.kind == "text" else "rows" if info.kind in ("csv", "tsv") else "samples"
    lines.append(f"{info.path}{title}: {KIND_NAMES.get(info.kind, info.kind)}, {info.num_samples:,} {what}")
    task = info.task
    if task == "classification":
        task += f" ({info.num_classes or 0} classes)"
    targets = ", ".join(repr(t) for t in info.targets)
    lines.append(f"task: {task}; target {targets}")
    lines.append(f"input shape per sample: {format_shape(info.feature_shape)} {info.feature_dtype}; "
                 f"target shape: {format_shape(info.target_shape) if info.target_shape else 'one class index'}")
    if info.image_size:
        h, w, c = info.image_size
        lines.append(f"images resized to {h}x{w}, {'grayscale' if c == 1 else 'RGB'}"
                     + (f"; {info.skipped} unreadable files skipped" if info.skipped else ""))
    if info.vocabulary_size is not None:
        lines.append(f"about {info.vocabulary_size:,} distinct words")
    if info.columns:
        lines.append("columns:")
        names = [printable(c.name) for c in info.columns]
        width = max(len(n) for n in names)
        role_width = max(9, *(len(c.role) + 2 for c in info.columns))
        for c, name in zip(info.columns, names):
            detail = ""
            if c.shape:
                detail = f"shape {format_shape(c.shape)} {c.dtype}"
            elif c.type == "numeric" and c.minimum is not None:
                detail = f"min {c.minimum:.4g}  max {c.maximum:.4g}" + (f"  mean {c.mean:.4g}" if c.mean is not None
                                                                          else "")
            elif c.type == "categorical":
                detail = f"{len(c.categories)} values"
            elif c.examples:
                detail = f"e.g. {c.examples[0][:40]!r}"
            if c.missing:
                detail += f"  ({c.missing} missing)"
            if c.non_finite:
                detail += f"  ({c.non_finite} infinite)"
            role = f"[{c.role}]" if c.role else "[ignored]"
            lines.append(f"  {name:<{width}}  {c.type:<11} {role:<{role_width}} {detail}".rstrip())
    if info.class_names:
        lines.append("classes:")
        classes = [printable(n) for n in info.class_names[:30]]
        width = max(len(n) for n in classes)
        top = max(info.class_counts) if info.class_counts else 1
        for name, count in list(zip(classes, info.class_counts))[:30]:
            bar = "#" * max(1, round(30 * count / top)) if top else ""
            lines.append(f"  {name:<{width}}  {count:>7,}  {bar}")
        if len(info.class_names) > 30:
            lines.append(f"  ... and {len(info.class_names) - 30} more")
    sizes = info.split_sizes
    if sizes:
        split = info.spec.get("split", {})
        how = "chronological" if info.kind == "timeseries" else \
            ("stratified" if split.get("stratify", True) and info.task == "classification" else "random")
        lines.append(f"split: train {sizes.get('train', 0):,}, validation {sizes.get('validation', 0):,}, "
                     f"test {sizes.get('test', 0):,} ({how}, seed {split.get('seed', 0)})")
    lines.append(f"suggested last layer: {info.target_size} unit{'s' if info.target_size != 1 else ''}, "
                 f"{info.suggested_activation}; loss {info.suggested_loss}")
    if info.problems:
        lines.append("problems:")
        for p in info.problems:
            lines.append(f"  {p.severity}: {p.message}")
    else:
        lines.append("problems: none")
    return "\n".join(lines)
