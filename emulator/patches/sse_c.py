"""SSE-C: S3 keeps the customer key's MD5 and refuses reads that do not present the same key.

AWS rules relied on (S3 User Guide, "Using server-side encryption with customer-provided keys
(SSE-C)": "When you retrieve an object, you must provide the same encryption key as part of your
request. Amazon S3 first verifies that the encryption key that you provided matches, and then it
decrypts the object"; "Amazon S3 does not store the encryption key that you provide. Instead, it
stores a randomly salted HMAC value of the encryption key"), with the exact codes and messages from
LocalStack's AWS-validated snapshots (tests/aws/services/s3/test_s3.py, TestS3SSECEncryption):
- GetObject without the SSE-C headers: 400 InvalidRequest "The object was stored using a form of
  Server Side Encryption. The correct parameters must be provided to retrieve the object."
- GetObject with another key, or without the key MD5 header: 403 AccessDenied "Requests specifying
  Server Side Encryption with Customer provided keys must provide the correct secret key."
- HeadObject answers the same failures with the status only and no body (400 / 403).
- An algorithm other than AES256: 400 InvalidEncryptionAlgorithmError "The Encryption request you
  specified is not valid. Supported value: AES256." (HeadObject: 400 without body).
- Writes: SSE-C together with x-amz-server-side-encryption: 400 InvalidArgument "Server Side
  Encryption with Customer provided key is incompatible with the encryption method specified"; no
  algorithm / no key / key not 256 bits / missing or wrong MD5: 400 InvalidArgument with the
  snapshot messages.
- CopyObject from an SSE-C source without the x-amz-copy-source-server-side-encryption-customer-*
  headers: 400 InvalidRequest (same message as GetObject); with another key: 403 AccessDenied
  "Access Denied" (LocalStack's provider; the snapshot does not cover it).
- Successful reads and writes answer SSECustomerAlgorithm and SSECustomerKeyMD5, and no
  ServerSideEncryption (snapshots put-obj-sse-c / head-obj-sse-c / get-obj-sse-c); a copy of an SSE-C
  source without destination SSE-C headers is stored SSE-S3 ("copy-obj-sse-c-target-no-sse-c").

Not documented and chosen here: a GetObject/HeadObject that sends SSE-C headers for an object that
is not SSE-C encrypted answers 400 InvalidRequest "The encryption parameters are not applicable to
this object." (the message S3 is widely reported to send).

Which APIs take the customer key (S3 API reference, request syntax of each operation):
- GetObject, HeadObject and GetObjectAttributes take x-amz-server-side-encryption-customer-* and
  are refused without it (GetObjectAttributes: "If you encrypt an object by using ... SSE-C ... when
  you retrieve the metadata from the object, you must use the following headers");
- CopyObject and UploadPartCopy take x-amz-copy-source-server-side-encryption-customer-* for their
  source and are checked like GetObject;
- GetObjectTagging, GetObjectAcl, GetObjectLegalHold and GetObjectRetention take no SSE-C headers
  at all and answer normally. moto reads these sub-resources through the same `_get_key` as
  GetObject, so the check skips them by their query sub-resource.

Not covered: the ETag of an SSE-C object is the MD5 of the plaintext here (in S3 it is not);
UploadPart does not check that its SSE-C key matches CreateMultipartUpload's.
"""

import base64
import hashlib
from typing import Any

from . import _support
from ._support import S3Error

PREFIX = "x-amz-server-side-encryption-customer-"
COPY_PREFIX = "x-amz-copy-source-server-side-encryption-customer-"
NEEDS_PARAMETERS = (
    "The object was stored using a form of Server Side Encryption. "
    "The correct parameters must be provided to retrieve the object."
)
# Object sub-resources whose requests carry no SSE-C headers in S3: answered without the key.
KEYLESS_SUBRESOURCES = ("acl", "tagging", "legal-hold", "retention")
WRONG_KEY = (
    "Requests specifying Server Side Encryption with Customer provided keys must provide the correct secret key."
)


def _given(headers: Any, prefix: str) -> bool:
    return bool(
        headers.get(prefix + "algorithm") or headers.get(prefix + "key") or headers.get(prefix + "key-md5")
    )


def _bad_algorithm(value: str) -> S3Error:
    error = S3Error(
        "InvalidEncryptionAlgorithmError",
        "The Encryption request you specified is not valid. Supported value: AES256.",
    )
    error.argument_name, error.argument_value = "x-amz-server-side-encryption", value
    return error


def _invalid_argument(message: str) -> S3Error:
    error = S3Error("InvalidArgument", message)
    error.argument_name = "x-amz-server-side-encryption"
    return error


def _key_md5(key_b64: str) -> str | None:
    try:
        raw = base64.b64decode(key_b64, validate=True)
    except ValueError:
        return None
    if len(raw) != 32:
        return None
    return base64.b64encode(hashlib.md5(raw).digest()).decode()


def validate_write(headers: Any, prefix: str) -> tuple[str, str]:
    """Validate SSE-C headers sent to encrypt; return (algorithm, key MD5)."""
    algorithm = headers.get(prefix + "algorithm")
    key = headers.get(prefix + "key")
    md5 = headers.get(prefix + "key-md5")
    if not algorithm:
        raise _invalid_argument(
            "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm."
        )
    if algorithm != "AES256":
        raise _bad_algorithm(algorithm)
    if not key:
        raise _invalid_argument(
            "Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key."
        )
    computed = _key_md5(key)
    if computed is None or not md5:
        raise _invalid_argument("The secret key was invalid for the specified algorithm.")
    if md5 != computed:
        raise _invalid_argument("The calculated MD5 hash of the key did not match the hash that was provided.")
    return algorithm, computed


