"""Image folders: one subfolder per class of .jpg/.png/.bmp/.gif files.

describe() checks every file with Pillow (no TensorFlow): a PNG's chunks
against their checksums, a JPEG decoded at 1/8 scale (GIF, BMP: decoded).
Files that are not readable images, or are cut short, are skipped and
counted, so TensorFlow (whose libjpeg prints "Corrupt JPEG data" on stderr)
never sees them; training repeats the warning.
A JPEG whose entropy-coded data is damaged in the middle still decodes in
Pillow without a word (its decoder hides libjpeg's warnings), so only
TensorFlow finds it: prepare() first decodes every JPEG once at 1/8 scale
with fd 2 captured (`_jpegs_with_corrupt_data`), drops the ones the decoder
complains about and says so in one warning. `studio data` cannot see them.
prepare() streams the files from disk with tf.data, decodes and resizes
them, and caches the decoded pixels only when they fit in memory.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from pathlib import Path

import numpy as np

from studio.core.errors import DataError
from studio.data import pipeline, splits
from studio.data.files import excerpt
from studio.data.info import DatasetInfo, split_sizes
from studio.data.sources.base import Source, class_balance_problems
from studio.data.stderr_capture import capture_fd2, write_to_stderr

SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")
# What tf.io.decode_image reads; a file of another format under an image name (a .webp
# renamed .jpg, say) opens in Pillow but not in TensorFlow, so describe() skips it.
TF_FORMATS = ("JPEG", "MPO", "PNG", "GIF", "BMP")
MAX_DEFAULT_SIDE = 256
# The JPEG check before training decodes this many files at once in parallel (tf.data); a batch
# that makes the decoder print anything, or fail, is checked again one file at a time.
CHECK_CHUNK = 256
# Verdicts of that check, kept for the session: (path, size, mtime_ns) -> the file decodes cleanly.
_VERDICTS: dict[tuple[str, int, int], bool] = {}
_VERDICTS_LOCK = threading.Lock()
_VERDICTS_MAX = 500_000


class ImageFolderSource(Source):
    kind = "images"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.files: list[str] = []
        self.labels: np.ndarray | None = None
        self.jpeg: np.ndarray | None = None  # per file: a JPEG (by content), checked again by prepare()
        self.skipped_message = ""  # the warning about unreadable files, repeated when training

    def _describe(self) -> DatasetInfo:
        from PIL import Image, UnidentifiedImageError

        root = self.path
        if not root.exists():
            raise DataError(f"{root}: no such folder")
        if not root.is_dir():
            raise DataError(f"{root}: is a file; an image dataset is a folder with one subfolder per class")
        classes = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        if not classes:
            loose = [p for p in root.iterdir() if p.suffix.lower() in SUFFIXES]
            hint = f" ({len(loose)} images lie directly in it)" if loose else ""
            raise DataError(f"{root}: has no class subfolders{hint}; put the images of each class in a "
                            "subfolder named after the class (e.g. cats/, dogs/)")
        names: list[str] = []
        counts: list[int] = []
        files: list[str] = []
        labels: list[int] = []
        jpeg: list[bool] = []
        sizes: Counter = Counter()
        grey = True
        skipped: list[str] = []
        total = 0
        for folder in classes:
            images = sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file())
            if not images:
                self.warn(f"{folder}: the class folder '{folder.name}' has no images (.jpg .png .bmp .gif); "
                          "it is left out")
                continue
            good = 0
            label = len(names)
            for p in images:
                total += 1
                try:
                    size, mode, fmt = _check_image(p)
                    sizes[size] += 1
                    grey = grey and mode in GREY_MODES
                except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, MemoryError,
                        Image.DecompressionBombError):
                    skipped.append(str(p))
                    continue
                files.append(str(p))
                labels.append(label)
                jpeg.append(fmt in ("JPEG", "MPO"))
                good += 1
            if good == 0:
                self.warn(f"{folder}: none of the {len(images)} images of class '{folder.name}' can be read; "
                          "the class is left out")
                continue
            names.append(folder.name)
            counts.append(good)
        if total and not files:
            raise DataError(f"{root}: none of the {total} image files can be read as an image; "
                            "are they really images?")
        if not files:
            raise DataError(f"{root}: the class folders hold no images (.jpg .png .bmp .gif)")
        self.skipped_message = ""
        if skipped:
            first = ", ".join(excerpt(Path(f).relative_to(root), 60) for f in skipped[:3])
            etc = ", ..." if len(skipped) > 3 else ""
            self.skipped_message = (f"{root}: {len(skipped)} of {total} files cannot be read as images and are "
                                    f"skipped (first: {first}{etc})")
            self.warn(self.skipped_message)
        self.files = files
        self.labels = np.asarray(labels, dtype=np.int32)
        self.jpeg = np.asarray(jpeg, dtype=bool)

        opts = self.spec.image
        if opts.size is not None:
            height, width = opts.size
        else:
            (height, width), _ = sizes.most_common(1)[0]
            scale = min(1.0, MAX_DEFAULT_SIDE / max(height, width))
            height, width = max(1, round(height * scale)), max(1, round(width * scale))
        if len(sizes) > 1:
            self.note(f"{root}: the images come in {len(sizes)} sizes; all are resized to {height}x{width}")
        color = opts.color or ("grayscale" if grey else "rgb")
        channels = 1 if color == "grayscale" else 3

        info = DatasetInfo(kind="images", path=str(root), num_samples=len(files),
                           feature_shape=(height, width, channels), feature_dtype="float32",
                           task="classification", target_shape=(), features=["image"], targets=["class"])
        info.image_size = (height, width, channels)
        info.skipped = len(skipped)
        info.class_names, info.class_counts, info.num_classes = names, counts, len(names)
        if self.spec.task not in (None, "classification"):
            self.error(f"{root}: an image folder is labelled by class; the task must be classification")
        class_balance_problems(self, str(root), names, counts)
        groups = counts if self.spec.split.stratify else [len(files)]
        info.split_sizes = split_sizes(groups, self.spec.split.validation, self.spec.split.test)
        per_class: Counter = Counter()
        for f, lab in zip(files, labels):
            if per_class[lab] < 8:
                info.preview_items.append((f, names[lab]))
                per_class[lab] += 1
        spec = self.spec.to_dict()
        spec.update({"task": "classification", "image": {"size": [height, width], "color": color}})
        info.spec = spec
        return info

    def prepare(self, batch_size: int, seed: int | None = None):
        import tensorflow as tf

        info = self.require_ok()
        seed = self.seed(seed)
        assert self.labels is not None and self.jpeg is not None
        split = self.spec.split
        labels = self.labels if split.stratify else None
        assignment = splits.assign(len(self.files), split.validation, split.test, split.seed, labels)
        # JPEGs the decoder complains about leave their split; the others keep theirs, so the
        # splits are those describe() reported less the corrupt files.
        jpegs = [f for f, j in zip(self.files, self.jpeg) if j]
        corrupt = set(_jpegs_with_corrupt_data(jpegs))
        warnings = [self.skipped_message] if self.skipped_message else []
        if corrupt:
            keep = np.asarray([f not in corrupt for f in self.files], dtype=bool)
            bad = [f for f in self.files if f in corrupt]
            first = ", ".join(excerpt(Path(f).relative_to(self.path), 60) for f in bad[:3])
            etc = ", ..." if len(bad) > 3 else ""
            verb = "has corrupt data and is" if len(bad) == 1 else "have corrupt data and are"
            message = f"{self.path}: {len(bad)} of {len(self.files)} images {verb} skipped (first: {first}{etc})"
            if not (keep & (assignment == splits.TRAIN)).any():
                raise DataError(f"{message}; no training images are left")
            warnings.append(message)
        else:
            keep = np.ones(len(self.files), dtype=bool)
        height, width, channels = info.feature_shape
        files = np.asarray(self.files)
        cache = int(keep.sum()) * height * width * channels * 4 <= pipeline.IN_MEMORY_BYTES

        def load(path, label):
            raw = tf.io.read_file(path)
            img = tf.io.decode_image(raw, channels=3, expand_animations=False)
            if channels == 1:
                img = tf.image.rgb_to_grayscale(img)
            img = tf.image.resize(img, (height, width), antialias=True)
            img.set_shape((height, width, channels))
            return img, label

        out, counts = [], {}
        for part, name in ((splits.TRAIN, "train"), (splits.VALIDATION, "validation"), (splits.TEST, "test")):
            sel = (assignment == part) & keep
            counts[name] = int(sel.sum())
            if counts[name] == 0 and part != splits.TRAIN:
                out.append(None)
                continue
            ds = tf.data.Dataset.from_tensor_slices((files[sel], self.labels[sel]))
            training = part == splits.TRAIN
            if training and not cache:
                ds = ds.shuffle(counts[name], seed=seed, reshuffle_each_iteration=True)
            # A file that passed describe() and the JPEG check but fails to decode (changed on
            # disk since) is dropped; repeat().take(n) then keeps the split at exactly n samples,
            # so the dataset's size is known (Keras shows progress and does not warn about
            # running out of data).
            ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE).ignore_errors()
            ds = ds.repeat().take(counts[name])
            if cache:
                out.append(pipeline.finish(ds, batch_size, training, seed, cache=True))
            else:
                out.append(ds.batch(batch_size).prefetch(tf.data.AUTOTUNE))
        spec = dict(info.spec)
        spec["preprocessing"] = {"rescale": 1.0 / 255.0, "class_names": list(info.class_names)}
        test = [os.path.relpath(f, self.path) for f in files[(assignment == splits.TEST) & keep]]
        return pipeline.PreparedData(train=out[0], validation=out[1], test=out[2], info=info, spec=spec,
                                     batch_size=batch_size, counts=counts, warnings=warnings,
                                     test_samples={"kind": "images", "path": str(self.path), "refs": test})


def _check_image(path: Path) -> tuple[tuple[int, int], str, str]:
    """((height, width), mode, format) of an image TensorFlow can decode; raises if it is not one.

    Pillow is quiet where libjpeg, inside TensorFlow, prints "Corrupt JPEG data" or "Premature
    end of JPEG file" on stderr, so a file cut short never reaches TensorFlow: a PNG's chunks are
    checked against their CRCs (verify()); a JPEG that does not end with its end-of-image marker
    is decoded (at 1/8 scale: all of its data is read at a fraction of the cost) and refused if
    that fails; GIF and BMP are decoded.
    """
    from PIL import Image

    with Image.open(path) as im:
        if im.format not in TF_FORMATS:
            raise ValueError(f"{im.format} is not JPEG, PNG, GIF or BMP")
        size, mode, fmt = (im.height, im.width), im.mode, im.format
        if im.format == "PNG":
            im.verify()
        elif im.format in ("JPEG", "MPO"):
            if not _ends_with_eoi(path):
                im.draft(im.mode, (max(1, im.width // 8), max(1, im.height // 8)))
                im.load()
        else:
            im.load()
    return size, mode, fmt


def _ends_with_eoi(path: Path) -> bool:
    """True if a JPEG's end-of-image marker (FF D9) is in its last KiB (a complete file)."""
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        fh.seek(max(0, fh.tell() - 1024))
        return b"\xff\xd9" in fh.read()


