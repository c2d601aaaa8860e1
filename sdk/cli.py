"""The ``exsdk`` command.

Every command turns bad input into one line on stderr saying what was wrong and where,
with exit code 2, before anything is sent to a venue. Heavy modules are imported inside
the commands so ``exsdk --help`` stays fast.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from sdk.errors import SdkError

app = typer.Typer(
    name="exsdk",
    help="Contract-tested exchange adapters over ccxt, with a bundled Binance simulator.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

EXAMPLE_ORDERS = Path("examples/default_orders.txt")


def fail(message: str) -> typer.Exit:
    """Print one clear line and return the exit to raise (code 2: bad input)."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def one_line_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn SDK errors (bad input, refusals) into one line and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except SdkError as exc:
            raise fail(str(exc)) from None

    return wrapper


@app.command("orders")
@one_line_errors
def orders_command(
    path: Annotated[Path, typer.Argument(help="A file of orders in the seed's text format.")],
) -> None:
    """Parse an orders file and show it as a table (nothing is sent)."""
    from sdk.orders_text import load_orders
    from sdk.universe import DEFAULT_UNIVERSE

    orders = load_orders(path)
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


# -- experiment -------------------------------------------------------------------


def _run_prepared(prepared: Any, *, open_report: bool = False) -> Any:
    """Run a prepared experiment, starting the bundled simulator when the venue is sim."""
    import asyncio

    from sdk.adapter import Venue
    from sdk.experiment import fills_table, run_experiment, summary_lines

    async def go() -> Any:
        if prepared.venue is Venue.SIM and prepared.config.base_url is None:
            # The CLI is the composition root: only here does sdk meet the simulator.
            from simulator import SimulatedBinance

            async with SimulatedBinance(
                seed=prepared.config.sim_seed, tick_seconds=prepared.config.sim_tick_seconds
            ) as sim:
                console.print(
                    f"Simulated Binance started in process on {sim.base_url} "
                    f"(seed {prepared.config.sim_seed})."
                )
                return await run_experiment(prepared, local=sim, console=console)
        local = None
        if prepared.config.base_url is not None:
            from simulator import DEFAULT_API_KEY, DEFAULT_SECRET

            local = _ExternalSim(prepared.config.base_url, DEFAULT_API_KEY, DEFAULT_SECRET)
        return await run_experiment(prepared, local=local, console=console)

    result = asyncio.run(go())
    console.print(fills_table(result))
    console.print(summary_lines(result))
    return result


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
    journal: Annotated[
        Path | None,
        typer.Option(help="Journal file (default runs/<run id>.sqlite).", show_default=False),
    ] = None,
    run_id: Annotated[
        str | None, typer.Option(help="Name the run (1-12 lower-case letters or digits).")
    ] = None,
    allow_live: Annotated[
        bool, typer.Option("--allow-live", help="Consent to real orders on venue live.")
    ] = False,
    secrets_file: Annotated[
        Path | None, typer.Option(help="TOML/JSON secrets file (else EXSDK_<VENUE>_API_KEY...).")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(help="A running `exsdk simulator` instead of an in-process one.")
    ] = None,
    sim_seed: Annotated[int, typer.Option(help="Seed of the in-process simulator.")] = 7,
    report: Annotated[bool, typer.Option(help="Write the HTML report at the end.")] = False,
) -> None:
    """Run parent orders through the broker and journal everything (default: on the simulator)."""
    from decimal import Decimal, InvalidOperation

    from sdk.experiment import ExperimentConfig, RandomOrders, prepare

    if orders is None and random_count is None:
        raise fail("give --orders FILE or --random N")
    if orders is not None and random_count is not None:
        raise fail("give either --orders FILE or --random N, not both")
    try:
        passivity_value = Decimal(passivity)
    except InvalidOperation:
        raise fail(f"--passivity: not a number: {passivity!r}") from None
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
        journal_path=journal,
        run_id=run_id,
        allow_live=allow_live,
        secrets_file=secrets_file,
        base_url=base_url,
        sim_seed=sim_seed,
    )
    # Every input is checked before any venue, adapter or journal exists.
    prepared = prepare(config)
    result = _run_prepared(prepared)
    if report:
        _write_report(result.run_id, result.journal_path, None)


