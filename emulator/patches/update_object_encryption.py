"""UpdateObjectEncryption (PUT /{Key+}?encryption): change an object's SSE to SSE-KMS in place.

moto 5.2 has no such operation: it routed the request to PutObject and REPLACED THE OBJECT'S DATA
with the XML request body. This patch answers the operation itself and never touches the data.

AWS rules relied on (S3 API reference, UpdateObjectEncryption, and S3 User Guide, "Updating
server-side encryption for existing data"):
- Request body <ObjectEncryption><SSE-KMS><KMSKeyArn/><BucketKeyEnabled/></SSE-KMS></ObjectEncryption>
  (the AWS SDK's serializer); optional ?versionId= targets that version. Answer: 200, empty body.
- "the UpdateObjectEncryption operation preserves all object metadata properties, including the
  storage class, creation date, last modified date, ETag, and checksum properties" and works
  "without any data movement" — so bytes, ETag, LastModified, metadata, storage class, checksum and
  tags stay. The version id is not documented; the update is in place ("atomically update ... an
  existing object"), so it is kept and no version is added.
- 400 InvalidRequest, messages from the API reference's Errors list: "The UpdateObjectEncryption
  operation doesn't supported unencrypted source objects. Only source objects encrypted with SSE-S3
  or SSE-KMS are supported." / "... doesn't support source objects with the encryption type DSSE-KMS
  or SSE-C ..." / "Requests that modify an object encryption configuration require a valid new
  encryption type. Valid values are SSEKMS. ..." (no SSE-KMS element, so also an attempt to choose
  SSE-S3) / "Requests that modify an object's encryption type to SSE-KMS require an AWS KMS key
  Amazon Resource Name (ARN). ..." (a key id or alias) / "... require a valid AWS KMS key Amazon
  Resource Name (ARN). ..." (an ARN that is not a key ARN) / "The BucketKeyEnabled value isn't
  valid. ...".
- 403 AccessDenied: "The AWS KMS key in the request must be owned by the same account as the
  bucket. ..."; "The encryption type for the specified object can't be updated because that object
  is protected by S3 Object Lock. If the object has a governance-mode retention period or a legal
  hold, you must first remove the Object Lock status ..." (so governance and compliance retention
  in force, and legal hold ON, are all refused).
- 404 NoSuchKey for a missing key (NoSuchVersion, as on GetObject, for a missing version: not
  documented, chosen here).
- The KMS key must exist and be usable: 400 KMS.NotFoundException / KMS.DisabledException /
  KMS.KMSInvalidStateException, as for other SSE-KMS writes (not documented for this operation;
  chosen for consistency). The object records the key ARN; BucketKeyEnabled is stored when sent.

Order of checks (not documented, chosen here): request body, then the object (404, source
encryption, Object Lock), then the key (account 403, existence and state 400).
Not covered: Organizations-wide key use; the s3:UpdateObjectEncryption / kms:* permissions.
"""

import re
from typing import Any

import xmltodict

from . import _support
from ._support import S3Error

KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")


def _invalid(message: str) -> S3Error:
    return S3Error("InvalidRequest", message)


def _parse_body(body: bytes) -> tuple[str, str | None]:
    from moto.s3.exceptions import MalformedXML

    try:
        document = xmltodict.parse(body or b"")
    except Exception:  # xml.parsers.expat.ExpatError and friends
        raise MalformedXML()
    encryption = (document or {}).get("ObjectEncryption")
    sse_kms = encryption.get("SSE-KMS") if isinstance(encryption, dict) else None
    if not isinstance(sse_kms, dict):
        raise _invalid(
            "Requests that modify an object encryption configuration require a valid new encryption type. "
            "Valid values are SSEKMS. Modify the request to specify SSE-KMS for the updated encryption type, "
            "and then try again."
        )
    arn = (sse_kms.get("KMSKeyArn") or "").strip()
    if not arn.startswith("arn:"):
        raise _invalid(
            "Requests that modify an object's encryption type to SSE-KMS require an AWS KMS key Amazon "
            "Resource Name (ARN). Modify the request to specify a KMS key ARN, and then try again."
        )
    if not KEY_ARN.match(arn):
        raise _invalid(
            "Requests that modify an object's encryption type to SSE-KMS require a valid AWS KMS key Amazon "
            "Resource Name (ARN). Confirm that you have a correctly formatted KMS key ARN in your request, "
            "and then try again."
        )
    bucket_key = sse_kms.get("BucketKeyEnabled")
    if bucket_key is not None:
        bucket_key = str(bucket_key).strip().lower()
        if bucket_key not in ("true", "false"):
            raise _invalid(
                "The BucketKeyEnabled value isn't valid. Valid values are true or false. Modify the request "
                "to specify a valid value, and then try again."
            )
    return arn, bucket_key


def update_object_encryption(response: Any, query: dict[str, Any], key_name: str) -> Any:
    from moto.s3.exceptions import MissingKey, MissingVersion

    backend = response.backend
    bucket = backend.get_bucket(response.bucket_name)
    arn, bucket_key = _parse_body(response.body)

    version_id = query.get("versionId", [None])[0]
    key = backend.get_object(response.bucket_name, key_name, version_id=version_id)
    if key is None:
        raise MissingVersion() if version_id else MissingKey(key=key_name)
    if getattr(key, "sse_c", None) or key.encryption == "aws:kms:dsse":
        raise _invalid(
            "The UpdateObjectEncryption operation doesn't support source objects with the encryption type "
            "DSSE-KMS or SSE-C. Only source objects encrypted with SSE-S3 or SSE-KMS are supported."
        )
    if key.encryption not in ("AES256", "aws:kms"):
        raise _invalid(
            "The UpdateObjectEncryption operation doesn't supported unencrypted source objects. Only source "
            "objects encrypted with SSE-S3 or SSE-KMS are supported."
        )
    if key.is_locked(governance_bypass=False):
        raise S3Error(
            "AccessDenied",
            "The encryption type for the specified object can't be updated because that object is protected "
            "by S3 Object Lock. If the object has a governance-mode retention period or a legal hold, you must "
            "first remove the Object Lock status on the object before you issue your UpdateObjectEncryption "
            "request. You can't use the UpdateObjectEncryption operation with objects that have an Object Lock "
            "compliance mode retention period applied to them.",
        )
    if arn.split(":")[4] != bucket.account_id:
        raise S3Error(
            "AccessDenied",
            "The AWS KMS key in the request must be owned by the same account as the bucket. Modify the "
            "request to specify a KMS key from the same account, and then try again.",
        )
    kms_key = _support.resolve_kms_key(bucket.account_id, bucket.region_name, arn)
    _support.check_key_usable(kms_key)

    # Only the encryption attributes change: no new FakeKey, no data write, no timestamp change.
    key.encryption = "aws:kms"
    key.kms_key_id = kms_key.arn
    key.bucket_key_enabled = bucket_key
    return 200, {}, ""


def apply() -> None:
    from moto.s3.responses import S3Response

    original_put = S3Response._key_response_put

    def _key_response_put(self: Any, query: dict[str, Any], key_name: str) -> Any:
        if "encryption" in query and not query.get("uploadId"):
            self._set_action("KEY", "PUT", query)
            self._authenticate_and_authorize_s3_action(bucket_name=self.bucket_name, key_name=key_name)
            return update_object_encryption(self, query, key_name)
        return original_put(self, query, key_name)

    S3Response._key_response_put = _key_response_put
