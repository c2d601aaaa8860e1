"""The journal: an append-only record of every OMS and venue record of a run.

:meth:`Journal.open` takes a path or ``sqlite:///PATH`` for the embedded SQLite backend
(:mod:`exsdk.journal.sqlite`, the default) or ``postgresql://...`` for a PostgreSQL server
that many brokers share (:mod:`exsdk.journal.postgres`, the ``postgres`` extra). Both
share one schema and every reader and writer (:mod:`exsdk.journal.base`).
"""

from exsdk.journal.base import SCHEMA_VERSION, SECRET_KEYS, Journal, RunRecord, backend_of, scrub

__all__ = ["SCHEMA_VERSION", "SECRET_KEYS", "Journal", "RunRecord", "backend_of", "scrub"]
