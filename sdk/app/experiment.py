"""The experiment runner behind ``exsdk experiment``: orders in, a journaled run out.

:func:`prepare` checks every input (orders file or random spec, adapter, venue,
environment, credentials, live consent) before anything is built, so bad input never
reaches a venue. :func:`run_experiment` then builds the adapter, journal and broker, moves
the orders' time windows to now (keeping their durations), samples the top of the book
of every traded symbol into the journal while the broker works (so that execution quality
can be computed from the journal alone, see :mod:`exsdk.app.quality`), and folds the fills.

The CLI is the composition root: it starts the bundled simulator and passes it in as a
:class:`LocalVenue`, so this module never imports ``simulator`` or ``adapters``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import random
import sqlite3
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, TextIO

import attrs
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from exsdk.adapter import ExchangeAdapter, Venue
from exsdk.adapter.credentials import Credentials
from exsdk.app.outcomes import OUTCOMES, WAVE_LEGEND, child_outcome, is_sent
from exsdk.broker import (
    AcceleratedClock,
    Broker,
    BrokerEvent,
    ChildRejected,
    Clock,
    LimitPriceComputer,
    Observer,
    TwapConfig,
    WallClock,
    Warned,
    WaveSkipped,
    WaveStarted,
    new_run_id,
)
from exsdk.broker.client_ids import child_client_order_id, validate_run_id
from exsdk.errors import InvalidOrderInput, SdkError
from exsdk.journal import Journal
from exsdk.limits import Environment, minimal_order_amount, quantize_amount
from exsdk.models import ChildOrder, MarketLimits, OmsFill, Order, OrderKind
from exsdk.orders_text import quote_value
from exsdk.rebase import rebase_orders
from exsdk.universe import DEFAULT_UNIVERSE, Universe

__all__ = [
    "CLOCK_EVENT",
    "HORIZON",
    "MAX_PARENTS",
    "MAX_RECV_WINDOW_MS",
    "MAX_SPEED",
    "MAX_WAVES",
    "MAX_WINDOW",
    "MID_SAMPLE",
    "MIN_SPEED",
    "MIN_WAVE_SECONDS",
    "EventLines",
    "ExperimentConfig",
    "ExperimentResult",
    "LocalVenue",
    "PreparedExperiment",
    "ProgressDisplay",
    "RandomOrders",
    "check_venue_of",
    "clock_for_run",
    "event_record",
    "finished_children",
    "prepare",
    "run_experiment",
]

MID_SAMPLE = "mid_sample"
"""``raw_responses.kind`` of the top-of-book samples the runner journals."""
CLOCK_EVENT = "experiment"
"""``run_events.event`` holding the clock mapping and the experiment's settings."""

# Binance refuses a recvWindow above one minute (-1131).
MAX_RECV_WINDOW_MS = 60_000
# Stated limits of one run: every count and duration a command line can ask for is bounded,
# so that no input makes a run hang, sleep for years or exhaust memory.
MAX_PARENTS = 10_000
"""The most parent orders in one run (an orders file or ``--random N``)."""
MAX_WAVES = 1_000
"""The most TWAP waves in one window (``--twap-waves``, or window / ``--wave-seconds``)."""
MIN_WAVE_SECONDS = 1.0
"""The shortest wave, in clock seconds: a child needs time to rest before its cancel."""
MIN_SPEED, MAX_SPEED = 0.1, 1_000.0
"""The range of ``--speed`` (clock acceleration on the simulator)."""
MAX_WINDOW = timedelta(days=7)
"""The longest TWAP window of a parent."""
HORIZON = timedelta(days=7)
"""How far ahead of now a parent's window may start (windows in the past are re-based)."""
# On the simulator a TWAP window runs this many times faster than the wall clock.
DEFAULT_SIM_SPEED = 20.0
# The logger of the broker's warnings and rejections (each also a broker event).
_BROKER_LOGGER = "exsdk.broker"
# How long (clock time) after "now" the re-based windows start: time for the first
# book sample, the arrival mid.
_LEAD_SECONDS = 1.0


class LocalVenue(Protocol):
    """A venue the caller runs in process (the bundled simulator): its URL and keys."""

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        ...

    @property
    def api_key(self) -> str:
        """The key the venue accepts."""
        ...

    @property
    def secret(self) -> str:
        """The secret of ``api_key``."""
        ...


