"""A module handle -> a local SavedModel folder.

    path = resolve_handle("https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/feature_vector/5")
    path = resolve_handle("/data/modules/my_encoder")          # a local SavedModel folder

A handle is data, never code: it is a URL (`https://`, `gs://`), a Kaggle model path
(`google/mobilenet-v2/tensorFlow2/100-224-feature-vector/1`, read as
`https://www.kaggle.com/models/<path>`) or a local folder. URLs go through `tensorflow_hub`'s
resolver, which downloads and unpacks a module once into its cache folder, `TFHUB_CACHE_DIR`
(`hub_cache_dir()`: the environment variable, else `<cache>/network-studio/tfhub`, where
`<cache>` is `STUDIO_CACHE_DIR` or `XDG_CACHE_HOME` or `~/.cache`). A module already in the
cache is found there without the network. When the download fails (offline, a wrong handle),
`HubError` says in one line what to download and the folder to unpack it into
(`expected_cache_folder(handle)`, the folder `tensorflow_hub` itself would use).

A local folder must be a SavedModel (it holds `saved_model.pb`), else one clear `HubError`.

Imports `tensorflow_hub` only inside `resolve_handle`, for a URL not yet cached.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from studio.core.errors import StudioError

#: The environment variable tensorflow_hub reads for its cache folder.
CACHE_ENV = "TFHUB_CACHE_DIR"
SAVED_MODEL_FILES = ("saved_model.pb", "saved_model.pbtxt")
KAGGLE_MODELS = "https://www.kaggle.com/models/"
# owner/model/framework/variation[/version]: letters, digits, '-', '_', '.'
_KAGGLE_PATH = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+){3,4}$")
_URL = re.compile(r"^(https?|gs)://", re.IGNORECASE)
MAX_HANDLE = 2000


class HubError(StudioError):
    """A module handle that cannot be resolved or loaded; the message says what to do."""


def hub_cache_dir() -> Path:
    """Where downloaded modules are kept: `TFHUB_CACHE_DIR`, else the app's cache folder."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    studio_cache = os.environ.get("STUDIO_CACHE_DIR")
    if studio_cache:
        return Path(studio_cache).expanduser() / "tfhub"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "network-studio" / "tfhub"


def is_remote(handle: str) -> bool:
    """True for a URL or a Kaggle model path, False for a local folder."""
    handle = handle.strip()
    return bool(_URL.match(handle)) or (bool(_KAGGLE_PATH.match(handle)) and not Path(handle).exists())


def canonical_handle(handle: str) -> str:
    """The handle as `tensorflow_hub` resolves it: a Kaggle model path becomes its URL."""
    handle = handle.strip()
    if _URL.match(handle):
        return handle
    if _KAGGLE_PATH.match(handle) and not Path(handle).exists():
        return KAGGLE_MODELS + handle
    return handle


def expected_cache_folder(handle: str) -> Path:
    """The folder tensorflow_hub unpacks `handle` into (sha1 of the handle, in the cache)."""
    return hub_cache_dir() / hashlib.sha1(canonical_handle(handle).encode("utf8")).hexdigest()


def is_saved_model(folder: Path) -> bool:
    return folder.is_dir() and any((folder / name).is_file() for name in SAVED_MODEL_FILES)


def check_saved_model_folder(folder: Path, handle: str | None = None) -> Path:
    """`folder` if it is a SavedModel folder, else one clear HubError."""
    shown = handle or str(folder)
    if not folder.exists():
        raise HubError(f"module '{shown}': the folder {folder} does not exist; choose the folder that holds "
                       "saved_model.pb (an unpacked TensorFlow Hub module or a model saved with "
                       "tf.saved_model.save / model.export)")
    if not folder.is_dir():
        raise HubError(f"module '{shown}': {folder} is a file, not a folder; a SavedModel is a folder holding "
                       "saved_model.pb and variables/ (unpack a .tar.gz module first)")
    if not is_saved_model(folder):
        inside = sorted(p.name for p in folder.iterdir())[:5]
        listed = ", ".join(inside) if inside else "nothing"
        raise HubError(f"module '{shown}': {folder} is not a SavedModel folder (no saved_model.pb in it; it "
                       f"holds {listed}); choose the folder that holds saved_model.pb")
    return folder


def validate_handle(handle: object) -> str:
    """The handle stripped, or HubError when it is empty, too long or not text."""
    if not isinstance(handle, str) or not handle.strip():
        raise HubError("module handle is empty; give a TensorFlow Hub or Kaggle URL, a Kaggle model path "
                       "(owner/model/framework/variation/version) or a local SavedModel folder")
    handle = handle.strip()
    if len(handle) > MAX_HANDLE or "\x00" in handle or "\n" in handle:
        raise HubError("module handle is not a URL, model path or folder (too long or with control characters)")
    return handle


def resolve_handle(handle: str, *, download: bool = True) -> Path:
    """The local SavedModel folder of `handle` (downloading it once when it is a URL).

    `download=False` only looks in the cache. Raises HubError with one line: for a local path that
    is not a SavedModel folder, and for a URL that is neither cached nor downloadable (naming the
    URL to download and the cache folder to unpack it into).
    """
    handle = validate_handle(handle)
    if not is_remote(handle):
        return check_saved_model_folder(Path(handle).expanduser().resolve(), handle)
    url = canonical_handle(handle)
    cached = expected_cache_folder(handle)
    if is_saved_model(cached):
        return cached
    if not download:
        raise HubError(_offline_message(handle, url, cached, "it is not in the module cache yet"))
    os.environ.setdefault(CACHE_ENV, str(hub_cache_dir()))
    try:
        import tensorflow_hub as hub

        resolved = Path(hub.resolve(url))
    except StudioError:
        raise
    except Exception as exc:  # urllib/OSError offline, HTTP 404, a damaged archive...
        raise HubError(_offline_message(handle, url, cached, _reason(exc))) from None
    if not is_saved_model(resolved):
        raise HubError(f"module '{handle}': the download unpacked to {resolved}, which holds no saved_model.pb; "
                       "it is not a TF2 SavedModel (TF1 Hub modules are not supported)")
    return resolved


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def _offline_message(handle: str, url: str, cached: Path, reason: str) -> str:
    archive = url + ("&" if "?" in url else "?") + "tf-hub-format=compressed" if url.startswith("http") else url
    return (f"module '{handle}' cannot be downloaded ({reason}). On a machine with a connection download "
            f"{archive} (a .tar.gz), unpack it into {cached} (the folder must then hold saved_model.pb), "
            "or unpack it anywhere and give that folder as the module's handle")
