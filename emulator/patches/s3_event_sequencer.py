"""S3 event notifications carry `sequencer` and `versionId`, as AWS sends them.

AWS rule (S3 User Guide, "Event message structure"): `s3.object.sequencer` is a hexadecimal string
that orders events for the same key — a later event has the greater value once the shorter string is
right-padded with zeros — and `s3.object.versionId` is present when the bucket has versioning
enabled. EventBridge "Object Created" events carry the same values as `detail.object.sequencer` and
`detail.object.version-id`.

moto 5.2: queue/topic/Lambda notifications have no sequencer and no versionId; EventBridge events
carry the constant sequencer "617f08299329d189". Consumers that order events (as sseguard's audit
worker does) cannot be tested against that.

Patch: each object write gets a sequencer from a process-wide increasing counter (16 hex digits),
remembered on moto's key object so that every destination sees the same value for one write; the
version id is added for versioned buckets.
ObjectRemoved events get a fresh (later) sequencer (the delete-marker event comes from the
s3_delete_marker_event patch). Sequencer values do not survive an emulator restart (they start from
the current time, so they still increase).
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

from moto.s3 import notifications

_lock = threading.Lock()
_counter = itertools.count(int(time.time() * 1000) << 20)


def _next_sequencer() -> str:
    with _lock:
        return format(next(_counter), "016X")


def _sequencer_of(key: Any) -> str:
    with _lock:
        value = getattr(key, "_sseguard_sequencer", None)
        if value is None:
            value = format(next(_counter), "016X")
            key._sseguard_sequencer = value
        return value


def apply() -> None:
    original_get_s3_event = notifications._get_s3_event

    def get_s3_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, Any]:
        event = original_get_s3_event(event_name, bucket, key, notification_id)
        obj = event["Records"][0]["s3"]["object"]
        # A removal is a later event on the key than the write that created the object.
        obj["sequencer"] = _next_sequencer() if "ObjectRemoved" in event_name else _sequencer_of(key)
        if bucket.is_versioned and key.version_id and key.version_id != "null":
            obj["versionId"] = key.version_id
        return event

    notifications._get_s3_event = get_s3_event

    # EventBridge: moto builds the event inside _send_event_bridge_message with a constant
    # sequencer. The write's sequencer travels in a thread-local (moto serves each request on its
    # own thread) to the rule, which replaces the constant before sending to its targets.
    from moto.events.models import Rule

    current = threading.local()
    original_send_event_bridge = notifications._send_event_bridge_message

    def send_event_bridge_message(account_id: str, bucket: Any, event_name: str, key: Any) -> None:
        current.sequencer = _sequencer_of(key)
        try:
            original_send_event_bridge(account_id, bucket, event_name, key)
        finally:
            current.sequencer = None

    original_send_to_targets = Rule.send_to_targets

    def send_to_targets(self: Any, event: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        sequencer = getattr(current, "sequencer", None)
        detail = event.get("detail") if isinstance(event, dict) else None
        if sequencer and isinstance(detail, dict) and isinstance(detail.get("object"), dict):
            detail["object"]["sequencer"] = sequencer
        return original_send_to_targets(self, event, *args, **kwargs)

    notifications._send_event_bridge_message = send_event_bridge_message
    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]
