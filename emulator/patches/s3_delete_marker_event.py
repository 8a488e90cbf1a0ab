"""A delete marker created in a versioned bucket sends `ObjectRemoved:DeleteMarkerCreated`.

AWS rule (S3 User Guide, "Supported event types for SQS, SNS and Lambda"): "s3:ObjectRemoved:
DeleteMarkerCreated – a delete marker is created for a versioned object" (a DeleteObject without a
version id in a versioning-enabled bucket); `s3:ObjectRemoved:*` subscriptions receive it. The
event names the key and the delete marker's version id; as for every removal, it has no size and
no eTag.

moto 5.2: DeleteObject in a versioned bucket creates the marker and sends no event at all, so a
consumer never learns that the object's current version is gone.

Patch: after moto's delete_object creates a marker, send that event for the marker (a stand-in
with the marker's key name and version id), through moto's own notification path, so queue,
topic, Lambda and EventBridge destinations all see it with the sequencer patch's fresh sequencer.
"""

from __future__ import annotations

from typing import Any

from moto.s3 import notifications
from moto.s3.models import S3Backend


class _MarkerEvent:
    """What moto's event builder reads from a key, for a delete marker (which has no body)."""

    def __init__(self, name: str, version_id: str) -> None:
        self.name = name
        self.version_id = version_id
        self.etag = ""
        self.size = 0


def apply() -> None:
    original_delete_object = S3Backend.delete_object
    original_get_s3_event = notifications._get_s3_event

    def delete_object(self: Any, bucket_name: str, key_name: str, version_id: str | None = None, bypass: bool = False) -> Any:
        result = original_delete_object(self, bucket_name, key_name, version_id=version_id, bypass=bypass)
        meta = result[1] if isinstance(result, tuple) and len(result) > 1 else {}
        if version_id is None and meta.get("delete-marker") == "true" and meta.get("version-id"):
            bucket = self.get_bucket(bucket_name)
            notifications.send_event(
                self.account_id,
                notifications.S3NotificationEvent.OBJECT_REMOVED_DELETE_MARKER_CREATED_EVENT,
                bucket,
                _MarkerEvent(key_name, meta["version-id"]),
            )
        return result

    def get_s3_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, Any]:
        event = original_get_s3_event(event_name, bucket, key, notification_id)
        if isinstance(key, _MarkerEvent):
            obj = event["Records"][0]["s3"]["object"]
            obj.pop("size", None)
            obj.pop("eTag", None)
        return event

    S3Backend.delete_object = delete_object  # type: ignore[method-assign]
    notifications._get_s3_event = get_s3_event
