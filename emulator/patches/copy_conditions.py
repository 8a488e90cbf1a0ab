"""CopyObject and UploadPartCopy honour the x-amz-copy-source-if-* preconditions (412).

AWS rule relied on (S3 API reference, CopyObject, x-amz-copy-source-if-match /
-if-none-match / -if-modified-since / -if-unmodified-since):
- "Copies the object if its entity tag (ETag) matches the specified tag." / "... is different
  than the specified ETag." / "... if it has been modified since the specified time." / "... if it
  hasn't been modified since the specified time." Otherwise: 412 Precondition Failed
  (error code PreconditionFailed).
- "If both the x-amz-copy-source-if-match and x-amz-copy-source-if-unmodified-since headers are
  present in the request and evaluate as follows, Amazon S3 returns 200 OK and copies the data:
  x-amz-copy-source-if-match condition evaluates to true, and; x-amz-copy-source-if-unmodified-since
  condition evaluates to false." — so a matching If-Match overrides If-Unmodified-Since.
- "If both the x-amz-copy-source-if-none-match and x-amz-copy-source-if-modified-since headers are
  present in the request and evaluate as follows, Amazon S3 returns the 412 Precondition Failed
  response code: x-amz-copy-source-if-none-match condition evaluates to false, and;
  x-amz-copy-source-if-modified-since condition evaluates to true." — so a failing If-None-Match
  fails whatever If-Modified-Since says; a passing If-None-Match is chosen here to override
  If-Modified-Since (HTTP's rule, RFC 9110 13.2.2; AWS does not document that case).
- Dates compare at one-second resolution (Last-Modified has no sub-second part); a
  If-Modified-Since date in the future is ignored (RFC 9110 13.1.3; LocalStack's AWS-validated
  behaviour). The same headers apply to UploadPartCopy (its API reference lists them).

moto only checked x-amz-copy-source-if-none-match on CopyObject.
Not covered: If-Match / If-None-Match conditional writes on the copy destination.
"""

import datetime
from typing import Any

from . import _support


def _date(value: str) -> datetime.datetime | None:
    from email.utils import parsedate_to_datetime

    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed.replace(tzinfo=None) if parsed.tzinfo is None else parsed.astimezone(datetime.timezone.utc).replace(tzinfo=None)


def _etag_equal(etag: str, wanted: str) -> bool:
    return wanted.strip() == "*" or etag.strip('"') == wanted.strip().strip('"')


def failed_condition(headers: Any, key: Any) -> str | None:
    """The copy-source precondition the source object fails, or None."""
    last_modified = key.last_modified.replace(microsecond=0, tzinfo=None)
    if_match = headers.get("x-amz-copy-source-if-match")
    if_none_match = headers.get("x-amz-copy-source-if-none-match")
    if if_match is not None:
        if not _etag_equal(key.etag, if_match):
            return "x-amz-copy-source-If-Match"
    elif (since := headers.get("x-amz-copy-source-if-unmodified-since")) is not None:
        date = _date(since)
        if date is not None and last_modified > date:
            return "x-amz-copy-source-If-Unmodified-Since"
    if if_none_match is not None:
        if _etag_equal(key.etag, if_none_match):
            return "x-amz-copy-source-If-None-Match"
    elif (since := headers.get("x-amz-copy-source-if-modified-since")) is not None:
        date = _date(since)
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        if date is not None and date <= now and last_modified <= date:
            return "x-amz-copy-source-If-Modified-Since"
    return None


def _check(key: Any) -> None:
    from moto.s3.exceptions import PreconditionFailed

    if key is not None and (condition := failed_condition(_support.request_headers(), key)):
        raise PreconditionFailed(condition)


def apply() -> None:
    from moto.s3.models import S3Backend

    _support.install_request_context()

    original_copy = S3Backend.copy_object

    def copy_object(self: Any, src_key: Any, *args: Any, **kwargs: Any) -> Any:
        _check(src_key)
        return original_copy(self, src_key, *args, **kwargs)

    S3Backend.copy_object = copy_object

    original_part_copy = S3Backend.upload_part_copy

    def upload_part_copy(self: Any, *args: Any, **kwargs: Any) -> Any:
        _check(_support.part_copy_source(self, args, kwargs))
        return original_part_copy(self, *args, **kwargs)

    S3Backend.upload_part_copy = upload_part_copy