@attrs.frozen
class RandomOrders:
    """``--random N --seed S``: N TWAP parents of random sign and size over a universe.

    Sizes are drawn as 1-4 times the venue's minimal order at the current mid, so they
    are known only once the venue is up; the draw itself is fixed by ``seed``.
    """

    count: int
    seed: int
    minutes: float = 2.0


@attrs.frozen
class ExperimentConfig:
    """Everything ``exsdk experiment`` takes, as given on the command line."""

    adapter: str = "binance-futures"
    venue: str = "sim"
    environment: str | None = None
    orders_path: Path | None = None
    random: RandomOrders | None = None
    twap_waves: int | None = 5
    wave_seconds: float | None = None
    passivity: Decimal = Decimal("0.5")
    speed: float | None = None
    journal_path: Path | str | None = None
    run_id: str | None = None
    allow_live: bool = False
    secrets_file: Path | None = None
    base_url: str | None = None
    sim_seed: int = 7
    sim_tick_seconds: float = 0.05
    recv_window_ms: int | None = None
    """Binance's ``recvWindow`` (ccxt ``options.recvWindow``): how long a signed request
    stays executable, hence how long a lost create is waited for before a resend."""


@attrs.frozen
class PreparedExperiment:
    """A checked configuration: orders parsed, names resolved, credentials loaded."""

    config: ExperimentConfig
    adapter_name: str
    venue: Venue
    environment: Environment
    orders: tuple[Order, ...]
    random: RandomOrders | None
    credentials: Credentials | None
    run_id: str
    journal_path: Path | str
    speed: float
    twap: TwapConfig
    passivity: Decimal


@attrs.frozen
class ExperimentResult:
    """What a finished experiment hands back to the CLI."""

    run_id: str
    journal_path: Path | str
    orders: tuple[Order, ...]
    symbols: dict[int, str]
    children: tuple[ChildOrder, ...]
    fills: tuple[OmsFill, ...]
    speed: float
    rebased_by: timedelta | None


def _choice(value: str, enum_type: type[Venue] | type[Environment], what: str) -> Any:
    try:
        return enum_type(value)
    except ValueError:
        choices = "|".join(v.value for v in enum_type)
        raise InvalidOrderInput(f"unknown {what} {value!r}; one of {choices}") from None