def _jpegs_with_corrupt_data(paths: list[str]) -> list[str]:
    """The JPEGs among `paths` that TensorFlow's decoder complains about, in their order.

    Pillow's decoder keeps libjpeg's warnings to itself, so a JPEG whose entropy-coded data is
    damaged mid-file passes describe(); TensorFlow's prints "Corrupt JPEG data: bad Huffman
    code" (and the like) on the process's stderr, which no setting silences. Each file is decoded
    once at 1/8 scale (the whole stream is still parsed: the same warnings at a fraction of the
    cost) while fd 2 points at a temporary file: a file that makes the decoder write anything,
    or fail, is corrupt. The files go in batches of CHECK_CHUNK through a parallel tf.data map; a
    batch that printed something or lost a file is checked again one file at a time, eagerly on
    this thread, to name the culprits. What was printed and is not explained by a corrupt file
    (another thread's output) is passed on to the real stderr. Verdicts are kept for the session
    by (path, size, mtime).
    """
    if not paths:
        return []
    import tensorflow as tf

    verdict: dict[str, bool] = {}
    keys: dict[str, tuple[str, int, int]] = {}
    todo: list[str] = []
    with _VERDICTS_LOCK:
        for p in paths:
            try:
                st = os.stat(p)
            except OSError:  # gone since describe(): not corrupt; the pipeline drops it
                verdict[p] = True
                continue
            keys[p] = key = (p, st.st_size, st.st_mtime_ns)
            known = _VERDICTS.get(key)
            if known is None:
                todo.append(p)
            else:
                verdict[p] = known
    if todo:
        def probe(path):
            return tf.shape(tf.io.decode_jpeg(tf.io.read_file(path), ratio=8))

        def clean_alone(path: str) -> bool:
            try:
                tf.io.decode_jpeg(tf.io.read_file(path), ratio=8)
            except tf.errors.OpError:
                return False
            return True

        explained: list[tuple[int, int]] = []  # spans of the captured output the corrupt files printed
        with capture_fd2() as cap:
            for start in range(0, len(todo), CHECK_CHUNK):
                chunk = todo[start:start + CHECK_CHUNK]
                before = cap.size()
                ds = (tf.data.Dataset.from_tensor_slices(chunk)
                      .map(probe, num_parallel_calls=tf.data.AUTOTUNE, deterministic=False))
                try:  # reduce(), not a Python loop: no iterator, no "End of sequence" log line
                    ds.reduce(np.int64(0), lambda n, _: n + 1)
                    failed = False
                except tf.errors.OpError:
                    failed = True
                after = cap.size()
                if not failed and after == before:
                    verdict.update(dict.fromkeys(chunk, True))
                    continue
                found = False
                for p in chunk:
                    b = cap.size()
                    ok = clean_alone(p)
                    a = cap.size()
                    ok = ok and a == b
                    verdict[p] = ok
                    if not ok:
                        found = True
                        explained.append((b, a))
                if found:  # what the batch printed was these files' complaints, once more
                    explained.append((before, after))
        _pass_on(cap.data, explained)
        with _VERDICTS_LOCK:
            if len(_VERDICTS) + len(todo) > _VERDICTS_MAX:
                _VERDICTS.clear()
            for p in todo:
                _VERDICTS[keys[p]] = verdict[p]
    return [p for p in paths if not verdict[p]]


def _pass_on(data: bytes, explained: list[tuple[int, int]]) -> None:
    """Write to the real stderr what a capture caught outside the `explained` spans."""
    rest, pos = [], 0
    for start, end in sorted(explained):
        if start > pos:
            rest.append(data[pos:start])
        pos = max(pos, end)
    rest.append(data[pos:])
    write_to_stderr(b"".join(rest))
