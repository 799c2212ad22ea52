"""`python -m bot moderators add|list|disable|enable|reset-password`: dashboard accounts from the
command line. A password is read from standard input (asked twice, hidden, on a terminal), never
from the command line, where other users could see it in the process list."""
from __future__ import annotations

import argparse
import getpass
import sys
from typing import Optional, TextIO

from bot.config import load_settings
from bot.store import accounts, audit
from bot.store.db import open_db

CLI_ACCOUNT = {"id": None, "name": "commandoregel"}


def read_password(stdin: TextIO = sys.stdin) -> str:
    if stdin.isatty():
        first = getpass.getpass("Wachtwoord: ")
        if getpass.getpass("Nog een keer: ") != first:
            raise accounts.AccountError("De twee wachtwoorden zijn niet gelijk.")
        return first
    return stdin.readline().rstrip("\r\n")


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser("moderators",
                                 help="dashboard accounts: add | list | disable | enable | reset-password")
    sub = parser.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="new account; the password comes from standard input")
    add.add_argument("name")
    add.add_argument("--role", choices=accounts.ROLES, default="moderator")
    sub.add_parser("list", help="all accounts")
    for action, text in (("disable", "switch an account off (its sessions end)"), ("enable", "switch it on again"),
                         ("reset-password", "new password from standard input (its sessions end)")):
        sub.add_parser(action, help=text).add_argument("name")
    return parser


def run(args: argparse.Namespace, stdin: Optional[TextIO] = None, out: TextIO = sys.stdout) -> int:
    db = open_db(load_settings().db_path)
    try:
        if args.action == "list":
            rows = accounts.all_accounts(db)
            if not rows:
                print("Er zijn nog geen accounts.", file=out)
            for row in rows:
                print(f"{row['name']:<24} {row['role']:<10} {'aan' if row['enabled'] else 'UIT':<4} "
                      f"{'in dienst' if row['on_duty'] else ''}", file=out)
        elif args.action == "add":
            accounts.add(db, args.name, read_password(stdin or sys.stdin), args.role)
            audit.record(db, CLI_ACCOUNT, "account_added", detail={"account": args.name.strip(), "role": args.role})
            print(f"Account {args.name.strip()} ({args.role}) is gemaakt.", file=out)
        elif args.action in ("disable", "enable"):
            enabled = args.action == "enable"
            if accounts.set_enabled(db, args.name, enabled):
                audit.record(db, CLI_ACCOUNT, f"account_{args.action}d", detail={"account": args.name})
            print(f"Account {args.name} staat {'aan' if enabled else 'uit'}.", file=out)
        elif args.action == "reset-password":
            accounts.set_password(db, args.name, read_password(stdin or sys.stdin))
            audit.record(db, CLI_ACCOUNT, "password_reset", detail={"account": args.name})
            print(f"Het wachtwoord van {args.name} is opnieuw ingesteld.", file=out)
    except accounts.AccountError as error:
        print(f"Dat lukt niet: {error}", file=sys.stderr)
        return 1
    finally:
        db.conn.close()
    return 0
