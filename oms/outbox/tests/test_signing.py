from __future__ import annotations

import json

import pytest

from oms.outbox.domain.envelope import Event, envelope_body, topic_matches
from oms.outbox.domain.signing import (
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    SignatureInvalid,
    compute_signature,
    signature_headers,
    verify_signature,
)

SECRET = "s3cret-for-signing-tests"
NOW = 1_800_000_000
BODY = envelope_body(Event("e-1", "order.shipped", "2026-11-26T10:00:00+08:00", "orders.order", "42", {"n": 1}))


def _signed(timestamp: int = NOW, body: bytes = BODY, secret: str = SECRET) -> dict[str, str]:
    return signature_headers(secret=secret, event_id="e-1", timestamp=timestamp, body=body)


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert _signed()[HEADER_SIGNATURE] == f"v1={expected}"
    assert compute_signature(SECRET, NOW, BODY) == expected


def test_a_fresh_untouched_request_verifies() -> None:
    verified = verify_signature(SECRET, _signed(), BODY, now=NOW + 10)
    assert verified.event_id == "e-1"
    assert verified.timestamp == NOW


def test_header_names_are_case_insensitive() -> None:
    headers = {k.lower(): v for k, v in _signed().items()}
    assert verify_signature(SECRET, headers, BODY, now=NOW).event_id == "e-1"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, b: (h, b.replace(b'"n":1', b'"n":2')),  # body changed
        lambda h, b: ({**h, HEADER_TIMESTAMP: str(NOW + 1)}, b),  # timestamp changed
        lambda h, b: ({**h, HEADER_SIGNATURE: "v1=" + "0" * 64}, b),  # signature forged
        lambda h, b: ({**h, HEADER_SIGNATURE: h[HEADER_SIGNATURE].replace("v1=", "v0=")}, b),  # unknown scheme
        lambda h, b: (_signed(secret="another-secret"), b),  # signed with the wrong key
    ],
)
def test_tampered_requests_are_refused(tamper: object) -> None:
    headers, body = tamper(_signed(), BODY)  # type: ignore[operator]
    with pytest.raises(SignatureInvalid) as info:
        verify_signature(SECRET, headers, body, now=NOW)
    assert info.value.code == "invalid_signature"
    assert info.value.status == 401


@pytest.mark.parametrize("skew", [-301, 301, 10_000])
def test_stale_or_future_timestamps_are_refused(skew: int) -> None:
    with pytest.raises(SignatureInvalid) as info:
        verify_signature(SECRET, _signed(), BODY, tolerance_s=300, now=NOW + skew)
    assert info.value.code == "signature_stale"


@pytest.mark.parametrize("missing", [HEADER_SIGNATURE, HEADER_TIMESTAMP])
def test_unsigned_requests_are_refused(missing: str) -> None:
    headers = {k: v for k, v in _signed().items() if k != missing}
    with pytest.raises(SignatureInvalid) as info:
        verify_signature(SECRET, headers, BODY, now=NOW)
    assert info.value.code == "signature_missing"


def test_garbage_timestamp_is_refused() -> None:
    with pytest.raises(SignatureInvalid):
        verify_signature(SECRET, {**_signed(), HEADER_TIMESTAMP: "yesterday"}, BODY, now=NOW)


def test_rotating_secrets_any_listed_signature_may_match() -> None:
    old, new = _signed(secret="old-secret"), _signed(secret=SECRET)
    headers = {**new, HEADER_SIGNATURE: f"{old[HEADER_SIGNATURE]},{new[HEADER_SIGNATURE]}"}
    assert verify_signature(SECRET, headers, BODY, now=NOW).event_id == "e-1"


def test_a_replay_inside_the_window_carries_the_same_event_id_so_dedupe_drops_it() -> None:
    seen: set[str] = set()
    applied = []
    for _ in range(2):  # the same captured request, sent twice
        event_id = verify_signature(SECRET, _signed(), BODY, now=NOW + 5).event_id
        assert json.loads(BODY)["id"] == event_id  # the signed body names the event, not only the header
        if event_id not in seen:
            seen.add(event_id)
            applied.append(event_id)
    assert applied == ["e-1"]
    # Outside the window the same replay is refused outright.
    with pytest.raises(SignatureInvalid):
        verify_signature(SECRET, _signed(), BODY, now=NOW + 3600)


def test_envelope_is_stable_json_with_the_event_id() -> None:
    event = Event("e-2", "stock.available_changed", "2026-01-01T00:00:00+00:00", "channels.channelstock", "7", {})
    assert envelope_body(event) == envelope_body(event)
    assert json.loads(envelope_body(event)) == {
        "id": "e-2",
        "topic": "stock.available_changed",
        "occurred_at": "2026-01-01T00:00:00+00:00",
        "aggregate": {"type": "channels.channelstock", "id": "7"},
        "data": {},
    }


@pytest.mark.parametrize(
    ("pattern", "topic", "matches"),
    [
        ("*", "order.shipped", True),
        ("order.*", "order.shipped", True),
        ("order.*", "orders.shipped", False),
        ("order.shipped", "order.shipped", True),
        ("order.shipped", "order.signed", False),
    ],
)
def test_topic_patterns(pattern: str, topic: str, matches: bool) -> None:
    assert topic_matches(pattern, topic) is matches
