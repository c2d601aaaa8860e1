"""The ``exsdk`` command.

Every command turns bad input into one line on stderr saying what was wrong and where,
with exit code 2, before anything is sent to a venue; usage errors caught by the argument
parser (an unknown option, a value that is not a number) are printed the same way. Heavy
modules are imported inside the commands so ``exsdk --help`` stays fast.
"""

from __future__ import annotations

import functools
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from exsdk.errors import SdkError

if TYPE_CHECKING:
    from exsdk.broker.events import Observer
    from exsdk.journal import Journal

console = Console()
err_console = Console(stderr=True)


class _OneLineUsageErrors(TyperGroup):
    """The command group, printing parser errors as one ``error:`` line (exit code 2).

    Typer draws a usage line, a hint and a boxed message over several lines; a script
    (or a person) reading stderr gets one line naming the command and the problem instead.
    """

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(
                args, prog_name, complete_var, standalone_mode, windows_expand_args, **extra
            )
        try:
            code = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except typer.TyperException as exc:
            # `exsdk` alone: the help is already printed (Typer's own test, by class name).
            if type(exc).__name__ != "NoArgsIsHelpError":
                _print_error(_usage_message(exc))
            sys.exit(max(2, exc.exit_code))
        except typer.Abort:
            err_console.print("interrupted")
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else 0)


def _usage_message(exc: typer.TyperException) -> str:
    message = " ".join(exc.format_message().split())
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None)
    if isinstance(path, str) and path:
        return f"{path}: {message} (see {path} --help)"
    return message


