"""Custom actions served by the rasa_sdk action server (one module per concern)."""
