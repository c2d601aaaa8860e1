"""One redaction rule for every user: SDK errors, the adapter's log filter and the journal.

``exsdk.redaction`` holds the rule; the three users must mask the same values and leave the
same others alone. Each case goes through all three (the journal to its file on disk), so a
user that grows a rule of its own, or loses one, fails here.
"""

from __future__ import annotations

import ast
import json
import logging
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import exsdk.redaction
from exsdk.adapter.redaction import SecretRedactingFilter
from exsdk.errors import SdkError
from exsdk.journal import Journal
from exsdk.journal.base import _encode
from exsdk.redaction import SECRET_KEYS, is_secret_key, may_name_secret, redact_secrets, scrub

VALUE = "s3cr3tVALUEs3cr3tVALUE0042"
# Spellings of credential names as venues and ccxt write them.
SECRET_NAMES = [
    "X-MBX-APIKEY",
    "x_mbx_apikey",
    "apiKey",
    "api_key",
    "API-KEY",
    "apiSecret",
    "secret",
    "secretKey",
    "signature",
    "Signature",
    "password",
    "passphrase",
    "privateKey",
    "accessToken",
    "token",
    "listenKey",
    "X-BAPI-API-KEY",
    "X-BAPI-SIGN",
    "OK-ACCESS-KEY",
    "OK-ACCESS-SIGN",
    "OK-ACCESS-PASSPHRASE",
    "API-Sign",
]
# Names that look close but carry no credential: left readable by every user.
PLAIN_NAMES = ["symbol", "clientOrderId", "signatureVersion", "tokens", "apiKeyId", "msg"]
# How a name and its value appear in text: query or form body, dict repr, JSON, header line.
SHAPES = [
    "https://fapi.binance.com/fapi/v1/order?symbol=X&{name}={value}&timestamp=1",
    "{{'{name}': '{value}', 'Content-Type': 'json'}}",
    '{{"{name}": "{value}", "code": -1022}}',
    "{name}: {value}",
    "request failed, {name}: {value}",
]


def _through_error(text: str) -> tuple[str, str]:
    error = SdkError(text, body=text)
    assert error.body is not None
    return str(error), error.body


def _through_log_filter(text: str) -> str:
    record = logging.LogRecord("ccxt.base.exchange", logging.DEBUG, __file__, 1, text, None, None)
    assert SecretRedactingFilter().filter(record)
    return record.getMessage()


def _through_journal(path: Path, texts: list[str]) -> bytes:
    journal = Journal.open(path)
    for text in texts:
        journal.record_raw("r", "create_order", {"text": text})
        journal.record_error("r", SdkError(text))
    journal.close()
    wal = Path(f"{path}-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", SECRET_NAMES)
def test_every_user_masks_the_same_secret(name: str, shape: str) -> None:
    assert is_secret_key(name)
    text = shape.format(name=name, value=VALUE)
    message, body = _through_error(text)
    seen = {
        "redact_secrets": redact_secrets(text),
        "SdkError message": message,
        "SdkError body": body,
        "log filter": _through_log_filter(text),
        "journal scrub": scrub(text),
    }
    for user, out in seen.items():
        assert VALUE not in out and "***" in out and name in out, (user, out)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", PLAIN_NAMES)
def test_every_user_leaves_the_same_plain_value(name: str, shape: str) -> None:
    assert not is_secret_key(name)
    text = shape.format(name=name, value=VALUE)
    message, body = _through_error(text)
    for out in (redact_secrets(text), message, body, _through_log_filter(text), scrub(text)):
        assert VALUE in out and "***" not in out, out


def test_the_journal_file_follows_the_same_rule(tmp_path: Path) -> None:
    # Raw payloads and error rows, as written to disk: every secret case masked, every
    # plain case kept (so the journal masks by the rule, not by masking everything).
    secret = _through_journal(
        tmp_path / "secret.sqlite",
        [shape.format(name=name, value=VALUE) for name in SECRET_NAMES for shape in SHAPES],
    )
    assert VALUE.encode() not in secret
    for name in PLAIN_NAMES:
        plain = _through_journal(
            tmp_path / f"{name}.sqlite", [shape.format(name=name, value=VALUE) for shape in SHAPES]
        )
        assert plain.count(VALUE.encode()) >= 2 * len(SHAPES), name


@pytest.mark.parametrize("name", SECRET_NAMES + PLAIN_NAMES)
def test_keys_and_text_follow_one_rule(name: str) -> None:
    # A payload's key is masked exactly when the same name is masked in text.
    by_key = scrub({name: VALUE})[name] != VALUE
    in_text = VALUE not in redact_secrets(json.dumps({name: VALUE}))
    assert by_key == in_text == is_secret_key(name)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", SECRET_NAMES)
