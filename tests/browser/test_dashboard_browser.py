"""The moderators' dashboard in a real browser (Debian's Chromium through Playwright).

Each test acts as a moderator would (log in, open a case, press the buttons) and checks what the
browser shows by ids and data attributes, and what landed in SQLite. What the young person writes
comes from "another process": a separate SQLite connection writing the way the gateway and the
action server do (tests/browser/conftest.py). Live updates are awaited, never slept for.
"""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import (
    ADMIN,
    LIVE_TIMEOUT_MS,
    LOGIN_URL,
    MODERATOR,
    PASSWORD,
    SECOND_MODERATOR,
    login,
)

pytestmark = pytest.mark.browser

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

SESSION_COOKIE = "sam_session"
REPLY_PREFIX = "Hulpverlener: "
TAKEOVER_TIMEOUT_MS = 60_000  # the first takeover may wait for content/ to load (spaCy import)
PUBLIC = {"/login"}  # besides /static/ (a Mount): the only pages that answer without a session
PATH_PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")
XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "[klik hier](javascript:alert(1))",
]


def case_row(page, case):
    return page.locator(f'#queue-rows tr[data-case-id="{case.case_id}"]')


def young_entries(page):
    return page.locator('#transcript li[data-who="jongere"]')


def mark_page(page) -> None:
    """A value that lives only as long as this document: gone after any reload or navigation."""
    page.evaluate("window.__samNoReload = 'still-here'")


def assert_not_reloaded(page) -> None:
    assert page.evaluate("window.__samNoReload") == "still-here", "the page was reloaded"


def open_case(page, case) -> None:
    page.goto(f"/cases/{case.case_id}")
    expect(page.locator("#case-code")).to_have_attribute("data-case-id", str(case.case_id))


def claim(page) -> None:
    page.locator("#claim").click()
    expect(page.locator("#claimed-by")).to_have_text(re.compile(MODERATOR))


# --- logging in --------------------------------------------------------------------------------
def test_login_opens_the_queue(page):
    login(page, MODERATOR)
    expect(page).to_have_url(re.compile(r"/queue$"))
    expect(page.locator("#account-name")).to_have_text(MODERATOR)
    expect(page.locator("table#queue")).to_be_visible()
    assert any(c["name"] == SESSION_COOKIE and c["httpOnly"] for c in page.context.cookies())


def test_wrong_password_is_refused(page, dashboard):
    page.goto("/login")
    page.locator("#name").fill(SECOND_MODERATOR)
    page.locator("#password").fill(PASSWORD + "-fout")
    with page.expect_navigation() as navigation:
        page.locator("#login").click()
    assert navigation.value.status == 401
    expect(page).to_have_url(LOGIN_URL)
    expect(page.locator("#error")).to_be_visible()
    expect(page.locator("#password")).to_have_value("")  # the password is never sent back
    assert not any(c["name"] == SESSION_COOKIE for c in page.context.cookies())
    page.goto("/queue")
    expect(page).to_have_url(re.compile(r"/login\?next=/queue$"))
    failed = dashboard.query("SELECT detail FROM audit_log WHERE action = 'login_failed'")
    assert failed and all(PASSWORD not in (row["detail"] or "") for row in failed)


