"""Command line: python -m bot run | serve | chat | train | validate | eval | bench | purge."""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time

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


def cmd_serve(args: argparse.Namespace) -> None:
    """Rasa server and action server in the foreground, until Ctrl+C."""
    from bot.services import Supervisor, build_services
    from bot.training import train

    train()
    supervisor = Supervisor(build_services(load_settings(), quiet=False))
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        supervisor.start()
        print("Sam is running: Rasa on 127.0.0.1:%d, actions on 127.0.0.1:%d" % (
            load_settings().rasa_port, load_settings().action_port), flush=True)
        while True:
            time.sleep(2)
            supervisor.check()
    except KeyboardInterrupt:
        pass
    finally:
        supervisor.stop()


def cmd_run(args: argparse.Namespace) -> None:
    """Everything: servers in the background, then Telegram (with a token) or a terminal chat."""
    from bot.services import Supervisor, build_services
    from bot.training import train

    _quiet_logging()
    settings = load_settings()
    train()
    supervisor = Supervisor(build_services(settings, quiet=True))
    print("Sam start op (ongeveer 20 seconden)...", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        supervisor.start()
        if settings.telegram_token:
            from bot.channels.telegram import run_bridge

            asyncio.run(run_bridge(settings, supervisor=supervisor))
        else:
            asyncio.run(_terminal(settings))
    except KeyboardInterrupt:
        pass
    finally:
        supervisor.stop()


async def _terminal(settings) -> None:
    from bot.channels.terminal import CHANNEL, TerminalChat
    from bot.gateway import Gateway
    from bot.rasa_client import RasaClient
    from bot.store.db import open_db

    from bot.retention import purge

    purge(settings)
    chat = TerminalChat()
    rasa = RasaClient(settings.rasa_url, settings.rasa_timeout)
    gateway = Gateway(CHANNEL, settings, open_db(settings.db_path), rasa, chat.show)
    try:
        await chat.run(gateway)
    finally:
        await rasa.close()


def cmd_chat(args: argparse.Namespace) -> None:
    """A terminal chat against servers that already run (make serve)."""
    _quiet_logging()
    asyncio.run(_terminal(load_settings()))


def cmd_telegram(args: argparse.Namespace) -> None:
    """Only the Telegram bridge, against servers that already run."""
    from bot.channels.telegram import run_bridge

    _quiet_logging()
    asyncio.run(run_bridge(load_settings()))


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
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