# -- report -------------------------------------------------------------------------


def _write_report(run_id: str, journal_path: Path, out: Path | None) -> Path:
    from sdk.journal import Journal
    from sdk.quality import execution_quality, quality_table
    from sdk.report import write_report

    if not journal_path.exists():
        raise fail(f"no journal at {journal_path} (pass --journal PATH)")
    with Journal.open(journal_path) as journal:
        if run_id not in journal.run_ids():
            known = ", ".join(journal.run_ids()) or "none"
            raise fail(f"no run {run_id!r} in journal {journal_path}; runs there: {known}")
        quality = execution_quality(journal, run_id)
        target = out or Path("reports") / f"{run_id}.html"
        written = write_report(journal, run_id, target, quality=quality)
    console.print(quality_table(quality))
    console.print(f"[bold]report[/]   {written}")
    return written


@app.command("report")
@one_line_errors
def report_command(
    run_id: Annotated[str, typer.Argument(help="The run id printed by `experiment`.")],
    journal: Annotated[
        Path | None,
        typer.Option(help="Journal file (default runs/<run id>.sqlite).", show_default=False),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="HTML file (default reports/<run id>.html).", show_default=False),
    ] = None,
) -> None:
    """Execution quality of a run, from its journal alone, as a table and an HTML report."""
    from sdk.broker.client_ids import validate_run_id

    validate_run_id(run_id)
    _write_report(run_id, journal or Path("runs") / f"{run_id}.sqlite", out)


# -- demo ---------------------------------------------------------------------------


@app.command("demo")
@one_line_errors
def demo_command(
    adapter: Annotated[str, typer.Option(help="Adapter to run the demo on.")] = "binance-futures",
) -> None:
    """The seed's DEFAULT_ORDERS on the simulated Binance futures venue, then the report.

    What ``make demo`` runs: 5 TWAP waves over the orders' 2-minute window, the clock 20x.
    """
    from sdk.experiment import ExperimentConfig, prepare

    if not EXAMPLE_ORDERS.exists():
        raise fail(f"{EXAMPLE_ORDERS} not found; run the demo from the repository root")
    prepared = prepare(ExperimentConfig(adapter=adapter, orders_path=EXAMPLE_ORDERS))
    result = _run_prepared(prepared)
    _write_report(result.run_id, result.journal_path, None)


# -- resume -------------------------------------------------------------------------


