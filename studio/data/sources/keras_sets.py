"""Keras' downloadable datasets: MNIST, CIFAR-10 and IMDB, fetched once into the cache.

Nothing here unpickles: MNIST is a plain .npz, CIFAR-10 is read from its
binary version (raw bytes), IMDB from the raw review texts (a text folder).
Without a network and without a cached copy, a clear `DataError` says where
to put the file. ``STUDIO_OFFLINE=1`` refuses every download.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import urllib.request
from pathlib import Path

import numpy as np

from studio.core.errors import DataError
from studio.data import registry
from studio.data.sources.arrays import ArraySource
from studio.data.sources.base import Source
from studio.data.spec import DatasetSpec

DOWNLOADS = {
    "mnist": ("mnist.npz", "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
              "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"),
    "cifar10": ("cifar-10-binary.tar.gz", "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", None),
    "imdb": ("aclImdb_v1.tar.gz", "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz", None),
}
CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def download(name: str) -> Path:
    """The downloaded archive of a Keras sample, fetched on first use (urllib, no TensorFlow)."""
    fname, origin, file_hash = DOWNLOADS[name]
    folder = registry.cache_dir() / "downloads"
    path = folder / fname
    if path.exists():
        return path
    title = registry.sample(name).title
    hint = f"connect to the internet once, or copy {fname} (from {origin}) into {folder}"
    if os.environ.get("STUDIO_OFFLINE"):
        raise DataError(f"{title} is not in the cache ({path}) and downloads are off (STUDIO_OFFLINE); {hint}")
    partial = path.with_name(path.name + ".part")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with urllib.request.urlopen(origin, timeout=30) as response, open(partial, "wb") as out:
            while True:
                block = response.read(1 << 20)
                if not block:
                    break
                digest.update(block)
                out.write(block)
        if file_hash and digest.hexdigest() != file_hash:
            raise OSError(f"the file's checksum is {digest.hexdigest()[:12]}..., not the expected one")
        os.replace(partial, path)
    except (OSError, ValueError) as exc:  # no network, refused, cut short, bad checksum
        partial.unlink(missing_ok=True)
        reason = str(getattr(exc, "reason", "") or exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise DataError(f"{title} is not in the cache ({path}) and could not be downloaded ({reason}); "
                        f"{hint}") from None
    return path


def _extract(archive: Path, target: Path, keep) -> None:
    """Extract the members `keep(name) -> relative path or None` of a tar.gz, safely."""
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                rel = keep(member.name) if member.isfile() else None
                if rel is None:
                    continue
                out = tmp / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                src = tar.extractfile(member)
                if src is None:
                    continue
                with src, open(out, "wb") as fh:
                    shutil.copyfileobj(src, fh)
    except (tarfile.TarError, OSError, EOFError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise DataError(f"{archive}: the download is damaged ({exc}); delete it and try again") from None
    os.replace(tmp, target)


class _Arrays(ArraySource):
    """An ArraySource over arrays already in memory."""

    reads_path = False

    def __init__(self, spec: DatasetSpec, arrays: tuple, names: tuple[str, str], where: str, image_like: bool,
                 title: str) -> None:
        super().__init__(spec, None, title=title)
        self._arrays = arrays
        self._names = names
        self.path = Path(where)
        self.image_like = image_like

    def arrays(self):
        self.names = self._names
        return self._arrays


class KerasSource(Source):
    kind = "keras"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.name = self.spec.path
        self._inner: Source | None = None

    def inner(self) -> Source:
        if self._inner is None:
            self._inner = self._open()
        return self._inner

    def _open(self) -> Source:
        name = self.name
        if name not in DOWNLOADS:
            raise DataError(f"there is no downloadable dataset named {name!r}; choose mnist, cifar10 or imdb")
        if name == "imdb":
            folder = registry.cache_dir() / "imdb"
            if not folder.exists():
                _extract(download("imdb"), folder, _imdb_member)
            spec = self.spec.with_changes(kind="text", path=str(folder))
            from studio.data.sources.text import TextSource

            return TextSource(spec, None, title=self.title)
        spec = self.spec.with_changes(kind="npz", path=name)
        if name == "mnist":
            path = download("mnist")
            try:
                with np.load(path, allow_pickle=False) as data:
                    arrays = (data["x_train"][..., None], data["y_train"], data["x_test"][..., None], data["y_test"])
            except (OSError, ValueError, KeyError) as exc:
                raise DataError(f"{path}: the download is damaged ({exc}); delete it and try again") from None
        else:
            folder = registry.cache_dir() / "cifar-10-batches-bin"
            if not folder.exists():
                _extract(download("cifar10"), folder,
                         lambda n: Path(n).name if n.endswith(".bin") else None)
            arrays = _read_cifar(folder)
        source = _Arrays(spec, arrays, ("x_train", "y_train"), f"{name} (Keras dataset)", True, self.title)
        return source

    def describe(self):
        info = self.inner().describe()
        if self.name == "cifar10":
            info.class_names = list(CIFAR_CLASSES)
        info.kind = "keras"
        info.title = self.title
        return info

    def prepare(self, batch_size: int, seed: int | None = None):
        self.describe()
        data = self.inner().prepare(batch_size, seed)
        if self.name == "cifar10":
            data.spec["preprocessing"]["class_names"] = list(CIFAR_CLASSES)
        return data


def _imdb_member(name: str) -> str | None:
    parts = Path(name).parts
    # aclImdb/{train,test}/{pos,neg}/123_8.txt -> {pos,neg}/{train,test}_123_8.txt
    if len(parts) == 4 and parts[1] in ("train", "test") and parts[2] in ("pos", "neg") and name.endswith(".txt"):
        return f"{parts[2]}/{parts[1]}_{parts[3]}"
    return None


def _read_cifar(folder: Path) -> tuple:
    def read(files: list[str]) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = [], []
        for f in files:
            raw = np.fromfile(folder / f, dtype=np.uint8)
            if raw.size % 3073:
                raise DataError(f"{folder / f}: not a CIFAR-10 binary batch; delete the folder and try again")
            rec = raw.reshape(-1, 3073)
            ys.append(rec[:, 0].astype(np.int64))
            xs.append(rec[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        return np.concatenate(xs), np.concatenate(ys)

    x_train, y_train = read([f"data_batch_{i}.bin" for i in range(1, 6)])
    x_test, y_test = read(["test_batch.bin"])
    return x_train, y_train, x_test, y_test
