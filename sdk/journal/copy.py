"""Copy every run of one journal into another (``exsdk journal migrate SRC DST``).

Either direction works (SQLite into PostgreSQL is the usual one). Rows are appended in the
order they were written; the target assigns its own ``seq`` numbers (it may hold other
brokers' runs), and a reported trade's ``fill_seq`` (a fee's ``trade_seq``) follows its
fill (its trade) to the new number. The copy is one transaction on the target, read back
and compared with the source before it commits: a copy that would not read back equal is
not committed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from exsdk.errors import InvalidOrderInput
from exsdk.journal.base import TABLES, Journal

__all__ = ["comparable_rows", "copy_journal"]


def comparable_rows(journal: Journal, run_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """The runs' rows of every table, with the journal's own ``seq`` numbers left out.

    A reported trade's ``fill_seq`` becomes the position of its fill among the run's fills,
    so two journals holding the same runs compare equal whatever numbers they assigned.
    """
    wanted = set(run_ids)
    # seq -> (run, position in the run) of each fill and each trade.
    position: dict[str, dict[int, tuple[str, int]]] = {"oms_fills": {}, "trades": {}}
    out: dict[str, list[dict[str, Any]]] = {}
    for table in TABLES:
        rows = [r for r in journal.table_rows(table) if r["run_id"] in wanted]
        if table in position:
            per_run: dict[str, int] = {}
            for row in rows:
                n = per_run.get(row["run_id"], 0)
                position[table][row["seq"]] = (row["run_id"], n)
                per_run[row["run_id"]] = n + 1
        if table == "reported_trades":
            rows = [{**r, "fill_seq": position["oms_fills"][r["fill_seq"]]} for r in rows]
        if table == "trade_fees":
            rows = [{**r, "trade_seq": position["trades"][r["trade_seq"]]} for r in rows]
        out[table] = [{k: v for k, v in r.items() if k != "seq"} for r in rows]
    return out


def copy_journal(source: Journal, target: Journal) -> dict[str, int]:
    """Append every run of ``source`` to ``target``; the rows copied per table.

    Refused (:class:`~exsdk.errors.InvalidOrderInput`, nothing written) when the schema
    versions differ or a run is in both journals already: run ids are unique in a journal.
    """
    if source.schema_version() != target.schema_version():
        raise InvalidOrderInput(
            f"journal {source.path} has schema version {source.schema_version()}, "
            f"{target.path} has {target.schema_version()}; open both with this exsdk first"
        )
    runs = source.run_ids()
    clash = sorted(set(runs) & set(target.run_ids()))
    if clash:
        raise InvalidOrderInput(
            f"runs {', '.join(clash)} are in {target.path} already; nothing was copied"
        )
    # A venue trade is journaled once (exchange, symbol, trade id): two journals of one
    # venue account cannot both hold it; two venues that reuse ids cannot share a journal.
    theirs = {
        (t["exchange"], t["symbol"], t["trade_id"]): t["run_id"]
        for t in target.table_rows("trades")
    }
    for t in source.table_rows("trades"):
        other = theirs.get((t["exchange"], t["symbol"], t["trade_id"]))
        if other is not None:
            raise InvalidOrderInput(
                f"trade {t['trade_id']} ({t['exchange']} {t['symbol']}) of run {t['run_id']} "
                f"is in {target.path} already, in run {other}; nothing was copied"
            )
    counts: dict[str, int] = {}
    # The source's seq -> the target's, for the rows that others point at.
    new_seq: dict[str, dict[int, int]] = {"oms_fills": {}, "trades": {}}
    with target.batch():
        for table in TABLES:
            rows = source.table_rows(table)
            counts[table] = len(rows)
            for row in rows:
                values = {k: v for k, v in row.items() if k != "seq"}
                if table == "reported_trades":
                    values["fill_seq"] = new_seq["oms_fills"][row["fill_seq"]]
                if table == "trade_fees":
                    values["trade_seq"] = new_seq["trades"][row["trade_seq"]]
                columns = ", ".join(values)
                marks = ", ".join("?" for _ in values)
                sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
                if table in new_seq:
                    cursor = target._execute(sql + " RETURNING seq", list(values.values()))
                    new_seq[table][row["seq"]] = int(cursor.fetchone()[0])
                else:
                    target._execute(sql, list(values.values()))
        # Read back inside the transaction: an unequal copy raises and rolls back.
        if comparable_rows(target, runs) != comparable_rows(source, runs):
            raise InvalidOrderInput(
                f"the copy of {source.path} in {target.path} does not read back equal; "
                "nothing was copied"
            )
    return counts
