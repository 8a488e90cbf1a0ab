"""CopyObject and CompleteMultipartUpload honour If-Match / If-None-Match on the destination (412).

AWS rule relied on:
- CopyObject API reference, If-Match: "Copies the object if the entity tag (ETag) of the destination
  object matches the specified tag. If the ETag values do not match, the operation returns a 412
  Precondition Failed error." If-None-Match: "Copies the object only if the object key name at the
  destination does not already exist in the bucket specified. Otherwise, Amazon S3 returns a 412
  Precondition Failed error."
- CompleteMultipartUpload API reference, If-Match: "Uploads the object only if the ETag (entity tag)
  value provided during the WRITE operation matches the ETag of the object in S3. If the ETag values
  do not match, the operation returns a 412 Precondition Failed error."
- S3 User Guide, "Conditional writes": "If there's no current object version with the same name, or
  if the current object version is a delete marker, the [If-Match] operation fails with a 404 Not
  Found error." The destination compared is the current version of the key.

moto ignored both headers on CopyObject and If-Match on CompleteMultipartUpload (it had
If-None-Match there), so a conditional copy in place could overwrite an object written meanwhile.
"""

from typing import Any

from . import _support


def _check_destination(backend: Any, bucket_name: str, key_name: str) -> None:
    from moto.s3.exceptions import MissingKey, PreconditionFailed

    headers = _support.request_headers()
    if_match = headers.get("If-Match")
    if_none_match = headers.get("If-None-Match")
    if if_match is None and if_none_match is None:
        return
    current = backend.get_object(bucket_name, key_name)  # the current version; None for a delete marker
    if if_match is not None:
        if current is None:
            raise MissingKey(key=key_name)
        if if_match.strip() != "*" and current.etag.strip('"') != if_match.strip().strip('"'):
            raise PreconditionFailed("If-Match")
    if if_none_match is not None and if_none_match.strip() == "*" and current is not None:
        raise PreconditionFailed("If-None-Match")


def apply() -> None:
    from moto.s3.models import S3Backend

    _support.install_request_context()

    original_copy = S3Backend.copy_object

    def copy_object(self: Any, src_key: Any, dest_bucket_name: str, dest_key_name: str, *args: Any, **kwargs: Any) -> Any:
        _check_destination(self, dest_bucket_name, dest_key_name)
        return original_copy(self, src_key, dest_bucket_name, dest_key_name, *args, **kwargs)

    S3Backend.copy_object = copy_object

    original_complete = S3Backend.complete_multipart_upload

    def complete_multipart_upload(self: Any, bucket_name: str, multipart_id: str, body: Any) -> Any:
        multipart = self.get_bucket(bucket_name).multiparts.get(multipart_id)
        if multipart is not None:
            _check_destination(self, bucket_name, multipart.key_name)
        return original_complete(self, bucket_name, multipart_id, body)

    S3Backend.complete_multipart_upload = complete_multipart_upload
