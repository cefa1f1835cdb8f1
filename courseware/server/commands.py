"""``courseware serve``: the playground and lessons in the browser."""

from __future__ import annotations

from pathlib import Path

import click

from courseware.server.defaults import DEFAULT_ADDRESS, DEFAULT_PORT


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
def serve_command(lesson_dir: Path | None, port: int, address: str, origins: tuple[str, ...], show: bool,
                  dev: bool, num_procs: int, log_level: str) -> None:  # fmt: skip
    """Serve the playground (and the lessons in LESSON_DIR) with Bokeh, and print the URL."""
    # imported here: every other command starts without loading Bokeh's server
    from courseware.plugins import PluginHost, set_host
    from courseware.server import logs
    from courseware.server.runner import ListenError, ServeOptions, serve

    if lesson_dir is not None and not lesson_dir.is_dir():
        raise click.BadParameter(f"{str(lesson_dir)!r} is not a folder", param_hint="LESSON_DIR")
    logs.configure(log_level)
    folders = [lesson_dir.resolve()] if lesson_dir is not None else []
    host = PluginHost.load(lesson_dirs=folders)
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