def test_every_page_needs_login(page, dashboard):
    """Every route the app has (except /login and /static) refuses a browser without a session:
    a page redirects to the login page, a live-update fragment answers 401, a form post does
    nothing. After logging in, the moderator lands on the page they asked for."""
    from starlette.routing import Route

    case = dashboard.request_person()
    routes = [r for r in dashboard.app.routes if isinstance(r, Route) and r.path not in PUBLIC]
    paths = {r.path for r in routes}
    assert {"/", "/queue", "/cases/{case_id:int}"} <= paths, paths
    known = {"case_id": str(case.case_id), "name": SECOND_MODERATOR}
    for route in routes:
        url = PATH_PARAM.sub(lambda m: known.get(m[1], "1" if m[2] == "int" else "x"), route.path)
        if "GET" in (route.methods or ()):
            response = page.goto(url)
            if response.status == 401:  # a fragment for the page's own live updates
                assert page.locator("#queue-rows, #transcript, [data-case-id]").count() == 0
                assert case.pseudonym not in page.content()
            else:
                expect(page).to_have_url(LOGIN_URL, timeout=2_000)
                expect(page.locator("#login-form")).to_be_visible()
        if "POST" in (route.methods or ()):
            response = page.request.post(url, form={"outcome": "geen_zorg", "text": "x", "to": MODERATOR},
                                         max_redirects=0)
            assert response.status in (303, 401, 403), (url, response.status)
            if response.status == 303:
                assert re.search(r"/login(\?|$)", response.headers["location"]), url
    still = dashboard.query("SELECT status, claimed_by FROM cases WHERE id = ?", [case.case_id])[0]
    assert still == {"status": "open", "claimed_by": None}
    assert not dashboard.query("SELECT 1 FROM moderator_messages WHERE case_id = ?", [case.case_id])
    # Not even looked at: the audit log has only the young person's request.
    assert dashboard.query("SELECT action FROM audit_log WHERE case_id = ?", [case.case_id]) == [{"action": "request"}]
    assert dashboard.query("SELECT COUNT(*) AS n FROM accounts WHERE enabled = 0")[0]["n"] == 0

    page.goto(f"/cases/{case.case_id}")
    expect(page).to_have_url(re.compile(rf"/login\?next=/cases/{case.case_id}$"))
    login(page, MODERATOR)
    expect(page).to_have_url(re.compile(rf"/cases/{case.case_id}$"))


def test_admin_pages_need_the_admin_role(login_as):
    """The admin account was made with the command line (`python -m bot moderators add`)."""
    admin = login_as(ADMIN)
    expect(admin.locator("#account-name")).to_have_text(ADMIN)
    expect(admin.locator("#nav-accounts")).to_be_visible()
    assert admin.goto("/admin/accounts").status == 200

    moderator = login_as(MODERATOR)
    expect(moderator.locator("#nav-accounts")).to_have_count(0)
    assert moderator.goto("/admin/accounts").status == 403


# --- untrusted text ----------------------------------------------------------------------------
def test_youth_message_with_markup_is_shown_as_text(login_as, dialogs, dashboard):
    text = "help " + " en ".join(XSS_PAYLOADS)
    case = dashboard.escalate(text, matched=XSS_PAYLOADS[:2])
    page = login_as(MODERATOR)

    # The queue shows no message text, only what was recognised in it (the matched terms, here
    # the markup itself): escaped on the page and after a live update of its rows.
    row = case_row(page, case)
    expect(row).to_be_visible()
    with page.expect_response(lambda r: r.url.endswith("/queue/rows"), timeout=LIVE_TIMEOUT_MS):
        pass
    for payload in XSS_PAYLOADS[:2]:
        expect(row).to_contain_text(payload)
    assert row.locator("img, script, [onerror]").count() == 0

    # The conversation page: the message is one text, character for character, also after the
    # transcript's live update replaced its HTML.
    open_case(page, case)
    message = young_entries(page).filter(has_text="help").locator(".text")
    expect(message).to_have_text(text)
    with page.expect_response(lambda r: r.url.endswith(f"/cases/{case.case_id}/transcript"),
                              timeout=LIVE_TIMEOUT_MS):
        pass
    expect(message).to_have_text(text)
    for where in ("#transcript", "#queue-rows", "#triggers"):
        assert page.locator(f"{where} img, {where} script, {where} [onerror]").count() == 0
    assert page.locator("a[href^='javascript:' i]").count() == 0
    scripts = page.locator("script").evaluate_all("s => s.map(e => [e.getAttribute('src'), e.textContent])")
    assert scripts and all(src and src.startswith("/static/") and not body for src, body in scripts), scripts
    page.wait_for_load_state("load")
    assert dialogs == []


