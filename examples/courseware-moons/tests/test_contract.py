"""The plugin's own tests: courseware's contract kit over its components."""

from courseware.testing import check_activation, check_dataset, check_visualizer
from courseware_moons import LEAKY_RELU, MOONS, WEIGHTS_HISTOGRAM


def test_leaky_relu_contract():
    check_activation(LEAKY_RELU)


def test_moons_contract():
    check_dataset(MOONS)


def test_histogram_panel_contract():
    check_visualizer(WEIGHTS_HISTOGRAM)


def test_histogram_panel_follows_the_training():
    """Build the panel on a real page session, train, and see the histogram count every weight."""
    from bokeh.document import Document

    from courseware import config as config_module
    from courseware.plugins import PluginHost
    from courseware.server.session import PlaygroundSession
    import courseware_moons

    host = PluginHost.load(entry_points=False, extra=[(courseware_moons, "moons")])
    config = config_module.from_mapping({"seed": "0.5", "dataset": "moons"}, host.registry)
    session = PlaygroundSession(Document(), host.registry, config)
    session.build_panels()
    panel = next(p.panel for p in session.panels if p.component.name == "weights-histogram")
    session.step()
    counts = panel.source.data["count"]
    assert sum(counts) == len(session.experiment.arch.link_ids)