def prepare(
    config: ExperimentConfig, *, universe: Universe = DEFAULT_UNIVERSE
) -> PreparedExperiment:
    """Check every input and load what the run needs, without touching any venue.

    Raises :class:`~exsdk.errors.SdkError` (one line naming what and where) on bad input:
    a missing or malformed orders file, an unknown adapter, venue or environment, a live
    venue without ``allow_live`` or outside ``prod``, missing keys.
    """
    from exsdk.orders_text import load_orders
    from exsdk.registry import adapter_class

    venue: Venue = _choice(config.venue, Venue, "venue")
    if config.environment is None:
        environment = Environment.PROD if venue is Venue.LIVE else Environment.LOCAL
    else:
        environment = _choice(config.environment, Environment, "environment")
    if venue is Venue.LIVE:
        if not config.allow_live:
            raise SdkError(
                "venue 'live' sends real orders with real money; add --allow-live to ask for it"
            )
        if environment is not Environment.PROD:
            raise SdkError(f"venue 'live' runs only with --env prod, not '{environment}'")
    if (config.orders_path is None) == (config.random is None):
        raise InvalidOrderInput("give either an orders file (--orders) or --random N, not both")
    # Resolving the class imports the adapter module; nothing is built yet.
    check_venue_of(adapter_class(config.adapter), venue)
    orders: tuple[Order, ...] = ()
    if config.orders_path is not None:
        orders = tuple(load_orders(config.orders_path))
        if not orders:
            raise InvalidOrderInput("no orders in the file", source=str(config.orders_path))
        for order in orders:
            # An unknown asset id names its order here, before anything is sent.
            try:
                universe.resolve(order.asset_id)
            except InvalidOrderInput as exc:
                raise InvalidOrderInput(
                    f"order {order.order_id}: {exc}", source=str(config.orders_path)
                ) from None
    if len(orders) > MAX_PARENTS:
        raise InvalidOrderInput(
            f"{len(orders):,} orders; a run takes at most {MAX_PARENTS:,}",
            source=str(config.orders_path),
        )
    if config.random is not None:
        if not 1 <= config.random.count <= MAX_PARENTS:
            raise InvalidOrderInput(
                f"--random {config.random.count}: between 1 and {MAX_PARENTS:,} orders"
            )
        if not 0 < config.random.minutes <= MAX_WINDOW.total_seconds() / 60:
            raise InvalidOrderInput("random orders need a positive window of at most 7 days")
    if config.twap_waves is not None and not 1 <= config.twap_waves <= MAX_WAVES:
        raise InvalidOrderInput(
            f"--twap-waves {config.twap_waves}: between 1 and {MAX_WAVES:,} waves per window"
        )
    if config.wave_seconds is not None and not (
        math.isfinite(config.wave_seconds) and config.wave_seconds >= MIN_WAVE_SECONDS
    ):
        raise InvalidOrderInput(
            f"--wave-seconds {config.wave_seconds:g}: a finite number of at least "
            f"{MIN_WAVE_SECONDS:g} s"
        )
    if not Decimal(0) <= config.passivity <= Decimal(1):
        raise InvalidOrderInput("--passivity must be between 0 and 1")
    if config.speed is not None and not (
        math.isfinite(config.speed) and MIN_SPEED <= config.speed <= MAX_SPEED
    ):
        raise InvalidOrderInput(
            f"--speed {config.speed:g}: a finite number between {MIN_SPEED:g} and {MAX_SPEED:g}"
        )
    speed = config.speed if config.speed is not None else 1.0
    if venue is Venue.SIM and config.speed is None:
        speed = DEFAULT_SIM_SPEED
    if venue is not Venue.SIM and speed != 1.0:
        raise InvalidOrderInput("--speed is only for venue 'sim'; real venues run in real time")
    if config.base_url is not None and venue is not Venue.SIM:
        raise InvalidOrderInput("--base-url is only for venue 'sim'")
    if config.recv_window_ms is not None and not (1 <= config.recv_window_ms <= MAX_RECV_WINDOW_MS):
        raise InvalidOrderInput(
            f"--recv-window-ms must be between 1 and {MAX_RECV_WINDOW_MS}, "
            f"not {config.recv_window_ms}"
        )
    credentials = None
    if venue is not Venue.SIM or config.base_url is not None:
        # An in-process simulator has keys of its own; any other venue's come from here.
        credentials = sim_or_venue_credentials(venue, config.secrets_file)
    run_id = validate_run_id(config.run_id) if config.run_id else new_run_id()
    journal_path = config.journal_path or Path("runs") / f"{run_id}.sqlite"
    _check_journal(journal_path, run_id)
    # --wave-seconds given alone means a frequency; --twap-waves wins otherwise.
    waves = config.twap_waves if config.wave_seconds is None else None
    twap = TwapConfig(waves=waves, wave_seconds=config.wave_seconds, cancel_lead=1.0)
    _check_windows(orders, twap, run_id, str(config.orders_path))
    return PreparedExperiment(
        config=config,
        adapter_name=config.adapter,
        venue=venue,
        environment=environment,
        orders=orders,
        random=config.random,
        credentials=credentials,
        run_id=run_id,
        journal_path=journal_path,
        speed=speed,
        twap=twap,
        passivity=config.passivity,
    )


def check_venue_of(cls: type[ExchangeAdapter], venue: Venue) -> None:
    """Refuse a venue ccxt has no URLs for with this adapter (testnet on kraken...)."""
    check = getattr(cls, "check_venue", None)
    if callable(check):
        check(venue)


