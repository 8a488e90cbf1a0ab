"""CompleteMultipartUpload gives the object CreateMultipartUpload's Bucket Key and Object Lock settings.

AWS rule relied on (CreateMultipartUpload API reference): x-amz-server-side-encryption-bucket-key-enabled
"Specifies whether Amazon S3 should use an S3 Bucket Key for object encryption with server-side
encryption using Key Management Service (KMS) keys (SSE-KMS)"; x-amz-object-lock-mode, -retain-until-date
and -legal-hold give "the Object Lock mode / date / legal hold status that you want to apply to the
uploaded object". The response carries x-amz-server-side-encryption-bucket-key-enabled.

moto kept only the algorithm and key id on the upload: the completed object got the bucket default's
Bucket Key setting and no Object Lock settings at all (a multipart copy of a locked object lost its
lock).
"""

from typing import Any

from . import _support


def apply() -> None:
    from moto.s3.models import FakeMultipart, S3Backend
    from moto.s3.responses import S3Response

    _support.install_request_context()
    FakeMultipart.requested_settings = None

    original_create = S3Backend.create_multipart_upload

    def create_multipart_upload(self: Any, *args: Any, **kwargs: Any) -> Any:
        multipart = original_create(self, *args, **kwargs)
        headers = _support.request_headers()
        bucket_key = headers.get("x-amz-server-side-encryption-bucket-key-enabled")
        multipart.requested_settings = {
            "bucket_key_enabled": None if bucket_key is None else str(bucket_key).lower(),
            "lock_mode": headers.get("x-amz-object-lock-mode"),
            "lock_until": headers.get("x-amz-object-lock-retain-until-date"),
            "lock_legal_status": headers.get("x-amz-object-lock-legal-hold"),
        }
        _support.ctx_set("multipart_settings", multipart.requested_settings)
        return multipart

    S3Backend.create_multipart_upload = create_multipart_upload

    original_complete = S3Backend.complete_multipart_upload

    def complete_multipart_upload(self: Any, bucket_name: str, multipart_id: str, body: Any) -> Any:
        multipart = self.get_bucket(bucket_name).multiparts.get(multipart_id)
        settings = getattr(multipart, "requested_settings", None) or {}
        key = original_complete(self, bucket_name, multipart_id, body)
        if key is not None:
            for name, value in settings.items():
                if value is not None:
                    setattr(key, name, value)
        return key

    S3Backend.complete_multipart_upload = complete_multipart_upload

    original_post = S3Response._key_response_post

    def _key_response_post(self: Any, request: Any, body: Any, bucket_name: str, query: Any, key_name: str) -> Any:
        status, headers, content = original_post(self, request, body, bucket_name, query, key_name)
        settings = _support.ctx_get("multipart_settings")
        if "uploads" in query and status == 200 and settings and settings["bucket_key_enabled"] == "true":
            headers["x-amz-server-side-encryption-bucket-key-enabled"] = "true"
        return status, headers, content

    S3Response._key_response_post = _key_response_post