def test_the_quick_test_sees_every_secret(name: str, shape: str) -> None:
    text = shape.format(name=name, value=VALUE)
    assert may_name_secret(text)
    assert may_name_secret(json.dumps({name: VALUE}))
    assert may_name_secret(json.dumps({"nested": [{"x": text}]}))


def test_every_credential_name_holds_a_part_the_quick_test_looks_for() -> None:
    parts = exsdk.redaction._NAME_PARTS
    assert all(any(part in key for part in parts) for key in SECRET_KEYS)


def test_the_quick_test_passes_a_venue_reply() -> None:
    # The point of it: a real order reply names no credential, so it is not walked.
    body = (
        Path(__file__).parents[1]
        / "samples"
        / "futures_new_order_result_real_btcusdt_limit_new.json"
    )
    reply = json.loads(body.read_text(encoding="utf-8"))
    assert not may_name_secret(json.dumps(reply))
    assert not may_name_secret(_journal_json(reply))


# Text made of credential names, near misses, their pieces, separators, the characters the
# patterns key on, and non-ASCII letters that case-fold to ASCII (the Kelvin sign to "k",
# the dotted I to "i"), so that the generator meets every branch of the rule.
_PIECES = [
    *SECRET_NAMES,
    *PLAIN_NAMES,
    *sorted(SECRET_KEYS),
    "api",
    "key",
    "sign",
    "ature",
    "pass",
    "phrase",
    "se",
    "cret",
    "tok",
    "en",
    "\\u212a",  # JSON escapes, as ensure_ascii writes them
    "\\u0130",
    "\\u",
    "api\\u212aey",
    # Spellings only case folding beyond ASCII makes credential names: the Kelvin sign
    # lower-cases to "k"; the patterns also take the long s and the dotless i for s and i.
    "api\u212aey",
    "\u017fecret",
    "ap\u0131Key",
    "\u017fignature",
    VALUE,
]
_TEXT = st.lists(
    st.one_of(
        st.sampled_from(_PIECES),
        st.sampled_from(["=", ":", ": ", "&", "?", "'", '"', " ", "-", "_", ",", "{", "}"]),
        st.sampled_from(["\u212a", "\u0130", "\u0131", "\u017f", "\u00e9"]),
        st.text(max_size=4),
    ),
    max_size=12,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(_TEXT)
def test_the_quick_test_never_misses_what_the_patterns_mask(text: str) -> None:
    # "Names none" must mean that the patterns, run without the shortcut, change nothing.
    if not may_name_secret(text):
        assert exsdk.redaction._redact(text) == text


_KEYS = st.one_of(st.sampled_from(_PIECES), _TEXT)
_PAYLOADS = st.recursive(
    st.one_of(st.none(), st.integers(), st.floats(allow_nan=False), _TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_KEYS, inner, max_size=3)),
    max_leaves=8,
)


@settings(max_examples=400, deadline=None)
@given(_PAYLOADS)
def test_a_payload_whose_json_names_no_secret_needs_no_scrub(payload: object) -> None:
    # What the journal relies on: it serialises a payload once, and scrubs it only when
    # the JSON text might name a credential (ensure_ascii escapes what is not ASCII; the
    # journal's own encoder, orjson where installed, writes it as UTF-8).
    for text in (json.dumps(payload), _journal_json(payload)):
        if not may_name_secret(text):
            assert scrub(payload) == payload
            assert all(not is_secret_key(k) for k in _keys_of(payload))
            assert all(exsdk.redaction._redact(s) == s for s in _strings_of(payload))


def _journal_json(payload: object) -> str:
    return _encode(payload)


def _keys_of(value: object) -> list[str]:
    if isinstance(value, dict):
        return [*value, *(k for v in value.values() for k in _keys_of(v))]
    if isinstance(value, list):
        return [k for v in value for k in _keys_of(v)]
    return []


def _strings_of(value: object) -> list[str]:
    if isinstance(value, dict):
        return [*value, *(s for v in value.values() for s in _strings_of(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings_of(v)]
    return [value] if isinstance(value, str) else []


def _imported_roots(tree: ast.Module) -> set[str]:
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_rule_lives_below_its_users() -> None:
    # exsdk.redaction imports the standard library only, so errors, the adapter and the
    # journal can all stand on it; none of them keeps a rule of its own.
    root = Path(exsdk.redaction.__file__).parent
    tree = ast.parse((root / "redaction.py").read_text(encoding="utf-8"))
    assert _imported_roots(tree) <= {"__future__", "re", "collections", "functools", "typing"}
    for user in ("errors.py", "adapter/redaction.py", "journal/base.py", "app/diagnosis.py"):
        source = (root / user).read_text(encoding="utf-8")
        functions = {n.name for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef)}
        assert "from exsdk.redaction import" in source, user
        assert not functions & {"redact_secrets", "scrub", "_is_secret_key"}, user
        assert "SECRET_KEYS = " not in source and "_SECRET_IN" not in source, user