WATCH_POLICY = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", e => window.__violations.push(e.effectiveDirective));
document.addEventListener("error", e => {
  if (e.target && e.target.id === "bad-img") { window.__imgFailed = true; }
}, true);
"""


def test_content_security_policy_blocks_inline_script(login_as, dialogs, dashboard):
    """The header forbids inline script; injected into the real page (with its real headers),
    an inline <script>, an event handler and a javascript: link do not run, while the page's
    own script (/static) does."""
    case = dashboard.escalate("hij wil dat ik een foto stuur")
    page = login_as(MODERATOR)
    response = page.goto(f"/cases/{case.case_id}")
    csp = response.headers.get("content-security-policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    script_src = directives.get("script-src", directives.get("default-src"))
    assert script_src, csp
    assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"} & set(script_src), csp
    assert directives.get("object-src") == ["'none'"], csp

    injected = ('<script>window.__inlineRan = true;</script>'
                '<img id="bad-img" src="/static/does-not-exist.png" onerror="window.__handlerRan = true">'
                '<a id="bad-link" href="javascript:window.__linkRan = true">x</a>')

    def inject(route):
        original = route.fetch()
        body = original.text().replace("</main>", injected + "</main>")
        route.fulfill(response=original, body=body)

    # Playwright's own init script is not subject to the page's policy: it records what the
    # policy refused, and when the image failed (its error event reaches this capturing listener
    # just before the injected handler would run).
    page.add_init_script(WATCH_POLICY)
    page.route(f"**/cases/{case.case_id}", inject)
    with page.expect_response(lambda r: r.url.endswith(f"/cases/{case.case_id}/transcript"),
                              timeout=LIVE_TIMEOUT_MS):
        page.reload()  # the page's own script runs: it polls the transcript
    page.wait_for_function("() => window.__imgFailed === true")
    before = len(page.evaluate("window.__violations"))
    page.locator("#bad-link").click()
    page.wait_for_function(f"() => window.__linkRan === true || window.__violations.length > {before}")
    assert page.evaluate("[window.__inlineRan, window.__handlerRan, window.__linkRan]") == [None, None, None]
    violations = page.evaluate("window.__violations")
    assert len(violations) >= 3 and all(v.startswith("script-src") for v in violations), violations
    assert dialogs == []


# --- the queue lives ---------------------------------------------------------------------------
def test_queue_updates_without_reload_and_announces_an_acute_case(login_as, dashboard):
    page = login_as(MODERATOR)
    expect(page.locator("#queue-live-acute")).to_have_attribute("aria-live", "assertive")
    expect(page.locator("#queue-live")).to_have_attribute("aria-live", "polite")
    mark_page(page)

    high = dashboard.escalate("hij zegt dat ik het aan niemand mag vertellen", severity="high")
    expect(case_row(page, high)).to_have_attribute("data-severity", "high", timeout=LIVE_TIMEOUT_MS)
    expect(page.locator("#queue-live")).not_to_be_empty()
    expect(page.locator("#queue-live-acute")).to_be_empty()
    assert_not_reloaded(page)

    acute = dashboard.escalate("ik wil niet meer leven", category="selfharm", severity="acute")
    row = case_row(page, acute)
    expect(row).to_have_attribute("data-severity", "acute", timeout=LIVE_TIMEOUT_MS)
    expect(page.locator("#queue-live-acute")).to_contain_text(acute.pseudonym)
    expect(page.locator("#acute-banner")).to_be_visible()
    # Most severe first: the acute case stands above the high one.
    ids = page.locator("#queue-rows tr[data-case-id]").evaluate_all(
        "rows => rows.map(r => r.getAttribute('data-case-id'))")
    assert ids.index(str(acute.case_id)) < ids.index(str(high.case_id))
    assert_not_reloaded(page)


# --- a live chat -------------------------------------------------------------------------------
def test_take_over_reply_held_message_and_hand_back(login_as, dashboard):
    case = dashboard.escalate("hij heeft mijn foto en wil geld", category="sextortion")
    page = login_as(MODERATOR)
    open_case(page, case)
    claim(page)
    page.locator("#takeover").click()
    expect(page.locator("#takeover-status")).to_have_attribute("data-taken-over", "1", timeout=TAKEOVER_TIMEOUT_MS)
    assert dashboard.query("SELECT paused FROM conversations WHERE id = ?", [case.conversation_id])[0]["paused"] == 1

    words = "Ik ben er. Je hoeft niet te betalen."
    page.locator("#reply-text").fill(words)
    page.locator("#reply").click()
    expect(page.locator('#transcript li[data-who="hulpverlener"]')).to_contain_text(words)
    sent = dashboard.query("SELECT channel, text, status FROM outbox WHERE conversation_id = ? "
                           "AND origin = 'moderator'", [case.conversation_id])
    assert sent == [{"channel": "telegram", "text": REPLY_PREFIX + words, "status": "pending"}]

    # The young person writes while the chat is taken over: the gateway holds it for the moderator.
    mark_page(page)
    dashboard.young_message(case.conversation_id, "oke dankje. wat moet ik nu doen", held=True)
    expect(young_entries(page).filter(has_text="wat moet ik nu doen")).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(page.locator("#transcript-live")).not_to_be_empty()
    assert_not_reloaded(page)

    page.locator("#handback").click()
    expect(page.locator("#takeover-status")).to_have_attribute("data-taken-over", "0")
    assert dashboard.query("SELECT paused FROM conversations WHERE id = ?", [case.conversation_id])[0]["paused"] == 0
    told = dashboard.query("SELECT response FROM outbox WHERE conversation_id = ? AND origin = 'system' ORDER BY id",
                           [case.conversation_id])
    assert [row["response"] for row in told] == ["utter_moderator_joined", "utter_moderator_left"]


# --- forms -------------------------------------------------------------------------------------
FETCH_POST = """async ([url, fields, headers]) => {
  const response = await fetch(url, {method: "POST", body: new URLSearchParams(fields), headers,
                                     credentials: "same-origin", redirect: "manual"});
  return response.type === "opaqueredirect" ? 303 : response.status;
}"""


def test_form_post_without_csrf_token_is_refused(login_as, dashboard):
    case = dashboard.escalate("iemand wil afspreken en zegt dat ik het geheim moet houden")
    page = login_as(MODERATOR)
    open_case(page, case)
    url = f"/cases/{case.case_id}/claim"
    token = page.locator("#claim-form input[name=csrf_token]").input_value()
    assert token

    assert page.evaluate(FETCH_POST, [url, {"request_id": "no-token"}, {}]) == 403
    assert page.evaluate(FETCH_POST, [url, {"request_id": "wrong", "csrf_token": token[::-1]}, {}]) == 403
    assert page.evaluate(FETCH_POST, [url, {"request_id": "header"}, {"X-CSRF-Token": "nep"}]) == 403
    assert dashboard.query("SELECT claimed_by FROM cases WHERE id = ?", [case.case_id])[0]["claimed_by"] is None
    assert not dashboard.query("SELECT 1 FROM audit_log WHERE case_id = ? AND action = 'claim'", [case.case_id])

    # The same request with the session's token is carried out: the refusal was the token.
    assert page.evaluate(FETCH_POST, [url, {"request_id": "with-token", "csrf_token": token}, {}]) == 303
    claimed = dashboard.query("SELECT a.name FROM cases c JOIN accounts a ON a.id = c.claimed_by WHERE c.id = ?",
                              [case.case_id])
    assert claimed == [{"name": MODERATOR}]


def test_resolve_with_an_outcome_removes_the_case_from_the_queue(login_as, dashboard):
    case = dashboard.escalate("hij stuurt steeds berichten en wil dat ik kom", category="grooming")
    colleague = login_as(SECOND_MODERATOR)
    expect(case_row(colleague, case)).to_be_visible()
    mark_page(colleague)

    page = login_as(MODERATOR)
    open_case(page, case)
    claim(page)
    page.locator("#outcome-doorverwezen").check()
    page.locator("#follow-up").fill("Mentor weet ervan.")
    page.locator("#resolve").click()
    expect(page).to_have_url(re.compile(r"/queue$"))
    expect(case_row(page, case)).to_have_count(0)
    # A colleague's open queue loses it too, without reload.
    expect(case_row(colleague, case)).to_have_count(0, timeout=LIVE_TIMEOUT_MS)
    assert_not_reloaded(colleague)

    closed = dashboard.query("SELECT c.status, c.outcome, e.status AS escalation FROM cases c "
                             "JOIN escalations e ON e.id = c.escalation_id WHERE c.id = ?", [case.case_id])
    assert closed == [{"status": "closed", "outcome": "doorverwezen", "escalation": "closed"}]
    open_case(page, case)
    expect(page.locator("#case-summary")).to_have_attribute("data-status", "closed")
    expect(page.locator("#resolve-form")).to_have_count(0)
