"""Risk categories and severities: the names the risk module, the store, the actions and the
dashboard share. A module of its own so that using the names never loads spaCy."""

CATEGORIES = ("sextortion", "image_shared", "grooming", "exploitation", "abuse", "selfharm", "runaway", "acute_danger")
SEVERITIES = ("concern", "high", "acute")  # ascending
# The categories whose handover names 113 or 112 (self-harm, danger now).
ACUTE_CATEGORIES = ("selfharm", "acute_danger")