def check_read(stored: Any, headers: Any, prefix: str, wrong_key_message: str = WRONG_KEY) -> None:
    """Check the SSE-C headers of a read against the object's stored (algorithm, key MD5)."""
    if stored is None:
        if headers.get(prefix + "algorithm"):
            raise S3Error("InvalidRequest", "The encryption parameters are not applicable to this object.")
        return
    if not _given(headers, prefix):
        raise S3Error("InvalidRequest", NEEDS_PARAMETERS)
    algorithm = headers.get(prefix + "algorithm")
    if algorithm != "AES256":
        raise _bad_algorithm(algorithm or "")
    md5 = headers.get(prefix + "key-md5")
    computed = _key_md5(headers.get(prefix + "key") or "")
    if not md5 or computed != stored[1]:
        raise S3Error("AccessDenied", wrong_key_message)
    if md5 != computed:
        raise _invalid_argument("The calculated MD5 hash of the key did not match the hash that was provided.")


def _on_request(response: Any, request: Any) -> None:
    if request.method not in ("PUT", "POST"):
        return
    headers = response.headers
    if _given(headers, PREFIX):
        if headers.get("x-amz-server-side-encryption"):
            error = _invalid_argument(
                "Server Side Encryption with Customer provided key is incompatible with the encryption method specified"
            )
            error.argument_value = headers.get("x-amz-server-side-encryption")
            raise error
        _support.ctx_set("sse_c", validate_write(headers, PREFIX))


def apply() -> None:
    from moto.s3.models import FakeKey, FakeMultipart, S3Backend
    from moto.s3.responses import S3Response

    _support.install_request_context()
    _support.REQUEST_HOOKS.append(_on_request)
    FakeKey.sse_c = None
    FakeMultipart.sse_c = None

    original_put_object = S3Backend.put_object

    def put_object(self: Any, *args: Any, **kwargs: Any) -> Any:
        sse_c = _support.ctx_get("sse_c")
        if sse_c:
            kwargs["encryption"] = kwargs["kms_key_id"] = kwargs["bucket_key_enabled"] = None
        key = original_put_object(self, *args, **kwargs)
        if sse_c:
            # moto fills in the bucket default; an SSE-C object is not also SSE-S3/SSE-KMS.
            key.encryption = key.kms_key_id = key.bucket_key_enabled = None
            key.sse_c = sse_c
        return key

    S3Backend.put_object = put_object

    original_create_mpu = S3Backend.create_multipart_upload

    def create_multipart_upload(self: Any, *args: Any) -> Any:
        multipart = original_create_mpu(self, *args)
        multipart.sse_c = _support.ctx_get("sse_c")
        return multipart

    S3Backend.create_multipart_upload = create_multipart_upload

    original_complete = S3Backend.complete_multipart_upload

    def complete_multipart_upload(self: Any, bucket_name: str, multipart_id: str, body: Any) -> Any:
        multipart = self.get_bucket(bucket_name).multiparts.get(multipart_id)
        if multipart is not None and multipart.sse_c:
            _support.ctx_set("sse_c", multipart.sse_c)
        return original_complete(self, bucket_name, multipart_id, body)

    S3Backend.complete_multipart_upload = complete_multipart_upload

    original_response_dict = FakeKey.response_dict.fget

    def response_dict(self: Any) -> dict[str, Any]:
        res = original_response_dict(self)
        if self.sse_c:
            res[PREFIX + "algorithm"] = self.sse_c[0]
            res[PREFIX + "key-md5"] = self.sse_c[1]
        return res

    FakeKey.response_dict = property(response_dict)

    original_get_key = S3Response._get_key

    def _get_key(self: Any, *args: Any, **kwargs: Any) -> Any:
        key, not_modified = original_get_key(self, *args, **kwargs)
        if not any(sub in self.querystring for sub in KEYLESS_SUBRESOURCES):
            check_read(key.sse_c, self.headers, PREFIX)
        return key, not_modified

    S3Response._get_key = _get_key

    original_head = S3Response.head_object

    def head_object(self: Any, bucket_name: str, query: Any, key_name: str, headers: Any) -> Any:
        status, response_headers, body = original_head(self, bucket_name, query, key_name, headers)
        stored_md5 = response_headers.get(PREFIX + "key-md5")
        if stored_md5 or headers.get(PREFIX + "algorithm"):
            stored = (response_headers.get(PREFIX + "algorithm"), stored_md5) if stored_md5 else None
            try:
                check_read(stored, headers, PREFIX)
            except S3Error as error:
                # HEAD responses carry no body: S3 answers the status alone.
                return (403 if error.code == "AccessDenied" else 400), {}, ""
        return status, response_headers, body

    S3Response.head_object = head_object

    original_copy = S3Backend.copy_object

    def copy_object(self: Any, src_key: Any, *args: Any, **kwargs: Any) -> Any:
        check_read(src_key.sse_c, _support.request_headers(), COPY_PREFIX, "Access Denied")
        return original_copy(self, src_key, *args, **kwargs)

    S3Backend.copy_object = copy_object

    original_part_copy = S3Backend.upload_part_copy

    def upload_part_copy(self: Any, *args: Any, **kwargs: Any) -> Any:
        src = _support.part_copy_source(self, args, kwargs)
        if src is not None:
            check_read(src.sse_c, _support.request_headers(), COPY_PREFIX, "Access Denied")
        return original_part_copy(self, *args, **kwargs)

    S3Backend.upload_part_copy = upload_part_copy
