"""Risk categories and severities: the names the risk module, the store, the actions and the
dashboard share. A module of its own so that using the names never loads spaCy."""

CATEGORIES = ("sextortion", "image_shared", "grooming", "exploitation", "abuse", "selfharm", "runaway", "acute_danger")
SEVERITIES = ("concern", "high", "acute")  # ascending
