"""Command line: python -m bot run | serve | chat | train | validate | eval | bench | purge | dashboard | moderators
| content."""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from bot.config import apply_tf_environment, load_dotenv, load_settings

load_dotenv()
apply_tf_environment()


def _quiet_logging() -> None:
    import os

    level = os.environ.get("SAM_LOG_LEVEL", "WARNING").upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs request URLs at INFO, and a Telegram URL contains the bot token.
    for name in ("httpx", "httpcore", "telegram", "apscheduler"):
        logging.getLogger(name).setLevel(logging.WARNING)


def cmd_train(args: argparse.Namespace) -> None:
    from bot.training import train

    train(force=args.force)


def _start_services(settings, quiet: bool):
    """The supervisor of Rasa and the action server, and what its background thread runs:
    train when needed, start, restart what dies."""
    from bot.services import Supervisor, build_services
    from bot.training import train

    supervisor = Supervisor(build_services(settings, quiet=quiet, dashboard=True))
    return supervisor, lambda: supervisor.run(prepare=train)


def _run(settings, channel) -> None:
    from bot.app import serve

    supervisor, supervise = _start_services(settings, quiet=channel is not None)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        asyncio.run(serve(settings, channel, supervise=supervise))
    except KeyboardInterrupt:
        pass
    finally:
        supervisor.stop()


def cmd_serve(args: argparse.Namespace) -> None:
    """Rasa server and action server in the foreground (with the retention schedule), until Ctrl+C."""
    _quiet_logging()
    settings = load_settings()
    print(f"Sam start: Rasa op 127.0.0.1:{settings.rasa_port}, acties op 127.0.0.1:{settings.action_port}",
          flush=True)
    _run(settings, None)


def cmd_run(args: argparse.Namespace) -> None:
    """Everything: the channel answers at once (fail-safe), Rasa and actions start beside it."""
    _quiet_logging()
    settings = load_settings()
    channel = "telegram" if settings.telegram_token else "terminal"
    print("Sam start op. %s antwoordt meteen; Rasa is over ongeveer 30 seconden klaar "
          "(langer als het model eerst moet leren)." % ("Telegram" if channel == "telegram" else "De chat"),
          flush=True)
    _first_account_hint(settings)
    _run(settings, channel)


def _first_account_hint(settings) -> None:
    """The dashboard starts with Sam; without any account nobody can log in: say how to make one."""
    try:
        from bot.dashboard.app import first_account_hint

        hint = first_account_hint(settings)
    except Exception:  # noqa: BLE001 - a hint must never stop Sam from starting
        return
    print(f"Dashboard: {settings.dashboard_url}" + (f"\n{hint}" if hint else ""), flush=True)


def cmd_dashboard(args: argparse.Namespace) -> None:
    """Only the moderators' dashboard, in the foreground (make run starts it with the rest)."""
    from bot.dashboard.app import main as dashboard

    _quiet_logging()
    _first_account_hint(load_settings())
    dashboard()


def cmd_moderators(args: argparse.Namespace) -> None:
    from bot.dashboard.cli import run

    sys.exit(run(args))


def cmd_chat(args: argparse.Namespace) -> None:
    """A terminal chat against servers that already run (make serve)."""
    from bot.app import serve

    _quiet_logging()
    asyncio.run(serve(load_settings(), "terminal"))


def cmd_telegram(args: argparse.Namespace) -> None:
    """Only the Telegram channel and its runner, against servers that already run."""
    from bot.app import serve

    _quiet_logging()
    try:
        asyncio.run(serve(load_settings(), "telegram"))
    except KeyboardInterrupt:
        pass


def cmd_validate(args: argparse.Namespace) -> None:
    from bot.evaluation import validate

    sys.exit(0 if validate() else 1)


def cmd_eval(args: argparse.Namespace) -> None:
    from bot.evaluation import run_all

    run_all(folds=args.folds)


def cmd_bench(args: argparse.Namespace) -> None:
    from bot.benchmark import run

    run(messages=args.messages)


def cmd_purge(args: argparse.Namespace) -> None:
    from bot.retention import purge

    print(purge(load_settings()))


def cmd_content(args: argparse.Namespace) -> None:
    """The editors' check of content/ (and the stories and example questions), the preview and the report."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # library deprecation notes are no news for an editor;
        warnings.showwarning = lambda *_, **__: None  # sanic re-enables them on import (restored on exit)
        from bot import content_check

        if args.content_command == "check":
            sys.exit(content_check.main_check(rasa=args.rasa, root=args.root))
        if args.content_command == "preview":
            sys.exit(content_check.main_preview(args.topic, category=args.category, root=args.root))
        path = content_check.write_report(before=args.before)
        print(f"Leesbaarheid van elke tekst: {path}")


def add_content_parser(commands) -> None:
    content = commands.add_parser("content", help="check and preview what Sam says (content/), in Dutch")
    verbs = content.add_subparsers(dest="content_command", required=True)
    check = verbs.add_parser("check", help="check content/, bot/stories/ and bot/data/nlu/; exit 1 on errors")
    check.add_argument("--rasa", action="store_true", help="also run `rasa data validate` (slow), in Dutch")
    check.add_argument("--root", type=Path, help="check this copy of content/ instead")
    preview = verbs.add_parser("preview", help="how an answer looks to a young person, buttons and helplines")
    preview.add_argument("topic", help="a response name (utter_ask_law) or an intent (ask_law, disclose_grooming)")
    preview.add_argument("--category", help="the risk category whose helplines to show (e.g. selfharm)")
    preview.add_argument("--root", type=Path, help="preview from this copy of content/ instead")
    report = verbs.add_parser("report", help="write the readability of every text to reports/content.md")
    report.add_argument("--before", type=Path, help="an older copy of content/ to compare with")
    content.set_defaults(func=cmd_content)


NO_TENSORFLOW = {"run", "chat", "telegram", "dashboard", "moderators", "purge", "serve", "content"}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train the model when missing or outdated")
    train.add_argument("--force", action="store_true")
    train.set_defaults(func=cmd_train)
    commands.add_parser("serve", help="Rasa + action server in the foreground").set_defaults(func=cmd_serve)
    commands.add_parser("run", help="servers + Telegram or terminal chat").set_defaults(func=cmd_run)
    commands.add_parser("chat", help="terminal chat against running servers").set_defaults(func=cmd_chat)
    commands.add_parser("telegram", help="Telegram bridge against running servers").set_defaults(func=cmd_telegram)
    commands.add_parser("validate", help="rasa data validate + content checks").set_defaults(func=cmd_validate)
    evaluate = commands.add_parser("eval", help="write evaluation reports to reports/")
    evaluate.add_argument("--folds", type=int, default=5)
    evaluate.set_defaults(func=cmd_eval)
    bench = commands.add_parser("bench", help="REST round-trip latency")
    bench.add_argument("--messages", type=int, default=200)
    bench.set_defaults(func=cmd_bench)
    commands.add_parser("purge", help="delete data older than the retention limit").set_defaults(func=cmd_purge)
    commands.add_parser("dashboard", help="the moderators' dashboard alone").set_defaults(func=cmd_dashboard)
    from bot.dashboard.cli import add_parser as add_moderators

    add_moderators(commands).set_defaults(func=cmd_moderators)
    add_content_parser(commands)
    args = parser.parse_args(argv)
    if args.command in NO_TENSORFLOW:
        # spaCy's thinc imports TensorFlow when it is installed (it is, for Rasa's own processes),
        # which costs seconds before the fail-safe can answer. These commands never need it.
        sys.modules.setdefault("tensorflow", None)
    args.func(args)


if __name__ == "__main__":
    main()
