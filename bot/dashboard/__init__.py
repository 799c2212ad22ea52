"""The moderators' dashboard: Starlette + Jinja2, server-rendered, Dutch screens.

app.py builds the app; auth.py holds accounts, sessions, CSRF and the security headers;
queue.py, conversation.py, admin.py and stats.py are the page groups; transcript.py reads what
was said. It reads the same SQLite store as the bot and writes moderator messages into the
outbox; it never talks to Telegram and never sees a chat id.
"""
