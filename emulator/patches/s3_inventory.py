"""S3 Inventory: configurations kept as sent, and delivery of a report on demand in the real layout.

moto 5.2.5 stores inventory configurations but drops IncludedObjectVersions (Get and List always
answer "All"), answers List's OptionalFields as the parsed XML dict ({"Field": [...]}) instead of
the field list, has no DeleteBucketInventoryConfiguration, and never delivers a report. This patch
fixes the first three and adds a delivery endpoint (AWS delivers daily or weekly; tests cannot wait).

AWS rules relied on (S3 API reference, PutBucketInventoryConfiguration / InventoryConfiguration, and
S3 User Guide, "Cataloging and analyzing your data with S3 Inventory", "Locating your inventory
list", "Inventory list"):
- IncludedObjectVersions is `All` or `Current`; with `All` the report adds VersionId, IsLatest and
  IsDeleteMarker after Key and lists every version and delete marker; with `Current` only the
  current, non-deleted objects. OptionalFields names the extra columns (Size, LastModifiedDate,
  StorageClass, ETag, IsMultipartUploaded, ReplicationStatus, EncryptionStatus,
  ObjectLockRetainUntilDate, ObjectLockMode, ObjectLockLegalHoldStatus,
  IntelligentTieringAccessTier, BucketKeyStatus, ChecksumAlgorithm, ObjectAccessControlList,
  ObjectOwner). Filter.Prefix limits the objects listed.
- DeleteBucketInventoryConfiguration (DELETE /?inventory&id=) answers 204; a missing id answers
  404 (the error code is moto's MissingInventoryConfig, as on Get; not checked against AWS).
- Layout in the destination bucket (Destination.S3BucketDestination Bucket ARN and Prefix P):
    P/<source-bucket>/<config-id>/YYYY-MM-DDTHH-MMZ/manifest.json
    P/<source-bucket>/<config-id>/YYYY-MM-DDTHH-MMZ/manifest.checksum   (MD5 hex of manifest.json)
    P/<source-bucket>/<config-id>/hive/dt=YYYY-MM-DD-HH-MM/symlink.txt  (one s3:// data URL a line)
    P/<source-bucket>/<config-id>/data/<uuid>.csv.gz | <uuid>.parquet
  The timestamp is when the scan began. Without a prefix the layout starts at <source-bucket>/.
- manifest.json: sourceBucket, destinationBucket (ARN), version "2016-11-30", creationTimestamp
  (epoch milliseconds, as a string), fileFormat ("CSV" | "Parquet" | "ORC"), fileSchema (CSV: the
  column names joined by ", "; Parquet: the "message s3.inventory { ... }" schema), files
  [{key, size, MD5checksum}] where MD5checksum is the MD5 hex of the data file as stored.
- CSV data files are gzip-compressed, without a header row, every field quoted; the object key is
  URL-encoded. EncryptionStatus is NOT-SSE | SSE-S3 | SSE-KMS | DSSE-KMS | SSE-C; BucketKeyStatus
  ENABLED | DISABLED; ETag without quotes; dates ISO 8601 (UTC, milliseconds). Parquet columns are
  the snake_case names (bucket, key, version_id, is_latest, is_delete_marker, size,
  last_modified_date as TIMESTAMP(MILLIS,true), e_tag, ...); keys are not URL-encoded there.

Emulator-only (no AWS counterpart): POST /moto-api/sseguard/deliver-inventory?bucket=B[&id=C]
[&at=ISO-8601][&rowsPerFile=N] delivers now (or as of `at`) every enabled configuration of B (or
just C), and answers JSON {"deliveries": [{"configId", "manifestKey", "dataKeys", "rows"}]}.
`rowsPerFile` splits the report into several data files (AWS splits large reports too).
Not covered: ORC output (400 with a message), report encryption (SSE-S3 / SSE-KMS of the report
objects), ReplicationStatus and IntelligentTieringAccessTier (always empty), the ACL/owner fields.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import io
import json
import urllib.parse
import uuid
from typing import Any

# Canonical column order of a report (the order AWS documents and writes).
FIELD_ORDER = [
    "Size",
    "LastModifiedDate",
    "ETag",
    "StorageClass",
    "IsMultipartUploaded",
    "ReplicationStatus",
    "EncryptionStatus",
    "ObjectLockRetainUntilDate",
    "ObjectLockMode",
    "ObjectLockLegalHoldStatus",
    "IntelligentTieringAccessTier",
    "BucketKeyStatus",
    "ChecksumAlgorithm",
    "ObjectAccessControlList",
    "ObjectOwner",
]
VERSION_FIELDS = ["VersionId", "IsLatest", "IsDeleteMarker"]

# CSV column -> (Parquet column, Parquet primitive type, logical annotation)
PARQUET_COLUMNS = {
    "Bucket": ("bucket", "binary", "STRING"),
    "Key": ("key", "binary", "STRING"),
    "VersionId": ("version_id", "binary", "STRING"),
    "IsLatest": ("is_latest", "boolean", None),
    "IsDeleteMarker": ("is_delete_marker", "boolean", None),
    "Size": ("size", "int64", None),
    "LastModifiedDate": ("last_modified_date", "int64", "TIMESTAMP(MILLIS,true)"),
    "ETag": ("e_tag", "binary", "STRING"),
    "StorageClass": ("storage_class", "binary", "STRING"),
    "IsMultipartUploaded": ("is_multipart_uploaded", "boolean", None),
    "ReplicationStatus": ("replication_status", "binary", "STRING"),
    "EncryptionStatus": ("encryption_status", "binary", "STRING"),
    "ObjectLockRetainUntilDate": ("object_lock_retain_until_date", "int64", "TIMESTAMP(MILLIS,true)"),
    "ObjectLockMode": ("object_lock_mode", "binary", "STRING"),
    "ObjectLockLegalHoldStatus": ("object_lock_legal_hold_status", "binary", "STRING"),
    "IntelligentTieringAccessTier": ("intelligent_tiering_access_tier", "binary", "STRING"),
    "BucketKeyStatus": ("bucket_key_status", "binary", "STRING"),
    "ChecksumAlgorithm": ("checksum_algorithm", "binary", "STRING"),
    "ObjectAccessControlList": ("object_access_control_list", "binary", "STRING"),
    "ObjectOwner": ("object_owner", "binary", "STRING"),
}


class DeliveryError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


# ---------------------------------------------------------------- configuration fidelity


def _optional_fields(raw: Any) -> list[str]:
    """The field names of an OptionalFields value however xmltodict parsed it."""
    if raw is None:
        return []
    if isinstance(raw, dict):
        raw = raw.get("Field", [])
    if isinstance(raw, str):
        return [raw]
    return [str(f) for f in raw]


def _config_document(inv: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "Destination": inv.destination,
        "IsEnabled": str(inv.is_enabled).lower() == "true",
        "Id": inv.id,
        "IncludedObjectVersions": getattr(inv, "included_object_versions", "All"),
        "Schedule": inv.schedule,
    }
    if inv.filters:
        config["Filter"] = inv.filters
    fields = _optional_fields(inv.optional_fields)
    if fields:
        config["OptionalFields"] = fields
    return config


def _patch_configuration() -> None:
    from moto.core.responses import ActionResult
    from moto.s3.models import S3Backend
    from moto.s3.responses import S3Response

    original_put = S3Backend.put_bucket_inventory_configuration

    def put_bucket_inventory_configuration(self: Any, bucket_name: str, inventory_configuration: dict[str, Any]) -> None:
        original_put(self, bucket_name, inventory_configuration)
        stored = self.get_bucket(bucket_name).inventory_configs[inventory_configuration["Id"]]
        stored.included_object_versions = inventory_configuration.get("IncludedObjectVersions") or "All"
        stored.optional_fields = _optional_fields(inventory_configuration.get("OptionalFields"))

    S3Backend.put_bucket_inventory_configuration = put_bucket_inventory_configuration

    def get_bucket_inventory_configuration(self: Any) -> Any:
        inv = self.backend.get_bucket_inventory_configuration(
            bucket_name=self.bucket_name, id=self.querystring["id"][0]
        )
        self.data["Action"] = "GetBucketInventoryConfiguration"
        return self.serialized(ActionResult({"InventoryConfiguration": _config_document(inv)}))

    def list_bucket_inventory_configurations(self: Any) -> Any:
        configs = self.backend.list_bucket_inventory_configurations(bucket_name=self.bucket_name)
        self.data["Action"] = "ListBucketInventoryConfigurations"
        return self.serialized(
            ActionResult(
                {"InventoryConfigurationList": [_config_document(c) for c in configs], "IsTruncated": False}
            )
        )

    S3Response.get_bucket_inventory_configuration = get_bucket_inventory_configuration
    S3Response.list_bucket_inventory_configurations = list_bucket_inventory_configurations

    original_delete = S3Response._bucket_response_delete

    def _bucket_response_delete(self: Any, bucket_name: str, querystring: dict[str, Any]) -> Any:
        if "inventory" in querystring:
            from moto.s3.exceptions import MissingInventoryConfig

            bucket = self.backend.get_bucket(bucket_name)
            config_id = querystring.get("id", [None])[0]
            if config_id not in bucket.inventory_configs:
                raise MissingInventoryConfig()
            del bucket.inventory_configs[config_id]
            return 204, {}, ""
        return original_delete(self, bucket_name, querystring)

    S3Response._bucket_response_delete = _bucket_response_delete


# ---------------------------------------------------------------- delivery


def _encryption_status(key: Any) -> str:
    if getattr(key, "sse_c", None):
        return "SSE-C"
    return {"AES256": "SSE-S3", "aws:kms": "SSE-KMS", "aws:kms:dsse": "DSSE-KMS"}.get(key.encryption or "", "NOT-SSE")


def _bucket_key(key: Any) -> bool:
    value = key.bucket_key_enabled
    return value is True or str(value).lower() == "true"


def _as_datetime(value: Any) -> datetime.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _iso_millis(value: datetime.datetime | None) -> str:
    if value is None:
        return ""
    value = value.astimezone(datetime.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _row(bucket_name: str, entry: Any, is_latest: bool, with_versions: bool, fields: list[str]) -> dict[str, Any]:
    """One report row as typed values (None = empty), keyed by CSV column name."""
    from moto.s3.models import FakeDeleteMarker

    marker = isinstance(entry, FakeDeleteMarker)
    row: dict[str, Any] = {"Bucket": bucket_name, "Key": entry.name}
    if with_versions:
        row["VersionId"] = entry.version_id if getattr(entry, "_version_id", None) else None
        row["IsLatest"] = is_latest
        row["IsDeleteMarker"] = marker
    if marker:
        for field in fields:
            row[field] = None
        row["LastModifiedDate"] = _as_datetime(entry.last_modified) if "LastModifiedDate" in fields else None
        return row
    etag = entry.etag.strip('"')
    values = {
        "Size": entry.size,
        "LastModifiedDate": _as_datetime(entry.last_modified),
        "ETag": etag,
        "StorageClass": entry.storage_class,
        "IsMultipartUploaded": entry.multipart is not None or "-" in etag,
        "ReplicationStatus": None,
        "EncryptionStatus": _encryption_status(entry),
        "ObjectLockRetainUntilDate": _as_datetime(entry.lock_until),
        "ObjectLockMode": entry.lock_mode,
        "ObjectLockLegalHoldStatus": entry.lock_legal_status or "OFF",
        "IntelligentTieringAccessTier": None,
        "BucketKeyStatus": "ENABLED" if _bucket_key(entry) else "DISABLED",
        "ChecksumAlgorithm": entry.checksum_algorithm,
        "ObjectAccessControlList": None,
        "ObjectOwner": None,
    }
    for field in fields:
        row[field] = values.get(field)
    return row


def _csv_text(value: Any, column: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return _iso_millis(value)
    if column == "Key":
        # Keys are URL-encoded in CSV reports (form encoding: a space becomes "+").
        return urllib.parse.quote_plus(str(value), safe="/")
    return str(value)


def _csv_file(rows: list[dict[str, Any]], columns: list[str]) -> bytes:
    lines = []
    for row in rows:
        cells = (_csv_text(row.get(c), c).replace('"', '""') for c in columns)
        lines.append(",".join(f'"{cell}"' for cell in cells))
    text = "".join(line + "\n" for line in lines)
    # mtime=0 keeps the bytes (and so the MD5 in the manifest) a function of the rows alone.
    return gzip.compress(text.encode("utf-8"), mtime=0)


def _parquet_schema(columns: list[str]) -> str:
    parts = []
    for column in columns:
        name, primitive, logical = PARQUET_COLUMNS[column]
        required = "required" if column in ("Bucket", "Key") else "optional"
        parts.append(f"{required} {primitive} {name}" + (f" ({logical})" if logical else "") + ";")
    return "message s3.inventory { " + " ".join(parts) + " }"


def _parquet_file(rows: list[dict[str, Any]], columns: list[str]) -> bytes:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as missing:  # pragma: no cover - pyarrow is in emulator/requirements.txt
        raise DeliveryError(500, f"Parquet delivery needs pyarrow in the emulator venv: {missing}")

    types = {"binary": pa.string(), "boolean": pa.bool_(), "int64": pa.int64()}
    fields = []
    arrays = []
    for column in columns:
        name, primitive, logical = PARQUET_COLUMNS[column]
        kind = pa.timestamp("ms", tz="UTC") if logical and logical.startswith("TIMESTAMP") else types[primitive]
        fields.append(pa.field(name, kind, nullable=column not in ("Bucket", "Key")))
        arrays.append(pa.array([row.get(column) for row in rows], type=kind))
    table = pa.Table.from_arrays(arrays, schema=pa.schema(fields))
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="snappy")
    return sink.getvalue()


def _entries(bucket: Any, all_versions: bool, prefix: str) -> list[tuple[Any, bool]]:
    from moto.s3.models import FakeDeleteMarker

    out: list[tuple[Any, bool]] = []
    for name, versions in sorted(bucket.keys.iterlists(), key=lambda item: item[0]):
        if prefix and not name.startswith(prefix):
            continue
        if not versions:
            continue
        if all_versions:
            # moto keeps versions oldest first; a report lists them newest first.
            for index, version in enumerate(reversed(versions)):
                out.append((version, index == 0))
        elif not isinstance(versions[-1], FakeDeleteMarker):
            out.append((versions[-1], True))
    return out


def _bucket_from_arn(arn: str) -> str:
    return arn.split(":::", 1)[1] if arn.startswith("arn:") else arn


def deliver(backend: Any, bucket_name: str, config_id: str | None, at: datetime.datetime, rows_per_file: int) -> list[dict[str, Any]]:
    bucket = backend.get_bucket(bucket_name)
    configs = [c for c in bucket.inventory_configs.values() if config_id in (None, c.id)]
    if config_id is not None and not configs:
        raise DeliveryError(404, f"bucket {bucket_name} has no inventory configuration {config_id!r}")
    configs = [c for c in configs if str(c.is_enabled).lower() == "true" or config_id is not None]
    if not configs:
        raise DeliveryError(404, f"bucket {bucket_name} has no enabled inventory configuration")
    from moto.s3.exceptions import MissingBucket

    # Every destination is checked before anything is written: a missing one is named as such (it
    # is not the source bucket that is missing), and no configuration gets half a delivery.
    for config in configs:
        dest_bucket = _bucket_from_arn(config.destination["S3BucketDestination"]["Bucket"])
        try:
            backend.get_bucket(dest_bucket)
        except MissingBucket:
            raise DeliveryError(
                404,
                f"the destination bucket {dest_bucket} of inventory configuration {config.id!r} on {bucket_name} does not exist: "
                "S3 would deliver nothing (create it, or point the configuration elsewhere)",
            ) from None
    stamp = at.strftime("%Y-%m-%dT%H-%MZ")
    hive_dt = at.strftime("%Y-%m-%d-%H-%M")
    deliveries = []
    for config in configs:
        dest = config.destination["S3BucketDestination"]
        dest_arn = dest["Bucket"]
        dest_bucket = _bucket_from_arn(dest_arn)
        fmt = dest.get("Format", "CSV")
        if fmt not in ("CSV", "Parquet"):
            raise DeliveryError(400, f"the emulator delivers CSV and Parquet reports, not {fmt}")
        prefix = (dest.get("Prefix") or "").strip("/")
        base = f"{prefix}/{bucket_name}/{config.id}" if prefix else f"{bucket_name}/{config.id}"
        all_versions = getattr(config, "included_object_versions", "All") == "All"
        wanted = set(_optional_fields(config.optional_fields))
        fields = [f for f in FIELD_ORDER if f in wanted]
        columns = ["Bucket", "Key"] + (VERSION_FIELDS if all_versions else []) + fields
        filter_prefix = ((config.filters or {}).get("Prefix") or "") if isinstance(config.filters, dict) else ""
        rows = [_row(bucket_name, entry, latest, all_versions, fields) for entry, latest in _entries(bucket, all_versions, filter_prefix)]
        chunks = [rows[i : i + rows_per_file] for i in range(0, len(rows), rows_per_file)] or [[]]
        files = []
        data_keys = []
        for chunk in chunks:
            if fmt == "CSV":
                body, ext = _csv_file(chunk, columns), "csv.gz"
            else:
                body, ext = _parquet_file(chunk, columns), "parquet"
            data_key = f"{base}/data/{uuid.uuid4()}.{ext}"
            backend.put_object(dest_bucket, data_key, body)
            files.append({"key": data_key, "size": len(body), "MD5checksum": hashlib.md5(body).hexdigest()})
            data_keys.append(data_key)
        manifest = {
            "sourceBucket": bucket_name,
            "destinationBucket": dest_arn,
            "version": "2016-11-30",
            "creationTimestamp": str(int(at.timestamp() * 1000)),
            "fileFormat": fmt,
            "fileSchema": ", ".join(columns) if fmt == "CSV" else _parquet_schema(columns),
            "files": files,
        }
        manifest_body = json.dumps(manifest, indent=2).encode("utf-8")
        manifest_key = f"{base}/{stamp}/manifest.json"
        backend.put_object(dest_bucket, manifest_key, manifest_body)
        backend.put_object(dest_bucket, f"{base}/{stamp}/manifest.checksum", (hashlib.md5(manifest_body).hexdigest() + "\n").encode())
        symlink = "".join(f"s3://{dest_bucket}/{k}\n" for k in data_keys).encode()
        backend.put_object(dest_bucket, f"{base}/hive/dt={hive_dt}/symlink.txt", symlink)
        deliveries.append({"configId": config.id, "manifestKey": manifest_key, "dataKeys": data_keys, "rows": len(rows)})
    return deliveries


def deliver_inventory_response(request: Any, full_url: str, headers: Any) -> Any:
    """POST /moto-api/sseguard/deliver-inventory?bucket=B[&id=C][&at=ISO][&rowsPerFile=N]"""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.exceptions import MissingBucket
    from moto.s3.models import s3_backends

    if request.method != "POST":
        return 405, {}, json.dumps({"error": "POST to deliver an inventory report"})
    query = urllib.parse.parse_qs(urllib.parse.urlparse(full_url).query)
    bucket_name = (query.get("bucket") or [""])[0]
    if not bucket_name:
        return 400, {}, json.dumps({"error": "bucket is required: ?bucket=<source bucket>"})
    try:
        at_text = (query.get("at") or [None])[0]
        at = _as_datetime(at_text) if at_text else datetime.datetime.now(datetime.timezone.utc)
        assert at is not None
        rows_per_file = int((query.get("rowsPerFile") or ["100000"])[0])
        if rows_per_file < 1:
            raise ValueError("rowsPerFile must be at least 1")
    except ValueError as bad:
        return 400, {}, json.dumps({"error": str(bad)})
    account = (query.get("account") or [DEFAULT_ACCOUNT_ID])[0]
    backend = s3_backends[account]["aws"]
    try:
        deliveries = deliver(backend, bucket_name, (query.get("id") or [None])[0], at, rows_per_file)
    except MissingBucket:
        return 404, {}, json.dumps({"error": f"the source bucket {bucket_name} does not exist"})
    except DeliveryError as failed:
        return failed.status, {}, json.dumps({"error": str(failed)})
    return 200, {"Content-Type": "application/json"}, json.dumps({"deliveries": deliveries})


def apply() -> None:
    _patch_configuration()
    from moto.moto_api._internal import urls

    urls.url_paths["{0}/moto-api/sseguard/deliver-inventory"] = deliver_inventory_response
