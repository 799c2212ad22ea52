"""Rasa graph components: the Dutch spaCy provider and the risk detector."""
