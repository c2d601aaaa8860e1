"""The request records read a signed request's ``timestamp`` and ``recvWindow`` as the
regular expression they replaced did, from a URL's query or a form body."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from exsdk.adapter.requests import _param


def _param_by_regex(name: str, *texts: object) -> int | None:
    """The first ``name(\\d+)`` match that starts a parameter, by ``re.finditer``."""
    pattern = re.compile(re.escape(name) + r"(\d+)")
    for text in texts:
        if isinstance(text, str):
            query = text.partition("?")[2] if "?" in text else text
            for match in pattern.finditer(query):
                at = match.start()
                if at == 0 or query[at - 1] in "?&":
                    return int(match.group(1))
    return None


_PARTS = st.sampled_from(
    [
        "timestamp=",
        "recvWindow=",
        "xtimestamp=",
        "?",
        "&",
        "=",
        "https://h/fapi/v1/order",
        "symbol=BTCUSDT",
        "1739781831932",
        "5000",
        "0",
        "x",
        "١٢",
        "signature=ab",
        "",
    ]
)
_TEXT = st.one_of(st.none(), st.lists(_PARTS, max_size=10).map("".join))


@settings(max_examples=3000, deadline=None)
@given(st.sampled_from(["timestamp=", "recvWindow="]), _TEXT, _TEXT)
@example("timestamp=", "https://h/p?a=1&timestamp=17", None)
@example("timestamp=", "https://h/p", "symbol=X&timestamp=17&recvWindow=5")
@example("recvWindow=", "https://h/p?xrecvWindow=1", "recvWindow=5")
@example("timestamp=", "timestamp=?timestamp=3", None)  # only the query counts
@example("timestamp=", "a?b?timestamp=3", None)
@example("timestamp=", "timestamp=&timestamp=4", None)
def test_a_signed_parameter_reads_as_the_regex_reads_it(
    name: str, url: str | None, body: str | None
) -> None:
    assert _param(name, url, body) == _param_by_regex(name, url, body)
