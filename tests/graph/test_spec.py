"""ParamSpec validation and catalog look-ups, as the inspector and loader use them."""

import pytest

from studio.core.errors import ParamError, UnknownLayerType
from studio.graph import Catalog, default_catalog
from studio.graph.spec import LayerSpec, ParamSpec


def test_int_param_refuses_text_bools_and_out_of_range():
    units = ParamSpec("units", "int", 32, minimum=1, maximum=100)
    assert units.validate(5) == 5
    assert units.validate(5.0) == 5
    for bad in ("5", True, 0, 101, 2.5, None):
        with pytest.raises(ParamError) as info:
            units.validate(bad)
        assert "units" in str(info.value)


def test_ints_param_expands_a_single_number_and_checks_length():
    kernel = ParamSpec("kernel_size", "ints", [3, 3], length=2, minimum=1)
    assert kernel.validate(5) == [5, 5]
    assert kernel.validate((2, 3)) == [2, 3]
    with pytest.raises(ParamError, match="needs 2 values"):
        kernel.validate([1, 2, 3])
    with pytest.raises(ParamError, match="at least 1"):
        kernel.validate([0, 3])


def test_choice_and_shape_params():
    padding = ParamSpec("padding", "choice", "valid", choices=("valid", "same"))
    with pytest.raises(ParamError, match="'valid', 'same'"):
        padding.validate("full")
    shape = ParamSpec("batch_shape", "shape", [None, 4])
    assert shape.validate((None, 28, 28, 1)) == [None, 28, 28, 1]
    with pytest.raises(ParamError):
        shape.validate([None, -1])


def test_float_param_refuses_nan():
    rate = ParamSpec("rate", "float", 0.5, minimum=0.0, maximum=1.0)
    with pytest.raises(ParamError, match="NaN"):
        rate.validate(float("nan"))


def test_validate_collects_every_problem_and_keeps_unknown_keys():
    dense = default_catalog().get("Dense")
    resolved, problems = dense.validate({"units": 0, "use_bias": "yes", "dtype": {"class_name": "DTypePolicy"}})
    assert {key for key, _ in problems} == {"units", "use_bias"}
    assert resolved["dtype"] == {"class_name": "DTypePolicy"}  # imported extras pass through
    assert resolved["activation"] == "linear"


def test_catalog_aliases_and_unknown_types():
    spec = LayerSpec(id="New", class_name="New", category="Core", description="d", infer_shape=lambda p, s: s,
                     legacy_ids=("Old",))
    catalog = Catalog([spec])
    assert catalog.get("Old") is spec
    assert catalog.canonical_id("Old") == "New"
    with pytest.raises(UnknownLayerType, match="Nope"):
        catalog.get("Nope")
    with pytest.raises(ValueError):
        catalog.register(spec)


def test_describe_params_reads_like_the_node_label():
    dense = default_catalog().get("Dense")
    assert dense.describe_params({"units": 64, "activation": "relu"}) == "64 units · relu"
    assert dense.describe_params({}) == "32 units"


def test_catalog_search_puts_prefix_matches_first():
    names = [s.id for s in default_catalog().search("de")]
    assert names[0] == "Dense"
