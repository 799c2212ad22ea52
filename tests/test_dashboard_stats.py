"""Statistics for admins (anonymous weekly counts, "<5" for small numbers, CSV) and the audit
log's page and CSV export."""
# ruff: noqa: F811 - the shared fixtures are imported from tests/test_dashboard.py by name
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

from bot.dashboard import stats
from bot.store import audit
from tests.test_dashboard import (  # noqa: F401 - fixtures
    _fast_hashing,
    app,
    conversation,
    escalate,
    logged_in,
    post,
    quick_content,
    settings,
    store,
)
from tests.test_retention import make_tracker_db

NOW = datetime.now(timezone.utc)


def add_user_event(tracker, sender, intent, moment=NOW):
    tracker.execute("INSERT INTO events (sender_id, type_name, timestamp, intent_name, data) "
                    "VALUES (?, 'user', ?, ?, '{}')", [sender, moment.timestamp(), intent])


def rows_of(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_small_counts_are_shown_as_less_than_five():
    assert [stats.shown(n) for n in (0, 1, 4, 5, 12)] == ["0", "<5", "<5", "5", "12"]


def test_weekly_statistics(app, store, settings):
    tracker = make_tracker_db(settings.tracker_db_path)
    for n in range(7):
        add_user_event(tracker, f"s{n}", "ask_sexting")
    add_user_event(tracker, "s1", "ask_grooming")
    add_user_event(tracker, "s1", "greet", NOW - timedelta(days=14))
    client = logged_in(app, store, "anouk", "admin")
    ids = [escalate(store, conversation(store, f"c{n:031d}"), "high", "grooming") for n in range(6)]
    escalate(store, conversation(store, "d" * 32), "acute", "selfharm")
    for case_id in ids:
        post(client, f"/cases/{case_id}/claim")
        post(client, f"/cases/{case_id}/resolve", {"outcome": "doorverwezen"})
    store.execute("INSERT INTO escalation_counts (week, category, severity, outcome, count) "
                  "VALUES ('2025-W01', 'abuse', 'high', 'geen_zorg', 9)")
    result = stats.table(stats.compute(store, settings.tracker_db_path, settings.timezone))
    week = result["weeks"][0]
    topics = dict(result["topics"])
    assert topics["ask_sexting"][0] == "7" and topics["ask_grooming"][0] == "<5"
    categories = dict(result["categories"])
    assert categories["grooming"][0] == "6" and categories["selfharm"][0] == "<5"
    assert categories["abuse"][result["weeks"].index("2025-W01")] == "9"
    outcomes = dict(result["outcomes"])
    assert outcomes["doorverwezen"][0] == "6" and outcomes["open"][0] == "<5"
    claim = {w: (count, median) for w, count, median in result["claim"]}
    assert claim[week][0] == "6" and claim[week][1].endswith("min")

    page = client.get("/admin/stats")
    assert page.status_code == 200 and "&lt;5" in page.text and "Doorverwezen" in page.text
    export = client.get("/admin/stats.csv")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    exported = rows_of(export.text)
    assert {"week": week, "soort": "topics", "wat": "ask_grooming", "aantal": "<5"} in exported
    assert {"week": week, "soort": "categories", "wat": "grooming", "aantal": "6"} in exported
    assert all(row["aantal"] not in ("1", "2", "3", "4") for row in exported)
    assert not any("c0000" in value for row in exported for value in row.values())  # no pseudonyms
    assert store.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'stats_export'").fetchone()[0] == 1


def test_stats_without_data(app, store):
    client = logged_in(app, store, "anouk", "admin")
    assert 'id="no-stats"' in client.get("/admin/stats").text
    assert rows_of(client.get("/admin/stats.csv").text) == []


def test_the_audit_log_page_and_csv(app, store):
    admin = logged_in(app, store, "anouk", "admin")
    moderator = logged_in(app, store)
    case_id = escalate(store, conversation(store))
    moderator.get(f"/cases/{case_id}")
    post(moderator, f"/cases/{case_id}/claim")
    post(moderator, f"/cases/{case_id}/note", {"text": "GEHEIME-NOTITIE"})
    page = admin.get("/admin/audit").text
    assert "Gesprek bekeken" in page and "Opgepakt" in page and "GEHEIME-NOTITIE" not in page
    assert 'data-action="claim"' in page
    only_mila = admin.get("/admin/audit?account=mila").text
    assert 'data-action="claim"' in only_mila and 'data-action="login"' in only_mila
    export = admin.get("/admin/audit.csv")
    rows = rows_of(export.text)
    assert [r["action"] for r in rows if r["account_name"] == "mila"] == ["login", "view", "claim", "note"]
    assert all(r["at"] for r in rows) and "GEHEIME-NOTITIE" not in export.text
    assert store.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'audit_export'").fetchone()[0] == 1
    # nothing in the app changes or deletes it: no route for it, and the database refuses anyway
    assert admin.post("/admin/audit", data={}).status_code in (404, 405)


def test_csv_cells_cannot_become_formulas():
    text = audit.to_csv([{"id": 1, "at": "x", "account_name": "=HYPERLINK(\"http://x\")", "action": "login",
                          "case_id": None, "pseudonym": None, "detail": "+1"}])
    row = rows_of(text)[0]
    assert row["account_name"].startswith("'=") and row["detail"] == "'+1"
