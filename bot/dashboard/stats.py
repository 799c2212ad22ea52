"""Statistics for admins: per week, what young people asked about (intent), escalations by risk
category and by outcome, and how long a case waited before someone picked it up. Anonymous
aggregates only; a count below 5 is shown as "<5" (small numbers can point at one young person).
No figures per moderator: the dashboard does not measure people."""
from __future__ import annotations

import csv
import io
import logging
import sqlite3
import statistics
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional

from sqlite_utils import Database
from starlette.responses import Response

from bot.dashboard.auth import route
from bot.dashboard.web import ADMIN, Ctx, parse_time
from bot.store import audit
from bot.store.escalations import iso_week

logger = logging.getLogger(__name__)
SMALL = 5
MAX_WEEKS = 26
KINDS = {"topics": "Onderwerpen (wat jongeren vroegen)", "categories": "Meldingen per risicosoort",
         "outcomes": "Meldingen per uitkomst", "claim": "Tijd tot oppakken"}


def shown(count: Optional[int]) -> str:
    if not count:
        return "0"
    return str(count) if count >= SMALL else f"<{SMALL}"


def _topics(tracker_path: Path, tz: str) -> Dict[str, Counter]:
    out: Dict[str, Counter] = defaultdict(Counter)
    if not tracker_path.exists():
        return out
    try:
        conn = sqlite3.connect(str(tracker_path), timeout=5)
        try:
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").fetchone():
                return out
            rows = conn.execute("SELECT intent_name, timestamp FROM events WHERE type_name = 'user' "
                                "AND intent_name IS NOT NULL AND intent_name != ''").fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        logger.exception("could not read the tracker database for statistics")
        return out
    for intent, timestamp in rows:
        week = iso_week(timestamp, tz)
        if week:
            out[week][intent] += 1
    return out


def compute(db: Database, tracker_path: Path, tz: str) -> Dict[str, Dict[str, Counter]]:
    """{kind: {week: Counter(key -> count)}}; 'claim' holds minutes as a list under key 'minutes'."""
    categories: Dict[str, Counter] = defaultdict(Counter)
    outcomes: Dict[str, Counter] = defaultdict(Counter)
    for row in db.query("SELECT created_at, category, status, outcome FROM escalations"):
        week = iso_week(row["created_at"], tz)
        categories[week][row["category"] or "onbekend"] += 1
        outcomes[week][(row["outcome"] or "open") if row["status"] == "closed" else "open"] += 1
    for row in db.query("SELECT week, category, outcome, count FROM escalation_counts"):
        categories[row["week"]][row["category"] or "onbekend"] += row["count"]
        outcomes[row["week"]][row["outcome"] or "onbekend"] += row["count"]
    claim: Dict[str, Dict[str, Any]] = defaultdict(lambda: {"minutes": []})
    for row in db.query("SELECT created_at, first_claimed_at FROM cases WHERE first_claimed_at IS NOT NULL"):
        start, claimed = parse_time(row["created_at"]), parse_time(row["first_claimed_at"])
        if start and claimed:
            claim[iso_week(row["created_at"], tz)]["minutes"].append(max(0.0, (claimed - start).total_seconds() / 60))
    return {"topics": _topics(tracker_path, tz), "categories": categories, "outcomes": outcomes, "claim": claim}


def table(data: Dict[str, Dict[str, Any]]) -> Dict[str, Any]:
    """Weeks (newest first) and, per kind, rows of (key, [shown value per week])."""
    weeks = sorted({w for kind in data.values() for w in kind if w}, reverse=True)[:MAX_WEEKS]
    out: Dict[str, Any] = {"weeks": weeks}
    for kind in ("topics", "categories", "outcomes"):
        keys = sorted({k for w in weeks for k in data[kind].get(w, {})})
        out[kind] = [(key, [shown(data[kind].get(w, {}).get(key, 0)) for w in weeks]) for key in keys]
    claim_rows = []
    for w in weeks:
        minutes = data["claim"].get(w, {}).get("minutes", []) if w in data["claim"] else []
        median = f"{statistics.median(minutes):.0f} min" if len(minutes) >= SMALL else "-"
        claim_rows.append((w, shown(len(minutes)), median))
    out["claim"] = claim_rows
    return out


def to_csv(result: Dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["week", "soort", "wat", "aantal"])
    for kind in ("topics", "categories", "outcomes"):
        for key, values in result[kind]:
            for week, value in zip(result["weeks"], values, strict=True):
                if value != "0":
                    writer.writerow([week, kind, audit.csv_safe(key), value])
    for week, count, median in result["claim"]:
        if count != "0":
            writer.writerow([week, "claim", "meldingen_opgepakt", count])
            writer.writerow([week, "claim", "mediaan_tijd_tot_oppakken", median])
    return out.getvalue()


def _result(ctx: Ctx) -> Dict[str, Any]:
    return table(compute(ctx.db, ctx.settings.tracker_db_path, ctx.settings.timezone))


def stats_page(ctx: Ctx) -> Response:
    return ctx.render("stats.html", result=_result(ctx), kinds=KINDS, small=SMALL)


def stats_csv(ctx: Ctx) -> Response:
    from bot.dashboard.admin import csv_response

    audit.record(ctx.db, ctx.account, "stats_export")
    return csv_response(to_csv(_result(ctx)), "statistieken")


def routes() -> List[Any]:
    return [route("/admin/stats", stats_page, ADMIN), route("/admin/stats.csv", stats_csv, ADMIN)]