def _check_windows(orders: Sequence[Order], twap: TwapConfig, run_id: str, source: str) -> None:
    """Every parent's window within the stated limits, and its client order ids valid.

    Windows in the past are fine (the run re-bases them to now); one starting beyond
    :data:`HORIZON` would sleep silently for that long, and one longer than
    :data:`MAX_WINDOW`, or cut into more than :data:`MAX_WAVES` waves, is a typo.
    """
    now = datetime.now(UTC)
    for order in orders:
        where = f"order {order.order_id}"
        if order.type_ not in {k.value for k in OrderKind}:
            kinds = ", ".join(k.value for k in OrderKind)
            raise InvalidOrderInput(
                f"{where}: unknown type {quote_value(str(order.type_))} (one of {kinds})",
                source=source,
            )
        window = order.end_timestamp - order.start_timestamp
        if window > MAX_WINDOW:
            raise InvalidOrderInput(
                f"{where}: a window of {_human(window)}; at most {_human(MAX_WINDOW)}",
                source=source,
            )
        if order.start_timestamp > now + HORIZON:
            raise InvalidOrderInput(
                f"{where}: starts {order.start_timestamp.astimezone(UTC):%Y-%m-%d %H:%M} UTC, "
                f"more than {_human(HORIZON)} ahead (the limit); nothing would happen until then",
                source=source,
            )
        last_wave = 0
        if order.type_ == OrderKind.TWAP:
            if twap.waves is not None:
                last_wave = twap.waves - 1
            else:
                assert twap.wave_seconds is not None
                count = math.ceil(window.total_seconds() / twap.wave_seconds - 1e-9)
                if count > MAX_WAVES:
                    raise InvalidOrderInput(
                        f"{where}: --wave-seconds {twap.wave_seconds:g} cuts its "
                        f"{_human(window)} window into {count:,} waves; at most {MAX_WAVES:,}",
                        source=source,
                    )
                last_wave = max(0, count - 1)
        try:
            child_client_order_id(run_id, order.order_id, last_wave)
        except InvalidOrderInput as exc:
            raise InvalidOrderInput(
                f"{where}: {exc}; use a shorter order id", source=source
            ) from None


def _check_journal(path: Path | str, run_id: str) -> None:
    """A journal the run can use: a new file, or a journal without this run yet.

    A ``postgresql://`` URL is opened (creating the schema when the database is new) and
    must not hold the run yet; the run's lease checks it again before the run starts.

    A new file's folder must be one the run can create and write: the nearest existing
    folder on the path is probed with a temporary file (removed at once). Otherwise
    read-only: a file that is not a journal is neither created nor changed.
    """
    if isinstance(path, str):
        with Journal.open(path) as journal:
            known_runs = journal.run_ids()
        if run_id in known_runs:
            raise InvalidOrderInput(
                f"run {run_id!r} is already in journal {journal.path}; finish it with "
                f"`exsdk resume {run_id} --journal URL` or pick another --run-id"
            )
        return
    if not path.exists():
        _check_writable_folder(path)
        return
    if not path.is_file():
        raise InvalidOrderInput(f"--journal {path}: not a file")
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
            if tables and "runs" not in tables:
                raise InvalidOrderInput(f"--journal {path}: an SQLite file, but not a journal")
            known = (
                tables and db.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            )
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise InvalidOrderInput(f"--journal {path}: not a journal ({exc})") from None
    if known:
        raise InvalidOrderInput(
            f"run {run_id!r} is already in journal {path}; finish it with "
            f"`exsdk resume {run_id} --journal {path}` or pick another --run-id"
        )


def _check_writable_folder(path: Path) -> None:
    """``path``'s folder exists or can be made, and a file can be written there."""
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InvalidOrderInput(f"--journal {path}: {ancestor} is a file, not a folder")
    try:
        # A real write, not os.access: /proc, read-only mounts and root all answer honestly.
        with tempfile.NamedTemporaryFile(dir=ancestor, prefix=".exsdk-probe-"):
            pass
    except OSError as exc:
        raise InvalidOrderInput(
            f"--journal {path}: cannot write in {ancestor} ({exc.strerror or exc})"
        ) from None


def sim_or_venue_credentials(venue: Venue, secrets_file: Path | None) -> Credentials | None:
    """Keys for ``venue``, from a secrets file or ``EXSDK_<VENUE>_API_KEY``/``..._SECRET``.

    Keys never come from the command line. Only venue ``sim`` may have none (``None``):
    the caller then uses the simulator's public test keys.
    """
    if secrets_file is not None:
        return Credentials.from_file(secrets_file, venue)
    if venue is Venue.SIM:
        try:
            return Credentials.from_env(venue)
        except SdkError:
            return None
    return Credentials.from_env(venue)


def finished_children(journal: Journal, run_id: str) -> int | None:
    """How many children a finished run has, or ``None`` when it is not finished.

    Finished: the broker's last word on the run is ``finished`` (after any ``submitted``
    or ``resumed``) and every child is in a final state. Read-only.
    """
    from exsdk.broker import TERMINAL

    events = journal.run_event_names(run_id)
    marks = [e for e in events if e in ("submitted", "resumed", "finished")]
    if not marks or marks[-1] != "finished":
        return None
    children = journal.latest_children(run_id)
    if any(c.status not in TERMINAL for c in children):
        return None
    return len(children)