@app.command("resume")
@one_line_errors
def resume_command(
    run_id: Annotated[str, typer.Argument(help="The run to finish.")],
    journal: Annotated[
        Path | None,
        typer.Option(help="Journal file (default runs/<run id>.sqlite).", show_default=False),
    ] = None,
    venue: Annotated[str, typer.Option(help="sim | testnet | demo | live.")] = "sim",
    base_url: Annotated[
        str | None, typer.Option(help="URL of the running simulator (venue sim).")
    ] = None,
    allow_live: Annotated[bool, typer.Option("--allow-live")] = False,
    secrets_file: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """Finish a run after a crash: reconcile its pending children, then carry on."""
    import asyncio

    from sdk.adapter import Venue
    from sdk.broker import resume_run
    from sdk.broker.client_ids import validate_run_id
    from sdk.credentials import Credentials
    from sdk.experiment import ProgressDisplay
    from sdk.journal import Journal
    from sdk.registry import adapter_class, get_adapter

    validate_run_id(run_id)
    path = journal or Path("runs") / f"{run_id}.sqlite"
    if not path.exists():
        raise fail(f"no journal at {path} (pass --journal PATH)")
    try:
        where = Venue(venue)
    except ValueError:
        raise fail(f"unknown venue {venue!r}; one of sim|testnet|demo|live") from None
    with Journal.open(path) as opened:
        try:
            record = opened.run(run_id)
        except KeyError:
            raise fail(f"no run {run_id!r} in journal {path}") from None
    adapter_class(record.adapter)
    if where is Venue.SIM:
        if base_url is None:
            # The in-process simulator of the original run died with it.
            raise fail("venue sim needs --base-url of the simulator the run used")
        from simulator import DEFAULT_API_KEY, DEFAULT_SECRET

        credentials = Credentials(venue=where, api_key=DEFAULT_API_KEY, secret=DEFAULT_SECRET)
    elif secrets_file is not None:
        credentials = Credentials.from_file(secrets_file, where)
    else:
        credentials = Credentials.from_env(where)
    if where is Venue.LIVE and not allow_live:
        raise fail("venue 'live' sends real orders with real money; add --allow-live")

    async def go() -> int:
        adapter = get_adapter(
            record.adapter,
            venue=where,
            environment=record.environment,
            credentials=credentials,
            base_url=base_url,
            allow_live=allow_live,
        )
        try:
            with Journal.open(path) as j, ProgressDisplay(console, title=f"resume {run_id}") as d:
                children = await resume_run(run_id, adapter, j, observer=d.observe)
        finally:
            await adapter.close()
        return len(children)

    count = asyncio.run(go())
    console.print(f"run {run_id} resumed: {count} children final; journal {path}")


# -- simulator and adapters -----------------------------------------------------------


@app.command("simulator")
@one_line_errors
def simulator_command(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the price process.")] = 7,
    tick_seconds: Annotated[
        float | None, typer.Option(help="Move prices every N seconds (default: never).")
    ] = None,
) -> None:
    """Serve the bundled Binance-protocol simulator until interrupted."""
    from simulator.server import run_forever

    if not 0 <= port <= 65535:
        raise fail(f"--port {port}: not a TCP port")
    run_forever(port, seed, tick_seconds=tick_seconds)


@app.command("adapters")
@one_line_errors
def adapters_command(
    exchange: Annotated[
        list[str] | None,
        typer.Option("--exchange", help="Also check a ccxt exchange id (repeatable)."),
    ] = None,
) -> None:
    """The known adapters and what each supports."""
    from sdk.registry import capability_table

    rows = capability_table(exchange or [])
    fields: list[str] = []
    for row in rows:
        fields.extend(k for k in row if k not in fields and k != "name")
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

    Each contract test starts a fresh simulator with a fixed seed, so a re-recording
    reproduces the same requests and replays offline.
    """
    # The CLI is the composition root: contracts (and through it the simulator) load here only.
    from contracts.harness import record_venue
    from contracts.record import contract_module, record, recordable_adapters

    try:
        record_venue()
    except ValueError as exc:
        raise fail(f"$EXSDK_RECORD_VENUE: {exc}") from None
    names = adapter or recordable_adapters()
    if not names:
        raise fail("no adapter has cassettes yet; name one with --adapter")
    for name in names:
        if not contract_module(name).exists():
            raise fail(f"--adapter {name}: no contract module at {contract_module(name)}")
    code = record(names)
    if code != 0:
        raise typer.Exit(code)


@app.command("new-adapter")
@one_line_errors
def new_adapter_command(
    name: Annotated[str, typer.Argument(help="The adapter's registry name, e.g. kraken-spot.")],
    ccxt_id: Annotated[str, typer.Option("--ccxt-id", help="The ccxt exchange id.")],
    market_type: Annotated[
        str, typer.Option("--market-type", help="spot | swap | future.")
    ] = "spot",
) -> None:
    """Write an adapter module, its contract tests and its entry point."""
    from contracts.scaffold import new_adapter

    done = new_adapter(name, ccxt_id, market_type=market_type)
    console.print(f"wrote {done.adapter_module}")
    console.print(f"wrote {done.test_module}")
    console.print(f"added entry point {done.entry_point} to pyproject.toml")
    console.print("next:")
    for step in done.next_steps:
        console.print(f"  {step}", highlight=False, markup=False)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
