"""Local KerasHub presets for the preset tests (no network): a tiny ResNet backbone saved with
`save_to_preset`, with or without the image converter a classifier preset carries."""

from __future__ import annotations

import pytest

SIZE = 16  # images 16x16x3 -> a (2, 2, 8) feature map
CHANNELS = 8
SCALE = [1 / (255 * 0.229), 1 / (255 * 0.224), 1 / (255 * 0.225)]  # ResNet presets' ImageNet scaling
OFFSET = [-0.485 / 0.229, -0.456 / 0.224, -0.406 / 0.225]


def tiny_backbone(seed: int = 3):
    import keras
    import keras_hub

    keras.utils.set_random_seed(seed)
    return keras_hub.models.ResNetBackbone(
        input_conv_filters=[64], input_conv_kernel_sizes=[3], stackwise_num_filters=[64, CHANNELS],
        stackwise_num_blocks=[1, 1], stackwise_num_strides=[1, 2], block_type="basic_block",
        use_pre_activation=False, image_shape=(None, None, 3))


def save_preset(path, converter: bool = False):
    """Write a preset folder at `path`; returns the backbone it holds."""
    backbone = tiny_backbone()
    backbone.save_to_preset(str(path))
    if converter:
        import keras_hub

        keras_hub.layers.ResNetImageConverter(scale=SCALE, offset=OFFSET).save_to_preset(str(path))
    return backbone


def preset_fixture(converter: bool):
    @pytest.fixture(scope="session")
    def fixture(tmp_path_factory):
        path = tmp_path_factory.mktemp("presets") / ("resnet_scaled" if converter else "resnet_tiny")
        save_preset(path, converter)
        return path

    return fixture


TEXT_VOCAB = 50
TEXT_DIM = 8
TEXT_LENGTH = 6


def save_text_preset(path):
    """A tiny BERT backbone preset (token_ids, segment_ids, padding_mask -> sequence_output)."""
    import keras
    import keras_hub

    keras.utils.set_random_seed(4)
    backbone = keras_hub.models.BertBackbone(vocabulary_size=TEXT_VOCAB, num_layers=1, num_heads=1,
                                             hidden_dim=TEXT_DIM, intermediate_dim=16, max_sequence_length=8)
    backbone.save_to_preset(str(path))
    return backbone


def text_preset_fixture():
    @pytest.fixture(scope="session")
    def fixture(tmp_path_factory):
        path = tmp_path_factory.mktemp("presets") / "bert_tiny"
        save_text_preset(path)
        return path

    return fixture
