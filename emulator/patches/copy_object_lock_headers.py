"""CopyObject accepts Object Lock headers without Content-MD5.

AWS rule relied on: the CopyObject API reference lists x-amz-object-lock-mode,
x-amz-object-lock-retain-until-date and x-amz-object-lock-legal-hold as request headers with no
other requirement; the Content-MD5 requirement is PutObject's ("The Content-MD5 or
x-amz-sdk-checksum-algorithm header is required for any request to upload an object with a
retention period configured using Amazon S3 Object Lock", PutObject API reference) and concerns a
request body, which a copy has not. S3 answers "Bucket is missing ObjectLockConfiguration" (400
InvalidRequest) when the destination bucket has no Object Lock.

moto applied PutObject's check to every PUT with those headers, so a copy that keeps an object's
lock settings failed with 400 MissingUploadObjectWithObjectLockHeaders.
"""

from typing import Any

_SUBRESOURCES = ("retention", "legal-hold", "acl", "tagging")


def apply() -> None:
    from moto.s3.exceptions import LockNotEnabled
    from moto.s3.responses import S3Response

    original = S3Response._key_response_put

    def _key_response_put(self: Any, query: dict[str, Any], key_name: str) -> Any:
        is_copy = (
            "x-amz-copy-source" in self.headers
            and not query.get("uploadId")
            and not any(name in query for name in _SUBRESOURCES)
        )
        if not is_copy:
            return original(self, query, key_name)
        # moto's own steps for a CopyObject, without the Content-MD5 check.
        self._set_action("KEY", "PUT", query)
        self._authenticate_and_authorize_s3_action(bucket_name=self.bucket_name, key_name=key_name)
        bucket = self.backend.get_bucket(self.bucket_name)
        lock_requested = (
            self.headers.get("x-amz-object-lock-mode")
            or self.headers.get("x-amz-object-lock-retain-until-date")
            or self.headers.get("x-amz-object-lock-legal-hold") == "ON"
        )
        if lock_requested and not bucket.object_lock_enabled:
            raise LockNotEnabled
        return self.copy_object()

    S3Response._key_response_put = _key_response_put
