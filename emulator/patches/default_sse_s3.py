"""S3 default encryption: every new object is encrypted, SSE-S3 unless the bucket says otherwise.

AWS rules relied on:
- S3 User Guide, "Setting default server-side encryption behavior for Amazon S3 buckets": "All
  Amazon S3 buckets have encryption configured by default, and objects are automatically encrypted
  by using server-side encryption with Amazon S3 managed keys (SSE-S3). This encryption setting
  applies to all objects in your Amazon S3 buckets." (since January 5, 2023).
- S3 API reference, PutObject / CopyObject / CreateMultipartUpload response header
  x-amz-server-side-encryption: "The server-side encryption algorithm used when you store this
  object in Amazon S3 or Amazon FSx." A write without SSE headers therefore answers AES256 (see
  LocalStack's AWS-validated snapshot "create-mpu-no-sse-c": ServerSideEncryption AES256).
- GetBucketEncryption on a bucket that was never configured returns the default rule
  SSEAlgorithm AES256, BucketKeyEnabled false (the default configuration above; DeleteBucketEncryption
  "resets the default encryption for the bucket as server-side encryption with Amazon S3 managed
  keys (SSE-S3)").

What the patch does: a write with no SSE headers into a bucket without a default-encryption
configuration is stored with encryption AES256 (PutObject, CopyObject's destination,
CreateMultipartUpload and so CompleteMultipartUpload); GetBucketEncryption answers the SSE-S3 rule
instead of 404 ServerSideEncryptionConfigurationNotFoundError; CreateMultipartUpload answers the
encryption the upload will use (moto echoed the request headers only). A bucket default of
aws:kms / aws:kms:dsse is applied by moto itself (its key handling is in sse_kms_key_arn); SSE-C
writes are left unencrypted-by-S3 (sse_c).

Not covered: objects that existed before the emulator started (there are none: state is in memory).
"""

from typing import Any

from . import _support

DEFAULT_RULE = {
    "Rule": {
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
        "BucketKeyEnabled": False,
    }
}


def apply() -> None:
    from moto.s3.models import S3Backend
    from moto.s3.responses import S3Response

    _support.install_request_context()

    original_get_encryption = S3Backend.get_bucket_encryption

    def get_bucket_encryption(self: Any, bucket_name: str) -> Any:
        return original_get_encryption(self, bucket_name) or DEFAULT_RULE

    S3Backend.get_bucket_encryption = get_bucket_encryption

    original_put_object = S3Backend.put_object

    def put_object(self: Any, bucket_name: str, key_name: str, value: bytes, *args: Any, **kwargs: Any) -> Any:
        if (
            not kwargs.get("encryption")
            and not _support.ctx_get("sse_c")
            and not self.get_bucket(bucket_name).encryption
        ):
            kwargs["encryption"] = "AES256"
        return original_put_object(self, bucket_name, key_name, value, *args, **kwargs)

    S3Backend.put_object = put_object

    original_create_mpu = S3Backend.create_multipart_upload

    def create_multipart_upload(self: Any, bucket_name: str, key_name: str, metadata: Any, storage_type: str,
                                tags: Any, acl: Any, sse_encryption: Any, kms_key_id: Any) -> Any:
        if not sse_encryption and not _support.ctx_get("sse_c") and not self.get_bucket(bucket_name).encryption:
            sse_encryption = "AES256"
        multipart = original_create_mpu(
            self, bucket_name, key_name, metadata, storage_type, tags, acl, sse_encryption, kms_key_id
        )
        _support.ctx_set("multipart", multipart)
        return multipart

    S3Backend.create_multipart_upload = create_multipart_upload

    original_post = S3Response._key_response_post

    def _key_response_post(self: Any, request: Any, body: Any, bucket_name: str, query: Any, key_name: str) -> Any:
        status, headers, content = original_post(self, request, body, bucket_name, query, key_name)
        multipart = _support.ctx_get("multipart")
        if "uploads" in query and multipart is not None and status == 200:
            for name in list(headers):
                if name.lower().startswith("x-amz-server-side-encryption"):
                    del headers[name]
            headers.update(multipart_encryption_headers(multipart))
        return status, headers, content

    S3Response._key_response_post = _key_response_post


def multipart_encryption_headers(multipart: Any) -> dict[str, str]:
    """The SSE response headers of CreateMultipartUpload for this upload."""
    headers: dict[str, str] = {}
    sse_c = getattr(multipart, "sse_c", None)
    if sse_c:
        headers["x-amz-server-side-encryption-customer-algorithm"] = sse_c[0]
        headers["x-amz-server-side-encryption-customer-key-md5"] = sse_c[1]
        return headers
    if multipart.sse_encryption:
        headers["x-amz-server-side-encryption"] = multipart.sse_encryption
        if multipart.sse_encryption in _support.KMS_ALGORITHMS and multipart.kms_key_id:
            headers["x-amz-server-side-encryption-aws-kms-key-id"] = multipart.kms_key_id
    return headers