def clock_for_run(journal: Journal, run_id: str) -> Clock:
    """The clock a journaled experiment ran on, continued: a resume keeps its time base.

    An experiment on the simulator runs an :class:`~exsdk.broker.AcceleratedClock`, and its
    TWAP windows are in that clock's time; resumed on the wall clock they would be hours
    away. Runs without the experiment's clock event (API callers) get the wall clock.
    """
    details = journal.run_event_details(run_id, CLOCK_EVENT)
    if not details or not isinstance(details[-1], dict):
        return WallClock()
    detail = details[-1]
    speed = float(detail.get("speed") or 1.0)
    if speed == 1.0:
        return WallClock()
    wall_origin = datetime.fromisoformat(str(detail["wall_origin"]))
    clock_origin = datetime.fromisoformat(str(detail["clock_origin"]))
    elapsed = datetime.now(UTC) - wall_origin
    return AcceleratedClock(speed, clock_origin + elapsed * speed)


class EventLines:
    """The broker's events as JSON lines on ``stream``, one flushed line per event.

    ``--events jsonl``: for scripts and tests that act at a given moment of a run (stop
    it after a child's intent is journaled, during a wave's cancels...).
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def observe(self, event: BrokerEvent) -> None:
        """Write ``event`` as one line of JSON and flush it."""
        self.stream.write(json.dumps(event_record(event)) + "\n")
        self.stream.flush()


def event_record(event: BrokerEvent) -> dict[str, Any]:
    """``event`` as a flat JSON-able dict: ``{"event": "ChildSent", "client_order_id": ...}``."""
    record: dict[str, Any] = {"event": type(event).__name__}
    child = getattr(event, "child", None)
    if isinstance(child, ChildOrder):
        record.update(
            client_order_id=child.client_order_id,
            parent_order_id=child.parent_order_id,
            wave=child.wave,
            symbol=child.symbol,
            status=str(child.status),
            filled=str(child.filled),
        )
    for name in ("run_id", "wave", "num_waves", "attempt", "reason", "message", "num_children"):
        if hasattr(event, name):
            record[name] = getattr(event, name)
    at = getattr(event, "at", None)
    if isinstance(at, datetime):
        record["at"] = at.isoformat()
    return record


def _random_orders(
    spec: RandomOrders,
    markets: dict[str, MarketLimits],
    mids: dict[str, Decimal],
    symbols: dict[int, str],
    start: datetime,
) -> list[Order]:
    """Materialise ``spec`` now that the venue's limits and mids are known."""
    rng = random.Random(spec.seed)
    candidates = sorted(a for a, s in symbols.items() if s in markets and s in mids)
    if not candidates:
        raise InvalidOrderInput("no asset of the universe trades on this venue")
    end = start + timedelta(minutes=spec.minutes)
    orders = []
    # Distinct assets while there are enough; a parent id is unique either way.
    picks = (
        rng.sample(candidates, spec.count)
        if spec.count <= len(candidates)
        else [rng.choice(candidates) for _ in range(spec.count)]
    )
    for order_id, asset_id in enumerate(picks):
        limits = markets[symbols[asset_id]]
        factor = Decimal(str(round(rng.uniform(1.0, 4.0), 3)))
        sign = 1 if rng.random() < 0.5 else -1
        size = quantize_amount(
            limits, minimal_order_amount(limits, mids[symbols[asset_id]]) * factor
        )
        orders.append(
            Order(
                order_id=order_id,
                creation_timestamp=start,
                asset_id=asset_id,
                type_="price@twap",
                start_timestamp=start,
                end_timestamp=end,
                curr_num_shares=Decimal(0),
                diff_num_shares=sign * size,
                tz="UTC",
            )
        )
    return orders


# -- progress --------------------------------------------------------------------------


