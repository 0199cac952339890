"""The `aiport` command: `serve`, `models`, and the admin commands."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import SettingsError

from aiport import __version__, cli_admin, logs, master_key
from aiport.backends.local.engine import EngineConfigError
from aiport.routing.config import ConfigError
from aiport.settings import Settings, one_line

SIGPIPE_STATUS = 128 + signal.SIGPIPE  # 141: what a shell reports for a tool SIGPIPE ended


def main(argv: Sequence[str] | None = None) -> None:
    try:
        try:
            _main(argv)
        finally:
            sys.stdout.flush()  # here, not at exit, where a failure would only be printed
    except BrokenPipeError:
        # Whoever read our output has gone (`aiport usage --json | head -1`): stop quietly
        # as a Unix tool would, with the status of a SIGPIPE; what is still buffered goes
        # to /dev/null, so that Python's own flush at exit does not complain either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(SIGPIPE_STATUS)


def _main(argv: Sequence[str] | None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        sys.exit(2)
    try:
        _run(handler, args)
    except (ConfigError, EngineConfigError) as exc:
        # A mistake in aiport.yaml: its message, not a traceback.
        sys.exit(f"aiport: {exc}")
    except ValidationError as exc:  # a setting from the environment or the command line
        sys.exit(f"aiport: setting {one_line(exc)}")
    except SettingsError as exc:  # an environment variable that is not the JSON it must be
        sys.exit(f'aiport: {exc} (a JSON list, such as ["https://app.example"])')


def _run(handler: Any, args: argparse.Namespace) -> None:
    if handler.__module__ == cli_admin.__name__:
        # The admin commands open the database (and Redis, to tell other instances).
        settings = load_settings(args)
        url = cli_admin.database_url_for(settings.database_url, settings.data_dir)
        try:
            code = handler(args, url, settings.redis_url)
        except BrokenPipeError:
            raise  # whoever read the output left (`main` ends quietly)
        except OSError as exc:  # unreachable, or a data directory it cannot create
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            where = f": {exc.filename}" if exc.filename else ""
            sys.exit(f"aiport: the database could not be opened: {reason}{where}")
        sys.exit(code)
    handler(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aiport", description=__doc__)
    parser.add_argument("--version", action="version", version=f"aiport {__version__}")
    commands = parser.add_subparsers(title="commands")

    serve = commands.add_parser("serve", help="run the OpenAI-compatible server")
    serve.add_argument("--host", help="interface (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000)")
    serve.add_argument("--config", type=Path, help="aiport.yaml (default ./aiport.yaml if present)")
    serve.add_argument("--workers", type=int, help="processes sharing the port (default 1)")
    serve.add_argument("--metrics-port", type=int, help="also serve /metrics on 127.0.0.1:PORT")
    serve.set_defaults(handler=_serve)

    models = commands.add_parser("models", help="list the model names this config serves")
    models.add_argument("--config", type=Path)
    models.set_defaults(handler=_models)

    cli_admin.add_cli_commands(commands)
    for name in ("keys", "usage", "db"):
        commands.choices[name].add_argument("--config", type=Path, help=argparse.SUPPRESS)
    return parser


def load_settings(args: argparse.Namespace) -> Settings:
    overrides = {
        name: getattr(args, name)
        for name in ("host", "port", "config", "workers", "metrics_port")
        if getattr(args, name, None) is not None
    }
    settings = Settings(**overrides)
    return settings.load_file()


def _serve(args: argparse.Namespace) -> None:
    settings = load_settings(args)
    logs.configure(settings.log_level)
    configured = settings.master_key.get_secret_value() if settings.master_key else None
    try:
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        key, created = master_key.load_or_create(settings.data_dir, configured)
    except OSError as exc:
        sys.exit(f"aiport: cannot use the data directory {settings.data_dir}: {exc.strerror}")
    if created:
        path = settings.data_dir / master_key.FILE_NAME
        print(f"aiport: generated a master key, stored in {path} (mode 0600).")
        print(f"aiport: it is shown this once: {key}", flush=True)
    from aiport.server import CannotListen, run

    try:
        code = run(settings, key, _say)  # "serving on" once it listens
    except CannotListen as exc:
        sys.exit(f"aiport: {exc}")
    sys.exit(code)


def _say(line: str) -> None:
    print(f"aiport: {line}", flush=True)


def _models(args: argparse.Namespace) -> None:
    from aiport.backends.registry import build_local_engines, build_router

    settings = load_settings(args)
    router, _ = build_router(settings, build_local_engines(settings))
    for model in router.listed():
        print(f"{model.id:32} {model.owned_by}")
    default = router.default
    if default is not None:
        print(f"{'(any other name)':32} {default.name}")
