"""Shared helpers for the S3/KMS fidelity patches (not a patch itself: it is not listed in PATCHES).

- A per-request context (thread-local: moto's server handles each request on its own thread) that
  carries the request headers into moto's backend methods, which do not receive them.
- S3 error objects with the AWS error codes moto lacks. moto serialises an exception through the S3
  service model: codes the model knows get their status (AccessDenied 403, NoSuchKey 404,
  PreconditionFailed 412); any other code (InvalidRequest, KMS.*) is sent as 400.
- Resolution of a KMS key reference the way S3 does it (key id, key ARN, alias name, alias ARN, or
  none meaning the account's AWS managed key aws/s3), to the KMS key in moto's KMS backend.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from moto.s3.exceptions import S3ClientError

KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
AWS_MANAGED_S3_ALIAS = "alias/aws/s3"
_KEY_ID = re.compile(
    r"^(mrk-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE
)

# Set to True by patches.kms_key_state: writes then refuse disabled / pending-deletion keys.
CHECK_KEY_STATE_ON_WRITE = False

_ctx = threading.local()


class S3Error(S3ClientError):
    """An S3 error with an arbitrary AWS error code (status from the S3 model, else 400)."""

    def __init__(self, code: str, message: str):
        super().__init__(code, message)


# ---------------------------------------------------------------- request context


def request_headers() -> Any:
    return getattr(_ctx, "headers", None) or {}


def ctx_get(name: str) -> Any:
    return getattr(_ctx, name, None)


def ctx_set(name: str, value: Any) -> None:
    setattr(_ctx, name, value)


_installed = False
# Callables (s3_response, request) run at the start of every object-level request, after the context
# holds the request headers; they may raise S3 errors or store values in the context.
REQUEST_HOOKS: list[Any] = []


def install_request_context() -> None:
    """Wrap S3Response._key_response so backend patches can read the current request's headers."""
    global _installed
    if _installed:
        return
    _installed = True
    from moto.s3.responses import S3Response

    original = S3Response._key_response

    def _key_response(self: Any, request: Any, full_url: str) -> Any:
        _ctx.__dict__.clear()
        _ctx.headers = self.headers
        try:
            for hook in REQUEST_HOOKS:
                hook(self, request)
            return original(self, request, full_url)
        finally:
            _ctx.__dict__.clear()

    S3Response._key_response = _key_response


# ---------------------------------------------------------------- KMS


def _not_found(message: str) -> S3Error:
    return S3Error("KMS.NotFoundException", message)


def resolve_kms_key(account_id: str, region: str, key_ref: str | None) -> Any:
    """Return moto's KMS Key for an S3 key reference; no reference means the AWS managed aws/s3 key.

    Messages follow what S3 answers (LocalStack's AWS-validated snapshots, test_s3.py
    test_put_object_with_wrong_kms_key...): "Invalid keyId 'x'", "Key 'arn' does not exist",
    "Invalid arn <region>" for a key in another region.
    """
    from moto.kms.models import kms_backends
    from moto.utilities.utils import get_partition

    partition = get_partition(region)
    key_ref = key_ref or AWS_MANAGED_S3_ALIAS
    key_account, key_region = account_id, region
    alias = key_id = None
    if key_ref.startswith("arn:"):
        parts = key_ref.split(":", 5)
        if len(parts) != 6 or parts[2] != "kms":
            raise _not_found(f"Invalid arn {key_ref}")
        key_region, key_account, resource = parts[3], parts[4], parts[5]
        if key_region != region:
            raise _not_found(f"Invalid arn {key_region}")
        if resource.startswith("alias/"):
            alias = resource
        elif resource.startswith("key/"):
            key_id = resource[len("key/") :]
        else:
            raise _not_found(f"Invalid arn {key_ref}")
    elif key_ref.startswith("alias/"):
        alias = key_ref
    elif _KEY_ID.match(key_ref):
        key_id = key_ref
    else:
        raise _not_found(f"Invalid keyId '{key_ref}'")

    backend = kms_backends[key_account][key_region]
    if alias is not None:
        # moto creates the AWS managed key of a reserved alias (alias/aws/*) on first use.
        key_id = backend.get_key_id_from_alias(alias)
        if key_id is None:
            raise _not_found(
                f"Alias arn:{partition}:kms:{key_region}:{key_account}:{alias} is not found."
            )
    key = backend.keys.get(key_id)
    if key is None:
        raise _not_found(
            f"Key 'arn:{partition}:kms:{key_region}:{key_account}:key/{key_id}' does not exist"
        )
    return key


def check_key_usable(key: Any) -> None:
    """S3 cannot use a KMS key that is disabled or pending deletion (status 400 for both)."""
    if key.key_state == "PendingDeletion":
        raise S3Error("KMS.KMSInvalidStateException", f"{key.arn} is pending deletion.")
    if key.key_state == "Disabled" or not key.enabled:
        raise S3Error("KMS.DisabledException", f"{key.arn} is disabled.")


def kms_key_for_write(account_id: str, region: str, key_ref: str | None) -> str:
    """The key ARN S3 records for an object written with SSE-KMS / DSSE-KMS and this key reference."""
    key = resolve_kms_key(account_id, region, key_ref)
    if CHECK_KEY_STATE_ON_WRITE:
        check_key_usable(key)
    return key.arn


def kms_key_by_arn(arn: str | None) -> Any:
    """The KMS key an object records (by ARN), or None when moto's KMS does not hold it."""
    if not arn or not arn.startswith("arn:") or ":key/" not in arn:
        return None
    from moto.kms.models import kms_backends

    parts = arn.split(":", 5)
    return kms_backends[parts[4]][parts[3]].keys.get(arn.split(":key/", 1)[1])


def effective_encryption(bucket: Any, encryption: str | None, kms_key_id: str | None) -> tuple[Any, Any]:
    """Algorithm and key reference a new object gets: the request's, else the bucket default's."""
    if encryption:
        return encryption, kms_key_id
    if bucket.encryption:
        default = bucket.encryption["Rule"]["ApplyServerSideEncryptionByDefault"]
        return default["SSEAlgorithm"], kms_key_id or default.get("KMSMasterKeyID")
    return None, kms_key_id


def part_copy_source(backend: Any, args: tuple, kwargs: dict) -> Any:
    """The source object of an S3Backend.upload_part_copy call, whatever way moto passed its arguments."""
    import inspect

    from moto.s3.models import S3Backend

    bound = inspect.signature(_ORIGINAL_UPLOAD_PART_COPY or S3Backend.upload_part_copy).bind(backend, *args, **kwargs)
    a = bound.arguments
    return backend.get_object(a["src_bucket_name"], a["src_key_name"], version_id=a.get("src_version_id"))


try:
    from moto.s3.models import S3Backend as _S3Backend

    _ORIGINAL_UPLOAD_PART_COPY = _S3Backend.upload_part_copy
except Exception:  # pragma: no cover - moto always importable in the emulator venv
    _ORIGINAL_UPLOAD_PART_COPY = None