class ProgressDisplay:
    """A live per-wave table of disjoint child counts, elapsed time and ETA, and warnings.

    Use :meth:`observe` as the broker's observer inside ``with display:``. Each child is
    counted once, in the category of its latest state (:func:`~exsdk.app.outcomes.child_outcome`),
    so ``sent`` is always the sum of the sent categories. With ``clock`` and ``ends_at``
    (the last window's end on the run's clock) the title shows the time left, in wall
    seconds at the clock's ``speed``. Warnings and rejections are printed above the table
    as one line each.
    """

    def __init__(
        self,
        console: Console,
        *,
        title: str = "",
        clock: Clock | None = None,
        ends_at: datetime | None = None,
        speed: float = 1.0,
    ) -> None:
        self.console = console
        self.title = title
        self.clock = clock
        self.ends_at = ends_at
        self.speed = speed
        self.children: dict[str, ChildOrder] = {}
        self.waves: set[int] = set()
        self.num_waves: int | None = None
        self.skipped: dict[int, str] = {}
        self._started = time.monotonic()
        self._live = Live(
            console=console,
            refresh_per_second=4,
            transient=False,
            get_renderable=self._render,
        )
        self._warned: set[str] = set()
        self._quiet = logging.NullHandler()

    def __enter__(self) -> ProgressDisplay:
        self._started = time.monotonic()
        # The display is the broker's voice: every warning and rejection the broker logs
        # also arrives as an event and is printed above the table. Without a handler of
        # the caller's, Python's last-resort handler would print each one a second time.
        logging.getLogger(_BROKER_LOGGER).addHandler(self._quiet)
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger(_BROKER_LOGGER).removeHandler(self._quiet)
        self._live.refresh()
        self._live.__exit__(None, None, None)
        # Off a terminal Live leaves the cursor after the table; the next output needs a line.
        if not self.console.is_terminal:
            self.console.print()

    def line(self, text: str, style: str = "yellow") -> None:
        """Print one line above the live table."""
        self._live.console.print(Text(text, style=style), soft_wrap=True)

    def observe(self, event: BrokerEvent) -> None:
        """The broker's observer: record the child's latest state and refresh the display."""
        child = getattr(event, "child", None)
        if isinstance(child, ChildOrder):
            self.children[child.client_order_id] = child
            self.waves.add(child.wave)
        if isinstance(event, WaveStarted):
            self.num_waves = event.num_waves
            self.waves.add(event.wave)
        elif isinstance(event, WaveSkipped):
            self.skipped[event.wave] = event.reason
            self.line(f"warning: wave {event.wave} skipped: {event.reason}")
        elif isinstance(event, ChildRejected):
            reason = " ".join(event.reason.split())
            # A liquidity refusal (-4131, Bybit's price band) gets the broker's own
            # clearer warning line right after this event.
            if event.error != "LiquidityRejected":
                self.line(f"rejected: {event.child.client_order_id} {event.child.symbol}: {reason}")
        elif isinstance(event, Warned):
            message = " ".join(event.message.split())
            if message not in self._warned:
                self._warned.add(message)
                self.line(f"warning: {message}")
        self._live.refresh()

    def counts(self) -> dict[int, dict[str, int]]:
        """Per wave: ``sent`` and one count per :data:`~exsdk.app.outcomes.OUTCOMES`."""
        table = {w: {"sent": 0, **dict.fromkeys(OUTCOMES, 0)} for w in self.waves}
        for child in self.children.values():
            outcome = child_outcome(child)
            if outcome is None:
                continue
            row = table.setdefault(child.wave, {"sent": 0, **dict.fromkeys(OUTCOMES, 0)})
            row[outcome] += 1
            if is_sent(outcome):
                row["sent"] += 1
        return table

    def _timing(self) -> str:
        elapsed = time.monotonic() - self._started
        text = f"elapsed {_human(timedelta(seconds=elapsed))}"
        if self.clock is not None and self.ends_at is not None:
            left = max(0.0, (self.ends_at - self.clock.now()).total_seconds() / self.speed)
            text += f", ETA {_human(timedelta(seconds=left))}"
        return text

    def _render(self) -> Table:
        total = f" of {self.num_waves}" if self.num_waves else ""
        title = f"{self.title} waves{total}".strip()
        table = Table(
            title=f"{title} - {self._timing()}",
            title_justify="left",
            caption=WAVE_LEGEND,
            caption_justify="left",
        )
        for column in ("wave", "sent", *OUTCOMES):
            table.add_column(column, justify="right")
        counts = self.counts()
        for index in sorted(counts):
            c = counts[index]
            cells = [str(c[o]) for o in OUTCOMES]
            rejected = OUTCOMES.index("rejected")
            styled = [
                Text(cell, style="red" if i == rejected and c["rejected"] else "")
                for i, cell in enumerate(cells)
            ]
            table.add_row(str(index), str(c["sent"]), *styled)
        for index in sorted(self.skipped):
            if index not in counts:
                table.add_row(str(index), "skipped", *([""] * len(OUTCOMES)))
        return table


