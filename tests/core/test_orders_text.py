"""The seed's ``Order: key=value`` text: parsing, formatting, and every way input is bad."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exsdk.errors import InvalidOrderInput
from exsdk.models import Order, OrderKind
from exsdk.orders_text import FIELDS, format_orders, load_orders, parse_orders

from .helpers import EXAMPLES

DEFAULT_FILE = EXAMPLES / "default_orders.txt"
SEED = Path("/work/shared/seed/000_a348f9726d0dd710.txt")

LINE = (
    "Order: order_id=0 creation_timestamp=2022-08-05 10:36:44.976104-04:00 "
    "asset_id=1464553467 type_=price@twap start_timestamp=2022-08-05 10:36:44.976104-04:00 "
    "end_timestamp=2022-08-05 10:38:44.976104-04:00 curr_num_shares=0.0 "
    "diff_num_shares=0.121 tz=America/New_York"
)

# The seed's DEFAULT_ORDERS block as it appears there: orders wrap across lines (even in
# the middle of a timestamp) and blank lines separate them.
WRAPPED = """Order: order_id=0 creation_timestamp=2022-08-05
10:36:44.976104-04:00 asset_id=1464553467 type_=price@twap
start_timestamp=2022-08-05 10:36:44.976104-04:00
end_timestamp=2022-08-05 10:38:44.976104-04:00 curr_num_shares=0.0
diff_num_shares=0.121 tz=America/New_York

