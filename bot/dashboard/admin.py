"""For admins: accounts (add, disable, enable, reset a password) and the audit log (read, CSV).
Nobody can change or delete the audit log through the app: there is no route that could."""
from __future__ import annotations

from datetime import datetime, timezone

from starlette.responses import Response

from bot.dashboard.auth import route
from bot.dashboard.web import ADMIN, Ctx
from bot.store import accounts, audit

AUDIT_PAGE = 200


def _accounts_page(ctx: Ctx, status: int = 200, error: str = "") -> Response:
    return ctx.render("accounts.html", status=status, error=error or None, accounts=accounts.all_accounts(ctx.db),
                      roles=accounts.ROLES, min_password=accounts.MIN_PASSWORD_LENGTH)


def accounts_page(ctx: Ctx) -> Response:
    return _accounts_page(ctx)


def add_account(ctx: Ctx) -> Response:
    name, role = ctx.value("name").strip(), ctx.value("role")
    try:
        accounts.add(ctx.db, name, ctx.value("password"), role)
    except accounts.AccountError as error:
        return _accounts_page(ctx, 400, str(error))
    audit.record(ctx.db, ctx.account, "account_added", detail={"account": name, "role": role})
    return ctx.redirect("/admin/accounts", f"Account {name} is gemaakt.")


def _set_enabled(enabled: bool):
    def handler(ctx: Ctx, name: str) -> Response:
        if not enabled and name.lower() == ctx.account["name"].lower():
            return _accounts_page(ctx, 400, "Je kunt je eigen account niet uitzetten.")
        try:
            changed = accounts.set_enabled(ctx.db, name, enabled)
        except accounts.AccountError as error:
            return _accounts_page(ctx, 404, str(error))
        if changed:
            audit.record(ctx.db, ctx.account, "account_enabled" if enabled else "account_disabled",
                         detail={"account": name})
        return ctx.redirect("/admin/accounts", f"Account {name} staat nu {'aan' if enabled else 'uit'}.")

    return handler


def reset_password(ctx: Ctx, name: str) -> Response:
    try:
        accounts.set_password(ctx.db, name, ctx.value("password"))
    except accounts.AccountError as error:
        return _accounts_page(ctx, 400, str(error))
    audit.record(ctx.db, ctx.account, "password_reset", detail={"account": name})
    return ctx.redirect("/admin/accounts", f"Het wachtwoord van {name} is opnieuw ingesteld.")


def audit_page(ctx: Ctx) -> Response:
    before = ctx.request.query_params.get("before", "")
    rows = audit.entries(ctx.db, AUDIT_PAGE, int(before) if before.isdigit() else None,
                         account=ctx.request.query_params.get("account") or None)
    return ctx.render("audit.html", rows=rows, more=len(rows) == AUDIT_PAGE,
                      account_filter=ctx.request.query_params.get("account", ""))


def audit_csv(ctx: Ctx) -> Response:
    audit.record(ctx.db, ctx.account, "audit_export")
    return csv_response(audit.to_csv(audit.all_entries(ctx.db)), "auditlog")


def csv_response(text: str, name: str) -> Response:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M")
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="sam-{name}-{stamp}.csv"'})


def routes() -> list:
    return [
        route("/admin/accounts", accounts_page, ADMIN),
        route("/admin/accounts/add", add_account, ADMIN, methods=["POST"]),
        route("/admin/accounts/{name}/disable", _set_enabled(False), ADMIN, methods=["POST"]),
        route("/admin/accounts/{name}/enable", _set_enabled(True), ADMIN, methods=["POST"]),
        route("/admin/accounts/{name}/reset-password", reset_password, ADMIN, methods=["POST"]),
        route("/admin/audit", audit_page, ADMIN),
        route("/admin/audit.csv", audit_csv, ADMIN),
    ]