# -- the run -----------------------------------------------------------------------------


async def _sample_books(
    adapter: ExchangeAdapter,
    journal: Journal,
    run_id: str,
    clock: Clock,
    symbols: Sequence[str],
    every: float,
) -> None:
    """Journal the top of every symbol's book each ``every`` clock seconds, until cancelled.

    The broker journals the children it priced but not the books it priced them from;
    these samples are the reference (arrival mid, wave TWAP of the mid) that
    :mod:`exsdk.app.quality` measures slippage against.
    """
    while True:
        await _sample_once(adapter, journal, run_id, clock, symbols)
        await clock.sleep(every)


async def _sample_once(
    adapter: ExchangeAdapter,
    journal: Journal,
    run_id: str,
    clock: Clock,
    symbols: Sequence[str],
) -> dict[str, Decimal]:
    async def one(symbol: str) -> tuple[str, Decimal] | None:
        try:
            book = await adapter.best_bid_ask(symbol)
        except SdkError:
            return None  # a missing sample is a gap in a chart, not a failed run
        journal.record_raw(
            run_id,
            MID_SAMPLE,
            {
                "symbol": symbol,
                "bid": book.bid,
                "ask": book.ask,
                "at": clock.now(),
                "venue_at": book.timestamp,
            },
        )
        return symbol, book.mid

    found = await asyncio.gather(*(one(s) for s in symbols))
    return dict(x for x in found if x is not None)


@contextlib.asynccontextmanager
async def _adapter(
    prepared: PreparedExperiment, local: LocalVenue | None
) -> AsyncIterator[ExchangeAdapter]:
    from exsdk.registry import get_adapter

    credentials = prepared.credentials
    base_url = None
    options: dict[str, Any] = {}
    if prepared.config.recv_window_ms is not None:
        options["options"] = {"recvWindow": prepared.config.recv_window_ms}
    if prepared.venue is Venue.SIM:
        if local is None:
            raise SdkError("venue 'sim' needs a running simulator")
        base_url = local.base_url
        if credentials is None:
            credentials = Credentials(venue=Venue.SIM, api_key=local.api_key, secret=local.secret)
        # The simulator enforces Binance's limits itself; ccxt's throttle only slows a demo.
        options["enableRateLimit"] = False
    adapter = get_adapter(
        prepared.adapter_name,
        venue=prepared.venue,
        environment=prepared.environment,
        credentials=credentials,
        base_url=base_url,
        markets_cache=False if prepared.venue is Venue.SIM else None,
        ccxt_options=options,
        allow_live=prepared.config.allow_live,
    )
    try:
        yield adapter
    finally:
        await adapter.close()


async def run_experiment(
    prepared: PreparedExperiment,
    *,
    local: LocalVenue | None = None,
    console: Console | None = None,
    universe: Universe = DEFAULT_UNIVERSE,
    observer: Observer | None = None,
) -> ExperimentResult:
    """Run the prepared experiment to the end and return its fills.

    Every request, response, child and trade goes to the journal at
    ``prepared.journal_path``; the run is ``prepared.run_id`` in it. ``observer``, when
    given, receives every broker event too (after the progress display).
    """
    console = console or Console()
    async with _adapter(prepared, local) as adapter:
        markets = await adapter.load_markets()
        wall_origin = datetime.now(UTC)
        clock: Clock = (
            WallClock() if prepared.speed == 1.0 else AcceleratedClock(prepared.speed, wall_origin)
        )
        clock_origin = clock.now()
        start = clock_origin + timedelta(seconds=_LEAD_SECONDS)
        journal = Journal.open(prepared.journal_path)
        try:
            # One process drives a run: a second experiment with this run id stops here.
            with journal.lease(prepared.run_id):
                if prepared.run_id in journal.run_ids():
                    raise InvalidOrderInput(
                        f"run {prepared.run_id!r} is already in journal "
                        f"{prepared.journal_path}; pick another --run-id"
                    )
                return await _run(
                    prepared,
                    adapter,
                    journal,
                    clock,
                    markets,
                    console,
                    universe,
                    observer,
                    wall_origin=wall_origin,
                    clock_origin=clock_origin,
                    start=start,
                )
        finally:
            journal.close()


