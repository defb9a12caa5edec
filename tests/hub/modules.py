"""Local SavedModels shaped like real TensorFlow Hub modules (no network).

* `image_feature_vector(path)`: a TF2 "reusable SavedModel" like Hub's image feature vectors:
  `__call__(images, training=False)` saved for both values of `training`, over a Conv2D with a
  trainable kernel, a BatchNormalization (moving statistics) and global average pooling; also a
  `serving_default` signature.
* `text_embedding(path)`: strings -> vectors, like Hub's text embeddings (nnlm): a
  `tf.function(input_signature=[TensorSpec([None], tf.string)])` hashing each string into a
  bucket of a trainable embedding table.
"""

from __future__ import annotations

import pytest

IMAGE_SIZE = 8
FEATURES = 4
TEXT_DIM = 5
BUCKETS = 16


def image_feature_vector(path) -> None:
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(1)
    inp = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3))
    x = keras.layers.Conv2D(FEATURES, 3, padding="same")(inp)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    net = keras.Model(inp, x)

    class Module(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        @tf.function
        def __call__(self, images, training=False):
            return self.net(images, training=training)

    module = Module()
    spec = tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE, 3], tf.float32, name="images")
    module.__call__.get_concrete_function(spec, training=True)
    serving = module.__call__.get_concrete_function(spec, training=False)
    tf.saved_model.save(module, str(path), signatures={"serving_default": serving})


def text_embedding(path, dim: int = TEXT_DIM) -> None:
    import tensorflow as tf

    class Module(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.table = tf.Variable(tf.random.stateless_normal([BUCKETS, dim], seed=[1, 2]),
                                     name="embeddings")

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="sentences")])
        def __call__(self, sentences):
            ids = tf.strings.to_hash_bucket_fast(sentences, BUCKETS)
            return tf.nn.embedding_lookup(self.table, ids)

    module = Module()
    tf.saved_model.save(module, str(path), signatures={"default": module.__call__.get_concrete_function()})


def module_fixture(build, name: str):
    """A session fixture: the module `build(path)` writes, in a temporary folder (built once)."""

    @pytest.fixture(scope="session")
    def fixture(tmp_path_factory):
        path = tmp_path_factory.mktemp("hub") / name
        build(path)
        return path

    return fixture
