"""``courseware serve``: the playground and lessons in the browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from courseware.server.defaults import DEFAULT_ADDRESS, DEFAULT_PORT
from courseware.settings import DEFAULT_LIMITS, HARD_LIMITS, WIDENINGS, set_page_limits


def _limit_options(command: Any) -> Any:
    """``--max-layers N`` and the others: one option per limit a deployment may raise."""
    for w in reversed(WIDENINGS):
        command = click.option(
            w.option, f"limit_{w.key}", type=click.IntRange(1), default=None, metavar="N",
            help=f"Allow up to N {w.words} (the Playground's limit: {getattr(DEFAULT_LIMITS, w.field)}; "
                 f"at most {getattr(HARD_LIMITS, w.field)}).",
        )(command)  # fmt: skip
    return command


@click.command("serve")
@click.argument("lesson_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True,
              help="Port to listen on; 0 picks a free one (and prints it).")
@click.option("--address", default=DEFAULT_ADDRESS, show_default=True,
              help="Address to listen on. Anything but a loopback address is public: a warning is printed.")
@click.option("--allow-websocket-origin", "origins", multiple=True, metavar="HOST[:PORT]",
              help="A host allowed to open the page's websocket (repeatable). "
                   "Default: the served address and port, as both localhost and 127.0.0.1.")
@click.option("--show", is_flag=True, help="Open the index page in a browser.")
@click.option("--dev", is_flag=True,
              help="The instructor's view: the index and a broken lesson's page list the lesson's problems, "
                   "one per line (students otherwise see only that it is unavailable; the log always has them).")
@click.option("--num-procs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes sharing the port (sessions are spread across them).")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info",
              show_default=True)
@click.option("--data", "data_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Offer the points of a data file (CSV: columns x, y, label) as a dataset named after the "
                   "file (repeatable).")
@_limit_options
def serve_command(lesson_dir: Path | None, port: int, address: str, origins: tuple[str, ...], show: bool,
                  dev: bool, num_procs: int, log_level: str, data_files: tuple[Path, ...],
                  **limit_options: int | None) -> None:  # fmt: skip
    """Serve the playground (and the lessons in LESSON_DIR) with Bokeh, and print the URL."""
    # imported here: every other command starts without loading Bokeh's server
    from courseware.errors import ConfigError
    from courseware.plugins import PluginHost, set_host
    from courseware.server import logs
    from courseware.server.runner import ListenError, ServeOptions, serve

    if lesson_dir is not None and not lesson_dir.is_dir():
        raise click.BadParameter(f"{str(lesson_dir)!r} is not a folder", param_hint="LESSON_DIR")
    try:  # before the workers start: they inherit the limits
        limits = DEFAULT_LIMITS.widened(**{w.key: limit_options[f"limit_{w.key}"] for w in WIDENINGS})
    except ConfigError as exc:
        option = {w.key: w.option for w in WIDENINGS}
        raise click.BadParameter(exc.reason, param_hint=option[exc.key.split(".")[-1]]) from None
    set_page_limits(limits)
    logs.configure(log_level)
    folders = [lesson_dir.resolve()] if lesson_dir is not None else []
    host = PluginHost.load(lesson_dirs=folders, data_files=data_files)
    unreadable = [f for f in host.failures if f.plugin in {str(path) for path in data_files}]
    if unreadable:  # a file the user named on the command line: an error, not a warning
        raise click.ClickException(f"--data {unreadable[0].plugin}: {unreadable[0].error}")
    set_host(host)
    options = ServeOptions(
        lesson_dirs=folders, port=port, address=address, allow_websocket_origin=origins, num_procs=num_procs,
        show=show, dev=dev,
    )  # fmt: skip
    try:
        code = serve(options, host)
    except ListenError as exc:  # a mistyped address or a busy port: one line, no traceback
        failure = click.ClickException(str(exc))
        failure.exit_code = 2 if exc.option == "--address" else 1  # 2: a bad value, as click's own
        raise failure from None
    raise SystemExit(code)


COMMANDS = [serve_command]
