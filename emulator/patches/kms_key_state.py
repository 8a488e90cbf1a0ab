"""S3 honours the state of the KMS key: disabled or pending-deletion keys fail writes and reads.

AWS rules relied on:
- KMS Developer Guide, "Key states of AWS KMS keys": a key in state Disabled or PendingDeletion
  cannot be used in cryptographic operations (GenerateDataKey for S3 writes, Decrypt for S3 reads).
- S3 passes the KMS failure through with a "KMS." prefix and status 400 (LocalStack's AWS-validated
  snapshot test_s3.py::test_s3_sse_validate_kms_key_state: GetObject and PutObject with a disabled
  key → 400 KMS.DisabledException "arn:...:key/<id> is disabled."; GetObject with a key pending
  deletion → 400 KMS.KMSInvalidStateException "arn:...:key/<id> is pending deletion.").
- HeadObject returns metadata only and does not call KMS, so it keeps working
  (S3 User Guide, "Specifying server-side encryption with AWS KMS (SSE-KMS)": HEAD requests do not
  need kms:Decrypt).

What the patch does: writes that resolve a KMS key (PutObject, CopyObject destination,
CreateMultipartUpload, CompleteMultipartUpload, bucket default aws:kms) refuse a disabled key with
400 KMS.DisabledException and a key pending deletion with 400 KMS.KMSInvalidStateException; reads
that decrypt — GetObject, the source of CopyObject and of UploadPartCopy — do the same for the key
the object records. HeadObject, ListObjects and GetObjectAttributes do not look at KMS.

Not documented and chosen here: a pending-deletion key on a write answers
KMS.KMSInvalidStateException like the read (the snapshot only records the disabled write).
Not covered: keys moto no longer holds (S3 would answer KMS.NotFoundException; moto never removes a
key before its deletion date, so this does not arise); UploadPart into an upload whose key was
disabled after CreateMultipartUpload.
"""

from typing import Any

from . import _support


def _check_object_key(key: Any) -> None:
    if key is not None and key.encryption in _support.KMS_ALGORITHMS:
        kms_key = _support.kms_key_by_arn(key.kms_key_id)
        if kms_key is not None:
            _support.check_key_usable(kms_key)


def apply() -> None:
    from moto.s3.models import S3Backend
    from moto.s3.responses import S3Response

    _support.install_request_context()
    _support.CHECK_KEY_STATE_ON_WRITE = True

    original_get_key = S3Response._get_key

    def _get_key(self: Any, *args: Any, **kwargs: Any) -> Any:
        key, not_modified = original_get_key(self, *args, **kwargs)
        if "attributes" not in self.querystring:  # GetObjectAttributes reads metadata only
            _check_object_key(key)
        return key, not_modified

    S3Response._get_key = _get_key

    original_copy = S3Backend.copy_object

    def copy_object(self: Any, src_key: Any, *args: Any, **kwargs: Any) -> Any:
        _check_object_key(src_key)
        return original_copy(self, src_key, *args, **kwargs)

    S3Backend.copy_object = copy_object

    original_part_copy = S3Backend.upload_part_copy

    def upload_part_copy(self: Any, *args: Any, **kwargs: Any) -> Any:
        _check_object_key(_support.part_copy_source(self, args, kwargs))
        return original_part_copy(self, *args, **kwargs)

    S3Backend.upload_part_copy = upload_part_copy
