"""The journal: an append-only record of every OMS and venue record of a run.

:class:`Journal` is the embedded SQLite backend (:mod:`exsdk.journal.sqlite`), the default;
a second backend implements the same methods beside it.
"""

from exsdk.journal.sqlite import SCHEMA_VERSION, SECRET_KEYS, Journal, RunRecord, scrub

__all__ = ["SCHEMA_VERSION", "SECRET_KEYS", "Journal", "RunRecord", "scrub"]