async def _run(
    prepared: PreparedExperiment,
    adapter: ExchangeAdapter,
    journal: Journal,
    clock: Clock,
    markets: dict[str, MarketLimits],
    console: Console,
    universe: Universe,
    observer: Observer | None,
    *,
    wall_origin: datetime,
    clock_origin: datetime,
    start: datetime,
) -> ExperimentResult:
    run_id = prepared.run_id
    if prepared.random is not None:
        symbols = {a.asset_id: adapter.symbol_for(a.base, a.quote) for a in universe}
        mids = await _sample_once(
            adapter, journal, run_id, clock, sorted(s for s in symbols.values() if s in markets)
        )
        orders = _random_orders(prepared.random, markets, mids, symbols, start)
        shift = None
        console.print(
            f"{len(orders)} random orders (seed {prepared.random.seed}), "
            f"window {prepared.random.minutes:g} min from now"
        )
    else:
        orders, shift = rebase_orders(prepared.orders, start)
        if shift is not None:
            span = max(o.end_timestamp - o.start_timestamp for o in orders)
            console.print(
                f"Orders re-based: windows moved forward by {_human(shift)} to start now "
                f"({start:%Y-%m-%d %H:%M:%S} UTC); durations kept (longest {_human(span)})."
            )
    symbols_by_id = {o.asset_id: _symbol_of(o, adapter, universe) for o in orders}
    if prepared.speed != 1.0:
        real = (max(o.end_timestamp for o in orders) - clock_origin) / prepared.speed
        console.print(
            f"Clock accelerated {prepared.speed:g}x on the simulator: "
            f"a {_human(max(o.end_timestamp - o.start_timestamp for o in orders))} window "
            f"takes about {_human(real)}."
        )
    journal.record_run_event(
        run_id,
        CLOCK_EVENT,
        {
            "speed": prepared.speed,
            "wall_origin": wall_origin,
            "clock_origin": clock_origin,
            "venue": str(prepared.venue),
            "adapter": prepared.adapter_name,
            "rebased_by_seconds": None if shift is None else shift.total_seconds(),
            "source": "random" if prepared.random else str(prepared.config.orders_path),
            "sim_seed": prepared.config.sim_seed if prepared.venue is Venue.SIM else None,
        },
    )
    display = ProgressDisplay(
        console,
        title=f"run {run_id}",
        clock=clock,
        ends_at=max(o.end_timestamp for o in orders),
        speed=prepared.speed,
    )
    observe = display.observe if observer is None else _both(display.observe, observer)
    broker = Broker(
        adapter,
        prepared.environment,
        journal,
        clock,
        run_id=run_id,
        universe=universe,
        limit_prices=LimitPriceComputer(prepared.passivity),
        twap=prepared.twap,
        observer=observe,
    )
    traded = sorted(set(symbols_by_id.values()))
    window = max(o.end_timestamp - o.start_timestamp for o in orders).total_seconds()
    # About 60 samples a window, but no more than ~10 a second of real time per symbol.
    every = max(window / 60, 0.1 * prepared.speed)
    sampler = asyncio.create_task(_sample_books(adapter, journal, run_id, clock, traded, every))
    try:
        with display:
            children = await broker.submit_orders(orders)
            fills = await broker.get_fills()
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
    # One last sample so the charts' mid line covers the end of the window.
    await _sample_once(adapter, journal, run_id, clock, traded)
    return ExperimentResult(
        run_id=run_id,
        journal_path=prepared.journal_path,
        orders=tuple(orders),
        symbols=symbols_by_id,
        children=tuple(children),
        fills=tuple(fills),
        speed=prepared.speed,
        rebased_by=shift,
    )


def _both(first: Observer, second: Observer) -> Observer:
    def observe(event: BrokerEvent) -> None:
        first(event)
        second(event)

    return observe


def _symbol_of(order: Order, adapter: ExchangeAdapter, universe: Universe) -> str:
    explicit = order.extra_params.get("ccxt_symbol")
    if isinstance(explicit, str):
        return explicit
    asset = universe.resolve(order.asset_id)
    return adapter.symbol_for(asset.base, asset.quote)


def _human(span: timedelta) -> str:
    seconds = span.total_seconds()
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:,.0f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 120:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s"


def summary_lines(result: ExperimentResult) -> Group:
    """Where the journal is and what the run is called, for the end of the output."""
    return Group(
        Text.assemble(("run id   ", "bold"), result.run_id),
        Text.assemble(("journal  ", "bold"), str(result.journal_path)),
    )
