"""Runs Rasa's command line with telemetry and Sentry error reporting switched off.

Rasa 3.6 sends exception reports to Sentry whenever its bundled key exists, whatever the
telemetry setting; an exception text could contain a young person's message, so nothing
may leave this machine.
"""
import os
import sys

from bot.config import apply_tf_environment

apply_tf_environment()
os.environ["RASA_TELEMETRY_ENABLED"] = "false"

import rasa.telemetry  # noqa: E402

rasa.telemetry.initialize_error_reporting = lambda: None

from rasa.__main__ import main  # noqa: E402

if __name__ == "__main__":
    sys.argv[0] = "rasa"
    main()
