"""The configuration: the Playground's defaults and URL vocabulary, strict and lenient validation."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from courseware import config as config_module
from courseware.config import Config
from courseware.jsmath import js_number
from courseware.errors import ConfigError, LimitError


def test_defaults_are_the_playgrounds(registry):
    c = config_module.default(registry, seed="0.66230")
    assert (c.activation, c.learningRate, c.batchSize, c.networkShape) == ("tanh", 0.03, 10, (4, 2))
    assert (c.dataset, c.regDataset, c.problem, c.features) == ("circle", "reg-plane", "classification", ("x", "y"))
    assert (c.noise, c.percTrainData, c.regularization, c.regularizationRate) == (0, 50, "none", 0)
    assert len(config_module.default(registry).seed) == 7  # Math.random().toFixed(5)


def test_query_uses_the_playground_vocabulary_and_round_trips(registry):
    c = config_module.default(registry, seed="0.66230")
    query = c.to_query(registry)
    assert query.startswith("activation=tanh&batchSize=10&dataset=circle&regDataset=reg-plane&learningRate=0.03&")
    assert "networkShape=4,2&seed=0.66230" in query and "regularization=" not in query
    assert Config.from_query(query, registry) == (c, [])
    l1 = c.with_changes(registry, regularization="L1", networkShape=())
    assert "activation=tanh&regularization=L1&batchSize" in l1.to_query(registry)
    assert Config.from_query(l1.to_query(registry), registry)[0] == l1


def test_empty_network_shape_means_no_hidden_layer(registry):
    config, notices = Config.from_query("networkShape=&seed=1", registry)
    assert config.networkShape == () and not notices


def test_url_booleans_follow_the_playground(registry):
    config, _ = Config.from_query("showTestData=yes&discretize=false&x=0&xSquared=true&noise_hide=true&seed_hide=x", registry)
    assert config.showTestData is True and config.discretize is False
    assert "x" in config.features and "xSquared" in config.features  # anything but "false" is true
    assert config.hidden == ("noise",)


def test_bad_url_values_are_ignored_with_notices(registry):
    config, notices = Config.from_query(
        "activation=swish&networkShape=1000000&noise=abc&learningRate=NaN&bogus=1&batchSize=0&seed=", registry
    )
    default = config_module.default(registry, seed=config.seed)
    assert config == default
    text = "\n".join(notices)
    for key in ("activation", "networkShape", "noise", "learningRate", "bogus", "batchSize"):
        assert f"ignored {key}:" in text
    assert "relu, tanh, sigmoid, linear" in text  # the allowed values are listed
    assert "limit of 8" in text


def test_strict_errors_name_key_and_allowed_values(registry):
    with pytest.raises(ConfigError, match=r"activation: 'relux' is not one of relu, tanh, sigmoid, linear"):
        config_module.from_mapping({"activation": "relux"}, registry)
    with pytest.raises(ConfigError, match="dataset: 'reg-plane' is a regression dataset: set regDataset: "
                                          "reg-plane and problem: regression"):
        config_module.from_mapping({"dataset": "reg-plane"}, registry)
    with pytest.raises(ConfigError, match="dataset: 'plane' is not one of circle, xor, gauss, spiral"):
        config_module.from_mapping({"dataset": "plane"}, registry)
    with pytest.raises(LimitError, match="7 hidden layers is more than the limit of 6"):
        config_module.from_mapping({"networkShape": [1] * 7}, registry)
    with pytest.raises(ConfigError, match="unknown setting"):
        config_module.from_mapping({"learning_rate": 0.1}, registry)
    with pytest.raises(ConfigError, match="unknown feature 'cosX'"):
        config_module.from_mapping({"features": ["x", "cosX"]}, registry)


def test_parse_reports_every_error_at_once(registry):
    _, errors = config_module.parse({"activation": 1, "noise": -5, "batchSize": 1.5, "seed": ""}, registry=registry)
    assert [e.key for e in errors] == ["activation", "noise", "batchSize", "seed"]


def test_limits_are_settings(registry):
    wide = config_module.Limits(max_hidden_layers=10, max_neurons=16)
    config = config_module.from_mapping({"networkShape": [16] * 10}, registry, limits=wide)
    assert config.networkShape == (16,) * 10


def test_inert_cos_features_are_accepted_from_urls(registry):
    config, notices = Config.from_query("cosX=true&cosY=true&seed=1", registry)
    assert not notices and "cosX" not in config.features


@pytest.mark.parametrize(("value", "text"), [(0.03, "0.03"), (10, "10"), (1e-5, "0.00001"), (1e-7, "1e-7"),
                                             (2.5e-5, "0.000025"), (1.5e21, "1.5e+21"), (-0.5, "-0.5")])  # fmt: skip
def test_js_number(value, text):
    assert js_number(value) == text


@given(st.dictionaries(st.text(max_size=20), st.text(max_size=30), max_size=8))
def test_any_url_gives_a_config_and_notices_never_an_exception(mapping):
    from courseware.plugins import get_registry

    config, notices = Config.from_query(mapping, get_registry())
    assert isinstance(config, Config) and all(isinstance(n, str) for n in notices)
    assert len(config.networkShape) <= 6 and all(1 <= n <= 8 for n in config.networkShape)


@given(st.text(max_size=200))
def test_any_query_string_parses(query):
    from courseware.plugins import get_registry

    Config.from_query(query, get_registry())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)
keys = st.sampled_from(["activation", "networkShape", "seed", "noise", "learningRate", "batchSize", "features",
                        "hidden", "dataset", "problem", "x", "x_hide", "percTrainData", "tutorial",
                        "initZero", "regularization", "regularizationRate"]) | st.text(max_size=10)  # fmt: skip


@given(st.dictionaries(keys, json_values, max_size=6))
def test_any_typed_mapping_gives_a_config_or_config_errors(mapping):
    """What YAML or JSON can hold: nested lists and maps, huge integers, NaN, unicode."""
    from courseware.errors import ConfigError
    from courseware.plugins import get_registry

    config, errors = config_module.parse(mapping, registry=get_registry())
    assert isinstance(config, Config) and all(isinstance(e, ConfigError) for e in errors)
    assert isinstance(config.seed, str) and len(config.networkShape) <= 6


def test_huge_integers_and_odd_seeds_are_errors_not_crashes(registry):
    _, errors = config_module.parse({"noise": 10**400, "batchSize": -(10**30), "seed": {"a": 1}}, registry=registry)
    assert [e.key for e in errors] == ["noise", "batchSize", "seed"]


# -- the settings table -------------------------------------------------------------------------------


def test_every_field_of_config_is_a_row_of_the_settings_table(registry) -> None:
    from dataclasses import fields

    from courseware.config import SETTINGS
    from courseware.settings import CONTROL_BY_NAME

    assert [f.name for f in fields(Config) if f.name != "limits"] == [s.name for s in SETTINGS]
    options = [s.option for s in SETTINGS if s.option]
    assert len(options) == len(set(options)), "two settings share a CLI option"
    default = config_module.default(registry, seed="1")
    for setting in SETTINGS:
        assert all(name in CONTROL_BY_NAME for name in setting.controls), setting.name
        words = setting.describe(getattr(default, setting.name), registry)
        camel_case = setting.name != setting.name.lower()  # a key, not a word (learningRate)
        assert words and not (camel_case and setting.name in words), f"{setting.name}: reads {words!r}"


def test_a_setting_written_in_a_url_reads_back_the_same(registry) -> None:
    """Every row's writer and reader agree: a configuration survives its own URL."""
    config = config_module.from_mapping(
        {"seed": "0.5", "learningRate": 0.003, "regularization": "L2", "regularizationRate": 0.01,
         "networkShape": [3, 1], "noise": 15, "percTrainData": 70, "batchSize": 25, "initZero": True,
         "optimizer": "adam", "points": [[1, 2, 0], [-3, 1.5, 1]], "hidden": ["noise"]},
        registry,
    )  # fmt: skip
    again, notices = Config.from_query(config.to_query(registry), registry)
    assert not notices and again == config


def test_the_row_docs_architecture_shows_is_the_tables_own() -> None:
    """docs/architecture.md shows the learning rate's row of the settings table: it is the one in
    config.py, word for word."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    page = (root / "docs" / "architecture.md").read_text(encoding="utf-8")
    shown = page.split("```python\n", 1)[1].split("```", 1)[0]
    assert shown.startswith("    learningRate: float = entry(")
    assert shown in (root / "courseware" / "config.py").read_text(encoding="utf-8")