app = typer.Typer(
    name="exsdk",
    cls=_OneLineUsageErrors,
    help="Contract-tested exchange adapters over ccxt, with a bundled Binance simulator.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

P = ParamSpec("P")
R = TypeVar("R")

EXAMPLE_ORDERS = Path("examples/default_orders.txt")
# The range of `exsdk simulator --tick-seconds`.
MIN_TICK_SECONDS, MAX_TICK_SECONDS = 0.001, 3600.0


def _print_error(message: str) -> None:
    # Text, not markup: a message may quote input holding brackets.
    err_console.print(
        Text.assemble(("error:", "bold red"), " ", message), highlight=False, soft_wrap=True
    )


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one clear line and return the exit to raise (code 2: bad input)."""
    _print_error(message)
    return typer.Exit(code=code)


def one_line_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn SDK errors (bad input, refusals) into one line and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from exsdk.app.diagnosis import explain

        try:
            return func(*args, **kwargs)
        except SdkError as exc:
            raise fail(explain(exc)) from None

    return wrapper


@app.command("orders")
@one_line_errors
def orders_command(
    path: Annotated[Path, typer.Argument(help="A file of orders in the seed's text format.")],
) -> None:
    """Parse an orders file and show it as a table (nothing is sent)."""
    from exsdk.orders_text import load_orders
    from exsdk.universe import DEFAULT_UNIVERSE

    orders = load_orders(path)
    if not orders:
        # As `experiment` refuses it: an empty table with exit 0 would read as success.
        raise fail(f"{path}: no orders in the file")
    table = Table(title=f"{len(orders)} orders from {path}")
    for column in ("id", "asset", "pair", "type", "start", "end", "diff"):
        table.add_column(column, justify="right" if column in ("id", "diff") else "left")
    for order in orders:
        asset = DEFAULT_UNIVERSE.resolve(order.asset_id)
        table.add_row(
            str(order.order_id),
            str(order.asset_id),
            f"{asset.base}/{asset.quote}",
            str(order.type_),
            order.start_timestamp.isoformat(sep=" "),
            order.end_timestamp.isoformat(sep=" "),
            str(order.diff_num_shares),
        )
    console.print(table)


# -- options shared by experiment and resume ---------------------------------------

RecvWindowOption = Annotated[
    int | None,
    typer.Option(
        "--recv-window-ms",
        help="Binance recvWindow in ms (1-60000; ccxt's default 5000 if not given): how "
        "long a signed request stays executable, so how long a create whose reply was lost "
        "is waited for before it is resent.",
        show_default=False,
    ),
]
EventsOption = Annotated[
    str | None,
    typer.Option(
        "--events",
        envvar="EXSDK_EVENTS",
        help="jsonl: also print every broker event (ChildIntent, ChildSent, CancelStarted, "
        "ChildCanceled, WaveStarted, ...) as one flushed JSON line on stdout.",
        show_default=False,
    ),
]
JournalOption = Annotated[
    str | None,
    typer.Option(
        help="Journal: a file (default runs/<run id>.sqlite), sqlite:///PATH, or "
        "postgresql://USER@HOST/DB for one PostgreSQL journal shared by many brokers.",
        show_default=False,
    ),
]
SecretsFileOption = Annotated[
    Path | None,
    typer.Option(
        help="TOML/JSON secrets file with a [<venue>] table (else EXSDK_<VENUE>_API_KEY and "
        "EXSDK_<VENUE>_SECRET; on venue sim the simulator's public test keys if neither).",
        show_default=False,
    ),
]


def _event_lines(events: str | None) -> Observer | None:
    """The ``--events`` observer (``None`` when not asked for)."""
    from exsdk.app.experiment import EventLines

    if events is None or events in ("", "none"):
        return None
    if events != "jsonl":
        raise fail(f"--events {events!r}: one of jsonl|none")
    # The stream of the command's start: the progress display redirects sys.stdout later.
    return EventLines(sys.stdout).observe


# -- experiment -------------------------------------------------------------------


def _run_prepared(prepared: Any, *, observer: Observer | None = None) -> Any:
    """Run a prepared experiment, starting the bundled simulator when the venue is sim."""
    import asyncio

    from exsdk.adapter import Venue
    from exsdk.app.experiment import run_experiment, summary_lines
    from exsdk.app.outcomes import environment_note

    # First of all: the figures below read as broken execution unless one knows this.
    console.print(
        environment_note(prepared.environment, venue=prepared.venue, adapter=prepared.adapter_name)
    )

    async def go() -> Any:
        if prepared.venue is Venue.SIM and prepared.config.base_url is None:
            # The CLI is the composition root: only here does sdk meet the simulator.
            from exsdk.simulator import SimulatedBinance

            # The venue's prices move per clock second: its clock runs as fast as the run's.
            async with SimulatedBinance(
                seed=prepared.config.sim_seed,
                tick_seconds=prepared.config.sim_tick_seconds,
                clock_speed=prepared.speed,
            ) as sim:
                console.print(
                    f"Bundled venue started in process on {sim.base_url} "
                    f"(seed {prepared.config.sim_seed}; speaks {', '.join(sim.protocols)})."
                )
                return await run_experiment(prepared, local=sim, console=console, observer=observer)
        local = None
        if prepared.config.base_url is not None:
            # Keys from the environment or --secrets-file win (prepare loaded them); the
            # simulator's public test keys are only the fallback of venue sim.
            from exsdk.simulator import DEFAULT_API_KEY, DEFAULT_SECRET

            local = _ExternalSim(prepared.config.base_url, DEFAULT_API_KEY, DEFAULT_SECRET)
        return await run_experiment(prepared, local=local, console=console, observer=observer)

    try:
        result = asyncio.run(go())
    except SdkError as exc:
        raise fail(_explain_on(exc, prepared.venue, prepared.adapter_name)) from None
    _print_fills(result.run_id, result.journal_path)
    console.print(summary_lines(result))
    return result


def _print_fills(run_id: str, journal_path: Path | str) -> None:
    """The OMS fills table of a journaled run, with its legend (from the journal alone).

    The full table comes from the execution-quality frames (the ``report`` extra); a core
    install gets each parent's OMS fill as journaled, and one line naming the extra.
    """
    from exsdk.extras import MissingExtra, require_extra
    from exsdk.journal import Journal

    try:
        require_extra("report", "the full fills table")
    except MissingExtra as exc:
        with Journal.open(journal_path) as journal:
            fills = journal.latest_fills(run_id)
        table = Table(title=f"OMS fills of run {run_id}", title_justify="left")
        for column in ("id", "symbol", "filled", "VWAP", "fees in quote", "trades"):
            table.add_column(column, justify="left" if column == "symbol" else "right")
        for fill in fills:
            price = "-" if fill.price is None else str(fill.price)
            table.add_row(
                str(fill.parent_order_id),
                fill.symbol,
                str(fill.quantity),
                price,
                f"{fill.fee_in_quote} {fill.quote}",
                str(fill.num_trades),
            )
        console.print(table)
        console.print(str(exc), highlight=False, markup=False, soft_wrap=True)
        return
    from exsdk.app.quality import execution_quality, fills_table

    with Journal.open(journal_path) as journal:
        console.print(fills_table(execution_quality(journal, run_id, trades="none")))


def _explain_on(exc: SdkError, venue: Any, adapter: str) -> str:
    """The error line of ``exc``; on venue sim, with the protocols the simulator serves."""
    from exsdk.adapter import Venue
    from exsdk.app.diagnosis import explain

    if venue is not Venue.SIM:
        return explain(exc)
    from exsdk.simulator.dialects import DIALECTS

    return explain(exc, bundled_venue=list(DIALECTS), adapter=adapter)


class _ExternalSim:
    """A simulator someone else started (``exsdk simulator``), reached by its URL."""

    def __init__(self, base_url: str, api_key: str, secret: str) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.secret = secret


@app.command("experiment")
@one_line_errors
def experiment_command(
    orders: Annotated[
        Path | None,
        typer.Option("--orders", help="Orders in the seed's text format.", show_default=False),
    ] = None,
    random_count: Annotated[
        int | None,
        typer.Option("--random", help="Generate N random TWAP orders instead.", min=1),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of --random.")] = 0,
    adapter: Annotated[
        str, typer.Option(help="binance-futures, binance-spot, ccxt:<id>, ... (see `adapters`).")
    ] = "binance-futures",
    venue: Annotated[str, typer.Option(help="sim | testnet | demo | live.")] = "sim",
    env: Annotated[
        str | None,
        typer.Option(
            help="local | preprod | prod (default: local, prod on live).", show_default=False
        ),
    ] = None,
    twap_waves: Annotated[int | None, typer.Option(help="Waves per TWAP window.")] = 5,
    wave_seconds: Annotated[
        float | None, typer.Option(help="Wave length in seconds (instead of --twap-waves).")
    ] = None,
    passivity: Annotated[
        str, typer.Option(help="Limit price between far touch (0) and near touch (1).")
    ] = "0.5",
    speed: Annotated[
        float | None,
        typer.Option(help="Clock acceleration on sim (default 20).", show_default=False),
    ] = None,
    journal: JournalOption = None,
    run_id: Annotated[
        str | None, typer.Option(help="Name the run (1-12 lower-case letters or digits).")
    ] = None,
    allow_live: Annotated[
        bool, typer.Option("--allow-live", help="Consent to real orders on venue live.")
    ] = False,
    secrets_file: SecretsFileOption = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            help="URL of a running `exsdk simulator` (venue sim) instead of an in-process one.",
            show_default=False,
        ),
    ] = None,
    sim_seed: Annotated[int, typer.Option(help="Seed of the in-process simulator.")] = 7,
    recv_window_ms: RecvWindowOption = None,
    events: EventsOption = None,
    report: Annotated[bool, typer.Option(help="Write the HTML report at the end.")] = False,
) -> None:
    """Run parent orders through the broker and journal everything (default: on the simulator)."""
    from decimal import Decimal, InvalidOperation

    from exsdk.app.experiment import ExperimentConfig, RandomOrders, prepare

    if orders is None and random_count is None:
        raise fail("give --orders FILE or --random N")
    if orders is not None and random_count is not None:
        raise fail("give either --orders FILE or --random N, not both")
    try:
        passivity_value = Decimal(passivity)
    except InvalidOperation:
        raise fail(f"--passivity: not a number: {passivity!r}") from None
    if not passivity_value.is_finite():
        raise fail(f"--passivity: not a finite number: {passivity!r}")
    if base_url is not None:
        _check_base_url(base_url)
    if report:
        # Before the run, not after it: the report's extra is missing, not the run's.
        _require_report("exsdk experiment --report")
    observer = _event_lines(events)
    config = ExperimentConfig(
        adapter=adapter,
        venue=venue,
        environment=env,
        orders_path=orders,
        random=None if random_count is None else RandomOrders(random_count, seed),
        twap_waves=twap_waves,
        wave_seconds=wave_seconds,
        passivity=passivity_value,
        speed=speed,
        journal_path=None if journal is None else _journal_location(journal, ""),
        run_id=run_id,
        allow_live=allow_live,
        secrets_file=secrets_file,
        base_url=base_url,
        sim_seed=sim_seed,
        recv_window_ms=recv_window_ms,
    )
    # Every input is checked before any venue, adapter or journal exists.
    prepared = prepare(config)
    result = _run_prepared(prepared, observer=observer)
    if report:
        _write_report(result.run_id, result.journal_path, None, environment_line=False)


# -- report -------------------------------------------------------------------------


def _journal_location(journal: str | None, run_id: str) -> Path | str:
    """``--journal``: a SQLite file path (``sqlite:///PATH`` too) or a ``postgresql://`` URL."""
    from exsdk.journal import backend_of

    if journal is None:
        return Path("runs") / f"{run_id}.sqlite"
    try:
        backend, target = backend_of(journal)
    except ValueError as exc:
        raise fail(f"--journal: {exc}") from None
    return target if backend == "postgresql" else Path(target)


def _open_journal(path: Path | str) -> Journal:
    """An existing journal, or one clear line saying why not."""
    import sqlite3

    from exsdk.journal import Journal

    if isinstance(path, str):
        # A server: JournalUnavailable (an SdkError) is the one line when it cannot be used.
        return Journal.open(path)
    if not path.is_file():
        raise fail(f"no journal at {path} (pass --journal PATH)")
    try:
        journal = Journal.open(path)
        journal.run_ids()
    except sqlite3.DatabaseError as exc:
        raise fail(f"{path}: not a journal ({exc})") from None
    return journal


def _open_report_journal(path: Path | str, run_id: str) -> Journal:
    """The journal holding ``run_id`` (one line if it is not there)."""
    journal = _open_journal(path)
    if run_id not in journal.run_ids():
        known = ", ".join(journal.run_ids()) or "none"
        journal.close()
        raise fail(f"no run {run_id!r} in journal {journal.path}; runs there: {known}")
    return journal


def _require_report(what: str) -> None:
    """Exit 2 with one line naming the extra when the report's libraries are missing."""
    from exsdk.extras import require_extra

    require_extra("report", what)


class _NoCycleCollector:
    """Python's cyclic garbage collector paused for one block, as it was found after.

    Reading and folding a large run allocates millions of objects that live until the
    report is written; every collection walks them all again (measured: 0.5-0.6 CPU s of
    a 1M-trade report, bench/RESULTS.md). Reference counting still frees what it can; the
    few cycles wait for the collector's return. Paused around one command's work only,
    never for a broker's process.
    """

    def __enter__(self) -> None:
        import gc

        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        import gc

        if self.was_enabled:
            gc.enable()


def _write_report(
    run_id: str, journal_path: Path | str, out: Path | None, *, environment_line: bool = True
) -> Path:
    with _NoCycleCollector():
        return _write_report_now(run_id, journal_path, out, environment_line=environment_line)


def _write_report_now(
    run_id: str, journal_path: Path | str, out: Path | None, *, environment_line: bool
) -> Path:
    # Without the extra, its one line comes first, whatever the journal.
    _require_report("exsdk report")
    journal = _open_report_journal(journal_path, run_id)
    with journal:
        from exsdk.app.quality import execution_quality, quality_environment_note, quality_table
        from exsdk.app.report import write_report

        quality = execution_quality(journal, run_id, trades="charts")
        target = out or Path("reports") / f"{run_id}.html"
        written = write_report(journal, run_id, target, quality=quality)
    if environment_line:
        console.print(quality_environment_note(quality))
    console.print(quality_table(quality))
    console.print(f"[bold]report[/]   {written}")
    return written


@app.command("report")
@one_line_errors
def report_command(
    run_id: Annotated[str, typer.Argument(help="The run id printed by `experiment`.")],
    journal: JournalOption = None,
    out: Annotated[
        Path | None,
        typer.Option(help="HTML file (default reports/<run id>.html).", show_default=False),
    ] = None,
) -> None:
    """Execution quality of a run, from its journal alone, as a table and an HTML report."""
    from exsdk.broker.client_ids import validate_run_id

    validate_run_id(run_id)
    _write_report(run_id, _journal_location(journal, run_id), out)


# -- demo ---------------------------------------------------------------------------


@app.command("demo")
@one_line_errors
def demo_command(
    adapter: Annotated[str, typer.Option(help="Adapter to run the demo on.")] = "binance-futures",
) -> None:
    """The seed's DEFAULT_ORDERS on the simulated Binance futures venue, then the report.

    What ``make demo`` runs: 5 TWAP waves over the orders' 2-minute window, the clock 20x.
    """
    from exsdk.app.experiment import ExperimentConfig, prepare

    if not EXAMPLE_ORDERS.exists():
        raise fail(f"{EXAMPLE_ORDERS} not found; run the demo from the repository root")
    _require_report("exsdk demo")
    prepared = prepare(ExperimentConfig(adapter=adapter, orders_path=EXAMPLE_ORDERS))
    result = _run_prepared(prepared)
    _write_report(result.run_id, result.journal_path, None, environment_line=False)


# -- resume -------------------------------------------------------------------------


def _check_base_url(url: str) -> None:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise fail(f"--base-url {url!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise fail(f"--base-url {url!r}: not an http(s) URL such as http://127.0.0.1:8080")
    if port == 0:
        raise fail(f"--base-url {url!r}: port 0 is not a port to connect to")


@app.command("resume")
@one_line_errors
def resume_command(
    run_id: Annotated[str, typer.Argument(help="The run to finish.")],
    journal: JournalOption = None,
    venue: Annotated[str, typer.Option(help="sim | testnet | demo | live.")] = "sim",
    base_url: Annotated[
        str | None,
        typer.Option(
            help="URL of the running simulator the run used (needed on venue sim).",
            show_default=False,
        ),
    ] = None,
    allow_live: Annotated[
        bool, typer.Option("--allow-live", help="Consent to real orders on venue live.")
    ] = False,
    secrets_file: SecretsFileOption = None,
    recv_window_ms: RecvWindowOption = None,
    events: EventsOption = None,
) -> None:
    """Finish a run after a crash: reconcile its pending children, then carry on.

    Children journaled as intents or with an unknown outcome are looked up on the venue by
    client order id (adopted when found, once their last request can no longer execute
    otherwise recorded as never sent); waves past their end are settled and skipped; the
    rest of the TWAP window runs on the run's own clock. Exit code 0 when every child is
    final, 1 (and one line saying which are not) otherwise.
    """
    import asyncio

    from exsdk.adapter import Venue
    from exsdk.adapter.credentials import Credentials
    from exsdk.app.experiment import (
        MAX_RECV_WINDOW_MS,
        ProgressDisplay,
        check_venue_of,
        clock_for_run,
        finished_children,
        sim_or_venue_credentials,
    )
    from exsdk.app.outcomes import environment_note
    from exsdk.broker import TERMINAL, broker_for_run
    from exsdk.broker.client_ids import validate_run_id
    from exsdk.journal import Journal
    from exsdk.registry import adapter_class, get_adapter

    validate_run_id(run_id)
    path = _journal_location(journal, run_id)
    if isinstance(path, Path) and not path.is_file():
        raise fail(f"no journal at {path} (pass --journal PATH)")
    try:
        where = Venue(venue)
    except ValueError:
        raise fail(f"unknown venue {venue!r}; one of sim|testnet|demo|live") from None
    if where is Venue.LIVE and not allow_live:
        raise fail("venue 'live' sends real orders with real money; add --allow-live")
    if base_url is not None:
        if where is not Venue.SIM:
            raise fail("--base-url is only for venue 'sim'")
        _check_base_url(base_url)
    if recv_window_ms is not None and not 1 <= recv_window_ms <= MAX_RECV_WINDOW_MS:
        raise fail(f"--recv-window-ms must be between 1 and {MAX_RECV_WINDOW_MS}")
    observer = _event_lines(events)
    with _open_journal(path) as opened:
        shown = opened.path  # a server URL without its password
        try:
            record = opened.run(run_id)
        except KeyError:
            known = ", ".join(opened.run_ids()) or "none"
            raise fail(f"no run {run_id!r} in journal {shown}; runs there: {known}") from None
        done = finished_children(opened, run_id)
    if done is not None:
        # Nothing to reconcile: no venue is contacted and nothing is written.
        console.print(f"run {run_id} finished already ({done} children final): nothing to do")
        return
    if base_url is None and where is Venue.SIM:
        # The in-process simulator of the original run died with it.
        raise fail("venue sim needs --base-url of the simulator the run used")
    check_venue_of(adapter_class(record.adapter), where)
    credentials = sim_or_venue_credentials(where, secrets_file)
    if credentials is None:
        from exsdk.simulator import DEFAULT_API_KEY, DEFAULT_SECRET

        credentials = Credentials(venue=where, api_key=DEFAULT_API_KEY, secret=DEFAULT_SECRET)
    ccxt_options: dict[str, Any] = {}
    if recv_window_ms is not None:
        ccxt_options["options"] = {"recvWindow": recv_window_ms}
    if where is Venue.SIM:
        ccxt_options["enableRateLimit"] = False

    console.print(environment_note(record.environment, venue=where, adapter=record.adapter))

    async def go() -> list[Any]:
        adapter = get_adapter(
            record.adapter,
            venue=where,
            environment=record.environment,
            credentials=credentials,
            base_url=base_url,
            markets_cache=False if where is Venue.SIM else None,
            ccxt_options=ccxt_options,
            allow_live=allow_live,
        )
        try:
            with Journal.open(path) as j:
                clock = clock_for_run(j, run_id)
                ends_at = max(o.end_timestamp for o, _ in j.parent_orders(run_id))
                with ProgressDisplay(
                    console,
                    title=f"resume {run_id}",
                    clock=clock,
                    ends_at=ends_at,
                    speed=float(getattr(clock, "speed", 1.0)),
                ) as d:
                    observe = d.observe
                    if observer is not None:

                        def observe(event: Any) -> None:
                            d.observe(event)
                            observer(event)

                    broker = broker_for_run(run_id, adapter, j, clock, observer=observe)
                    # One process drives a run: a second resume stops here, naming the first.
                    with j.lease(run_id):
                        children = await broker.resume()
                        # The fills' cross-check against the venue is part of finishing a run.
                        await broker.get_fills()
        finally:
            await adapter.close()
        return children

    try:
        children = asyncio.run(go())
    except SdkError as exc:
        raise fail(_explain_on(exc, where, record.adapter)) from None
    _print_fills(run_id, path)
    pending = sorted(c.client_order_id for c in children if c.status not in TERMINAL)
    if pending:
        raise fail(
            f"run {run_id} not finished: {len(pending)} children not final "
            f"({', '.join(pending)}); run `exsdk resume {run_id}` again",
            code=1,
        )
    console.print(f"run {run_id} resumed: {len(children)} children final; journal {shown}")


# -- journal ------------------------------------------------------------------------

journal_app = typer.Typer(help="Journals: copy one into another.", no_args_is_help=True)
app.add_typer(journal_app, name="journal")


@journal_app.command("migrate")
@one_line_errors
def journal_migrate_command(
    source: Annotated[str, typer.Argument(help="The journal to copy: a file or URL.")],
    target: Annotated[
        str, typer.Argument(help="The journal to copy into, e.g. postgresql://USER@HOST/DB.")
    ],
) -> None:
    """Copy every run of SOURCE into TARGET (SQLite into PostgreSQL, or back), losslessly.

    The copy is one transaction, read back and compared with the source before it commits;
    a run already in TARGET refuses the whole copy. SOURCE is only read.
    """
    from exsdk.journal.copy import copy_journal

    source_at = _journal_location(source, "")
    target_at = _journal_location(target, "")
    if isinstance(target_at, Path) and target_at.exists() and not target_at.is_file():
        raise fail(f"{target_at}: not a file")
    with _open_journal(source_at) as src, _open_journal_or_new(target_at) as dst:
        counts = copy_journal(src, dst)
        shown = (src.path, dst.path)
    rows = ", ".join(f"{table} {n}" for table, n in counts.items())
    console.print(
        f"copied {counts['runs']} runs from {shown[0]} into {shown[1]} ({rows}); read back equal",
        highlight=False,
        soft_wrap=True,
    )


def _open_journal_or_new(path: Path | str) -> Journal:
    """A journal to write into: an existing one (checked), or a new file."""
    from exsdk.journal import Journal

    if isinstance(path, Path) and not path.exists():
        return Journal.open(path)
    return _open_journal(path)


# -- simulator and adapters -----------------------------------------------------------


@app.command("simulator")
@one_line_errors
def simulator_command(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the price process.")] = 7,
    tick_seconds: Annotated[
        float | None, typer.Option(help="Move prices every N seconds (default: never).")
    ] = None,
    futures_snapshot: Annotated[
        str | None,
        typer.Option(help="USD-M exchangeInfo: a date such as 2021-09 (default: the newest)."),
    ] = None,
    spot_snapshot: Annotated[
        str | None,
        typer.Option(help="Spot exchangeInfo: a date such as 2021-10 (default: the newest)."),
    ] = None,
    clock_speed: Annotated[
        float, typer.Option(help="How fast prices move: N clock seconds per wall second.")
    ] = 1.0,
) -> None:
    """Serve the bundled Binance-protocol simulator until interrupted."""
    from exsdk.simulator.exchange_info import resolve_snapshot
    from exsdk.simulator.server import run_forever

    if not 0 <= port <= 65535:
        raise fail(f"--port {port}: not a TCP port")
    if tick_seconds is not None and not (
        math.isfinite(tick_seconds) and MIN_TICK_SECONDS <= tick_seconds <= MAX_TICK_SECONDS
    ):
        # Below a millisecond the price process spins a core; infinity never ticks at all.
        raise fail(
            f"--tick-seconds {tick_seconds:g}: must be positive, a finite number between "
            f"{MIN_TICK_SECONDS:g} and {MAX_TICK_SECONDS:g}"
        )
    if not (math.isfinite(clock_speed) and clock_speed > 0):
        raise fail(f"--clock-speed {clock_speed:g}: must be a positive, finite number")
    snapshots: dict[str, str] = {}
    try:
        if futures_snapshot is not None:
            snapshots["futures_snapshot"] = resolve_snapshot("futures", futures_snapshot)
        if spot_snapshot is not None:
            snapshots["spot_snapshot"] = resolve_snapshot("spot", spot_snapshot)
    except ValueError as exc:
        raise fail(f"--futures-snapshot/--spot-snapshot: {exc}") from None
    try:
        run_forever(port, seed, tick_seconds=tick_seconds, clock_speed=clock_speed, **snapshots)
    except OSError as exc:  # the port is taken, or not ours to bind
        raise fail(f"--port {port}: cannot listen on 127.0.0.1:{port} ({exc.strerror})") from None


@app.command("adapters")
@one_line_errors
def adapters_command(
    exchange: Annotated[
        list[str] | None,
        typer.Option("--exchange", help="Also check a ccxt exchange id (repeatable)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per adapter, for scripts.")
    ] = False,
) -> None:
    """The known adapters and what each supports.

    A capability shows "yes" only when the adapter declares it and ccxt has the methods
    it needs; "missing" names what the exchange lacks and "needed for" what needs it.
    """
    from exsdk.registry import capability_table

    rows = capability_table(exchange or [])
    if as_json:
        # Plain stdout: no terminal width, colour or wrapping gets in a script's way.
        typer.echo(json.dumps(rows, indent=1))
        return
    fields = [k for k in rows[0] if k != "name"]
    # One column per adapter: a dozen capabilities read better down than across.
    table = Table(title="adapters", title_justify="left")
    table.add_column("")
    for row in rows:
        table.add_column(str(row["name"]), overflow="fold")
    for field in fields:
        cells = []
        for row in rows:
            value = row.get(field, "")
            if isinstance(value, bool):
                cells.append("[green]yes[/]" if value else "[dim]no[/]")
            elif value is None:
                cells.append("[dim]per exchange[/]")
            else:
                cells.append(str(value))
        table.add_row(field.replace("_", " "), *cells)
    console.print(table)


@app.command("record")
@one_line_errors
def record_command(
    adapter: Annotated[
        list[str] | None,
        typer.Option("--adapter", help="Adapter to re-record (repeatable; default: all)."),
    ] = None,
) -> None:
    """Re-record adapters' cassettes against the bundled simulator (or $EXSDK_RECORD_VENUE).

    Works on the project of the current directory (its pyproject.toml): the contract
    module is tests/contracts/test_<name>.py, the cassettes go where its pytest ini's
    exsdk_cassettes says (default cassettes/). Each contract test starts a fresh simulator
    with a fixed seed, so a re-recording reproduces the same requests and replays offline.
    """
    from exsdk.extras import require_extra

    require_extra("contracts", "exsdk record")
    # The CLI is the composition root: contracts (and through it the simulator) load here only.
    from exsdk.contracts.harness import record_venue
    from exsdk.contracts.project import Project
    from exsdk.contracts.record import record

    try:
        record_venue()
    except ValueError as exc:
        raise fail(f"$EXSDK_RECORD_VENUE: {exc}") from None
    project = Project.here()
    names = adapter or project.recorded_adapters()
    if not names:
        raise fail(
            f"no adapter has cassettes in {project.cassettes_root} yet; name one with --adapter"
        )
    for name in names:
        module = project.contract_module(name)
        if not module.exists():
            raise fail(
                f"--adapter {name}: no contract module at {module} "
                f"(`exsdk new-adapter {name} --ccxt-id ID` writes one)"
            )
    from exsdk.adapter import Venue
    from exsdk.contracts.harness import NoDialect, dialect_for
    from exsdk.registry import adapter_class

    venue = record_venue()
    for name in names:
        # Before the first line of output: ccxt may have no URL set for the venue there.
        check = getattr(adapter_class(name), "check_venue", None)
        if callable(check):
            check(venue)
        try:
            dialect = dialect_for(name)
        except NoDialect as exc:
            raise fail(f"--adapter {name}: {exc}") from None
        # Not entered, so nothing starts: only whether the bundled venue speaks it.
        if venue is Venue.SIM and dialect.bundled_venue(0) is None:
            raise fail(
                f"--adapter {name}: the bundled simulator does not speak {dialect.name}; "
                "record against a test venue with EXSDK_RECORD_VENUE=testnet (or demo)"
            )
    code = record(project, names)
    if code != 0:
        raise typer.Exit(code)


@app.command("new-adapter")
@one_line_errors
def new_adapter_command(
    name: Annotated[str, typer.Argument(help="The adapter's registry name, e.g. kraken-spot.")],
    ccxt_id: Annotated[str, typer.Option("--ccxt-id", help="The ccxt exchange id.")],
    market_type: Annotated[
        str | None,
        typer.Option(
            "--market-type",
            help="spot | swap | future (default: swap for binanceusdm, else spot).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write an adapter module, its contract tests and its entry point into this project.

    The project is the current directory, which must hold its pyproject.toml.
    """
    from exsdk.contracts.scaffold import new_adapter

    done = new_adapter(name, ccxt_id, market_type=market_type)
    # soft_wrap: paths and commands stay on one line, to be copied.
    for line in (
        f"wrote {done.adapter_module}",
        f"wrote {done.test_module}",
        f"added entry point {done.entry_point} to {done.pyproject}",
        "next:",
        *(f"  {step}" for step in done.next_steps),
    ):
        console.print(line, highlight=False, markup=False, soft_wrap=True)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