Order: order_id=1 creation_timestamp=2022-08-05 10:36:44.976104-04:00
asset_id=1467591036 type_=price@twap start_timestamp=2022-08-05
10:36:44.976104-04:00 end_timestamp=2022-08-05 10:38:44.976104-04:00
curr_num_shares=0.0 diff_num_shares=0.011 tz=America/New_York
"""


def test_default_orders_file() -> None:
    orders = load_orders(DEFAULT_FILE)
    assert [o.order_id for o in orders] == list(range(9))
    first = orders[0]
    new_york_summer = timezone(timedelta(hours=-4))
    assert first.creation_timestamp == datetime(2022, 8, 5, 10, 36, 44, 976104, new_york_summer)
    assert first.end_timestamp - first.start_timestamp == timedelta(minutes=2)
    assert first.type_ is OrderKind.TWAP
    assert first.asset_id == 1464553467
    assert first.diff_num_shares == Decimal("0.121")
    assert isinstance(first.diff_num_shares, Decimal)
    assert first.curr_num_shares == 0
    assert first.tz == "America/New_York"
    assert [str(o.diff_num_shares) for o in orders] == [
        "0.121", "0.011", "169.063", "2.828", "-33.958", "6052.094", "-0.07", "3.885", "1.384",
    ]  # fmt: skip


def test_format_gives_the_file_back_byte_for_byte() -> None:
    text = DEFAULT_FILE.read_text(encoding="utf-8")
    assert format_orders(parse_orders(text)) == text


def test_wrapped_seed_block_parses_like_the_file() -> None:
    assert parse_orders(WRAPPED) == load_orders(DEFAULT_FILE)[:2]


@pytest.mark.skipif(not SEED.exists(), reason="shared seed not present")
def test_the_seed_block_itself() -> None:
    seed = SEED.read_text(encoding="utf-8")
    block = re.search(r'DEFAULT_ORDERS = """(.*?)"""', seed, re.DOTALL)
    assert block is not None
    assert parse_orders(block.group(1)) == load_orders(DEFAULT_FILE)


def test_blank_lines_and_empty_text() -> None:
    assert parse_orders("") == []
    assert parse_orders("\n\n  \n") == []
    assert len(parse_orders(f"\n\n{LINE}\n\n")) == 1


def test_extra_params_round_trip() -> None:
    text = LINE + ' extra_params={"note": "a b tz=x", "n": [1, 2], "d": {"k": null}}'
    (order,) = parse_orders(text)
    assert order.extra_params == {"note": "a b tz=x", "n": [1, 2], "d": {"k": None}}
    assert parse_orders(format_orders([order])) == [order]


def test_keys_in_any_order() -> None:
    pairs = re.findall(r"(\w+)=(.*?)(?= \w+=|$)", LINE.removeprefix("Order: "))
    shuffled = "Order: " + " ".join(f"{k}={v}" for k, v in reversed(pairs))
    assert parse_orders(shuffled) == parse_orders(LINE)


def test_exponent_quantities_are_formatted_fixed_point() -> None:
    (order,) = parse_orders(LINE.replace("diff_num_shares=0.121", "diff_num_shares=1.5E-7"))
    assert "diff_num_shares=0.00000015 " in format_orders([order])


def _bad(text: str) -> InvalidOrderInput:
    with pytest.raises(InvalidOrderInput) as info:
        parse_orders(text, source="orders.txt")
    return info.value


def _sub(old: str, new: str) -> Callable[[str], str]:
    return lambda line: line.replace(old, new, 1)


def _add(extra: str) -> Callable[[str], str]:
    return lambda line: line + extra


CREATED = "creation_timestamp=2022-08-05 10:36"
STARTED = "start_timestamp=2022-08-05 10:36"
ENDED = "end_timestamp=2022-08-05 10:38"
DIFF = "diff_num_shares=0.121"


@pytest.mark.parametrize(
    ("mutate", "field", "fragment"),
    [
        (_add(" colour=red"), "colour", "unknown key"),
        (_sub(" tz=America/New_York", ""), "tz", "missing key"),
        (_add(" tz=UTC"), "tz", "key given twice"),
        (_sub("tz=America/New_York", "tz=Mars/Olympus"), "tz", "time zone"),
        (_sub("tz=America/New_York", "tz="), "tz", "empty value"),
        (_sub("order_id=0", "order_id=x"), "order_id", "integer"),
        (_sub("order_id=0", "order_id=-1"), "order_id", "integer"),
        (_sub("asset_id=1464553467", "asset_id=1e9"), "asset_id", "integer"),
        (_sub(DIFF, "diff_num_shares=abc"), "diff_num_shares", "decimal"),
        (_sub(DIFF, "diff_num_shares=NaN"), "diff_num_shares", "decimal"),
        (_sub(DIFF, "diff_num_shares=inf"), "diff_num_shares", "decimal"),
        (_sub(DIFF, "diff_num_shares=1e999999"), "diff_num_shares", "out of range"),
        (_sub(DIFF, "diff_num_shares=0"), "diff_num_shares", "zero"),
        (_sub(DIFF, "diff_num_shares=-0.000"), "diff_num_shares", "zero"),
        (_sub("curr_num_shares=0.0", "curr_num_shares=1_000"), "curr_num_shares", "decimal"),
        (_sub(CREATED, CREATED.replace("08-05", "13-05")), "creation_timestamp", "ISO"),
        (_sub("-04:00 asset_id", " asset_id"), "creation_timestamp", "UTC offset"),
        (_sub(ENDED, ENDED.replace("10:38", "10:30")), "end_timestamp", "after start"),
        (_sub(ENDED, ENDED.replace("10:38", "10:36")), "end_timestamp", "after start"),
        (_sub(STARTED, STARTED.replace("10:36", "10:35")), "start_timestamp", "before creation"),
        (_add(" extra_params={bad json}"), "extra_params", "JSON"),
        (_add(" extra_params=[1, 2]"), "extra_params", "JSON object"),
        (_add(' extra_params={"x": NaN}'), "extra_params", "JSON"),
        (_add(' extra_params={"x": 1}junk'), "extra_params", "after the JSON"),
        (_sub("type_=price@twap", "type_=price twap"), "type_", "single word"),
    ],
)
def test_bad_values_name_line_and_field(
    mutate: Callable[[str], str], field: str, fragment: str
) -> None:
    error = _bad("\n" + mutate(LINE))
    assert error.line == 2
    assert error.field == field
    assert error.source == "orders.txt"
    assert fragment in str(error)
    assert str(error).startswith(f"orders.txt:line 2: field '{field}': ")


def test_error_names_the_line_of_the_field_in_a_wrapped_order() -> None:
    error = _bad(WRAPPED.replace("diff_num_shares=0.011", "diff_num_shares=x"))
    assert (error.line, error.field) == (10, "diff_num_shares")


def test_duplicate_order_id_names_both_lines() -> None:
    error = _bad(f"{LINE}\n{LINE}\n")
    assert (error.line, error.field) == (2, "order_id")
    assert "already used on line 1" in str(error)


def test_text_before_the_first_order() -> None:
    error = _bad(f"\nhello\n{LINE}")
    assert error.line == 2
    assert "Order:" in str(error)


def test_stray_token_inside_an_order() -> None:
    error = _bad(LINE.replace(" asset_id=", " oops asset_id="))
    assert error.field == "creation_timestamp"  # the stray word joins the timestamp value


def test_not_text() -> None:
    with pytest.raises(InvalidOrderInput):
        parse_orders(b"Order:")  # type: ignore[arg-type]


def test_load_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nope.txt"
    with pytest.raises(InvalidOrderInput, match=re.escape(str(path))):
        load_orders(path)


def test_load_directory_and_non_utf8(tmp_path: Path) -> None:
    with pytest.raises(InvalidOrderInput, match=re.escape(str(tmp_path))):
        load_orders(tmp_path)
    bad = tmp_path / "latin1.txt"
    bad.write_bytes(b"Order: \xff")
    with pytest.raises(InvalidOrderInput, match=r"latin1\.txt"):
        load_orders(str(bad))


def test_load_errors_carry_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "orders.txt"
    path.write_text(LINE.replace("order_id=0", "order_id=z"), encoding="utf-8")
    with pytest.raises(InvalidOrderInput, match=r"orders\.txt:line 1: field 'order_id'"):
        load_orders(path)


def test_format_refuses_unserialisable_extra_params() -> None:
    (order,) = parse_orders(LINE)
    weird = order.model_copy(update={"extra_params": {"x": object()}})
    with pytest.raises(InvalidOrderInput, match="extra_params"):
        format_orders([weird])


# --- properties -------------------------------------------------------------------------

_KEYWORDS = [f"{k}=" for k in (*FIELDS, "extra_params")]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=30),
            st.sampled_from(["Order:", "\n", " ", "Order: ", "{", '"', "-04:00", *_KEYWORDS]),
            st.sampled_from(LINE.split(" ")),
        ),
        max_size=40,
    ).map("".join)
)
def test_arbitrary_text_raises_only_invalid_order_input(text: str) -> None:
    try:
        orders = parse_orders(text)
    except InvalidOrderInput:
        return
    assert all(isinstance(o, Order) for o in orders)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_mutated_line_raises_only_invalid_order_input(noise: str) -> None:
    cut = len(noise) % len(LINE)
    with contextlib.suppress(InvalidOrderInput):
        parse_orders(LINE[:cut] + noise + LINE[cut:])


_aware = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=-4)), timezone(timedelta(hours=5, minutes=30))]
    ),
)
_qty = st.decimals(
    allow_nan=False, allow_infinity=False, min_value=-(10**9), max_value=10**9, places=6
)


@st.composite
def _orders(draw: st.DrawFn) -> list[Order]:
    count = draw(st.integers(0, 5))
    ids = draw(st.lists(st.integers(0, 10**12), min_size=count, max_size=count, unique=True))
    out = []
    for order_id in ids:
        created = draw(_aware)
        start = created + draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=2)))
        end = start + draw(
            st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=2))
        )
        diff = draw(_qty.filter(lambda d: d != 0))
        out.append(
            Order(
                order_id=order_id,
                creation_timestamp=created,
                asset_id=draw(st.integers(0, 9_999_999_999)),
                type_=draw(st.sampled_from(["market", "limit", "price@twap", "midpoint@twap"])),
                start_timestamp=start,
                end_timestamp=end,
                curr_num_shares=draw(_qty),
                diff_num_shares=diff,
                tz=draw(st.sampled_from(["UTC", "America/New_York", "Asia/Kolkata"])),
                extra_params=draw(
                    st.dictionaries(
                        st.text(max_size=5),
                        st.one_of(st.integers(), st.text(max_size=8)),
                        max_size=2,
                    )
                ),
            )
        )
    return out


@settings(max_examples=150, deadline=None)
@given(_orders())
def test_parse_format_round_trip(orders: list[Order]) -> None:
    text = format_orders(orders)
    assert parse_orders(text) == orders
    assert format_orders(parse_orders(text)) == text
