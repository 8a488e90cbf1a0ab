"""S3 Batch Operations (S3 Control CreateJob / DescribeJob / ListJobs / UpdateJobStatus) for the
S3UpdateObjectEncryption operation over a CSV manifest, run inside the emulator.

moto 5.2.5's s3control has no jobs at all (every /v20180820/jobs request is a 404). This patch adds
them for the one operation sseguard uses for bulk fixes.

AWS rules relied on (S3 Control API reference: CreateJob, DescribeJob, ListJobs, UpdateJobStatus,
JobOperation.S3UpdateObjectEncryption; S3 User Guide: "Specifying a manifest", "Examples: S3 Batch
Operations completion reports", "Tracking job status"):
- CreateJob: POST /v20180820/jobs, account in x-amz-account-id, body CreateJobRequest with
  Operation, Manifest {Spec {Format S3BatchOperations_CSV_20180820, Fields [Bucket, Key(, VersionId)]},
  Location {ObjectArn, ObjectVersionId?, ETag}}, Report {Bucket ARN, Format Report_CSV_20180820,
  Enabled, Prefix, ReportScope AllTasks | FailedTasksOnly}, Priority, RoleArn, ConfirmationRequired,
  ClientRequestToken. Answer: CreateJobResult {JobId}. The same ClientRequestToken answers the same job.
- A CSV manifest has one task a line, "bucket,key[,versionId]", with the key URL-encoded.
- A job whose ConfirmationRequired is true waits in Suspended until UpdateJobStatus
  (POST /v20180820/jobs/{id}/status?requestedJobStatus=Ready|Cancelled); otherwise it runs.
- Each task is the operation on one object: here the emulator's UpdateObjectEncryption
  (patches.update_object_encryption), with its checks and errors, for the manifest's version.
- The job ends Complete when its tasks ran (failed tasks included), Failed when the manifest cannot
  be read (missing, or its ETag is not the one given: the job reads exactly the manifest it was given).
- DescribeJob answers Job {JobId, Status, Operation, Manifest, Report, Priority, RoleArn,
  ProgressSummary {TotalNumberOfTasks, NumberOfTasksSucceeded, NumberOfTasksFailed, Timers},
  FailureReasons, CreationTime, TerminationDate}; ListJobs the descriptors, filtered by jobStatuses.
- Completion report, in the report bucket: <Prefix>/job-<JobId>/manifest.json = {Format
  "Report_CSV_20180820", ReportCreationDate, Results [{TaskExecutionStatus succeeded|failed, Bucket,
  MD5Checksum, Key}], ReportSchema "Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode,
  ResultMessage"} and one CSV per task status under <Prefix>/job-<JobId>/results/<sha1>.csv. The
  rows follow AWS's published examples, which put the HTTP status before the error code
  ("bucket,key,,failed,400,InvalidRequest,message"; "succeeded,200,,Successful") although the
  schema string names ErrorCode first: a reader should take the numeric column as the status.
  FailedTasksOnly writes only the failed file; no task run, no report.

Not covered: job tags, Lambda/other operations (400 InvalidRequest), manifest generators and
inventory-report manifests, failure thresholds, priorities and concurrency (jobs run at once, one
at a time, inside the request), RoleArn permissions, report encryption.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import threading
import types
import urllib.parse
import uuid
from typing import Any

import xmltodict

NS = "http://awss3control.amazonaws.com/doc/2018-08-20/"
REPORT_SCHEMA = "Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage"
STATUS_OF = {"AccessDenied": 403, "NoSuchKey": 404, "NoSuchVersion": 404, "NoSuchBucket": 404}

_lock = threading.Lock()
_jobs: dict[str, dict[str, Any]] = {}  # account id -> job id -> job
_tokens: dict[tuple[str, str], str] = {}  # (account, client request token) -> job id


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _xml(root: str, body: dict[str, Any]) -> str:
    return xmltodict.unparse({root: {"@xmlns": NS, **body}}, full_document=True)


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, str], str]:
    body = xmltodict.unparse({"ErrorResponse": {"Error": {"Code": code, "Message": message}, "RequestId": str(uuid.uuid4())}})
    return status, {"Content-Type": "application/xml"}, body


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _s3_backend(account: str) -> Any:
    from moto.s3.models import s3_backends

    return s3_backends[account]["aws"]


def _arn_parts(arn: str) -> tuple[str, str]:
    """bucket, key of an S3 object ARN (arn:aws:s3:::bucket/key) or bucket ARN (no key)."""
    rest = arn.split(":::", 1)[1] if ":::" in arn else arn
    bucket, _, key = rest.partition("/")
    return bucket, key


# ---------------------------------------------------------------- running a job


def _task(backend: Any, bucket: str, key: str, version_id: str | None, encryption_body: bytes) -> tuple[str, int, str, str]:
    """One task: (status, HTTP status, error code, message)."""
    from moto.s3.exceptions import S3ClientError

    from . import update_object_encryption as uoe

    response = types.SimpleNamespace(backend=backend, bucket_name=bucket, body=encryption_body)
    try:
        backend.get_bucket(bucket)
        uoe.update_object_encryption(response, {"versionId": [version_id]} if version_id else {}, key)
    except S3ClientError as failed:
        code = getattr(failed, "code", None) or type(failed).__name__
        message = getattr(failed, "message", None) or str(failed)
        return "failed", STATUS_OF.get(code, 400), code, message
    return "succeeded", 200, "", "Successful"


def _csv_cell(value: str) -> str:
    return f'"{value.replace(chr(34), chr(34) * 2)}"' if any(c in value for c in ',"\n') else value


def _run(account: str, job: dict[str, Any]) -> None:
    job["Status"] = "Active"
    backend = _s3_backend(account)
    location = job["Manifest"]["Location"]
    manifest_bucket, manifest_key = _arn_parts(location["ObjectArn"])
    try:
        manifest = backend.get_object(manifest_bucket, manifest_key, version_id=location.get("ObjectVersionId"))
    except Exception:  # NoSuchBucket and friends
        manifest = None
    if manifest is None:
        return _fail(job, "ManifestNotFound", f"Reading the manifest failed: {location['ObjectArn']} does not exist")
    if manifest.etag.strip('"') != str(location.get("ETag", "")).strip('"'):
        return _fail(job, "ManifestETagMismatch", f"Reading the manifest failed: its ETag is {manifest.etag}, the job names {location.get('ETag')}")
    fields = _as_list(job["Manifest"]["Spec"].get("Fields", {}).get("member"))
    sse = job["Operation"]["S3UpdateObjectEncryption"].get("ObjectEncryption") or {}
    encryption_body = xmltodict.unparse({"ObjectEncryption": sse}).encode()

    results: dict[str, list[str]] = {"succeeded": [], "failed": []}
    for line in manifest.value.decode("utf-8").splitlines():
        if not line.strip():
            continue
        cells = dict(zip(fields, line.split(",")))
        bucket = cells.get("Bucket", "")
        key = urllib.parse.unquote_plus(cells.get("Key", ""))
        version_id = cells.get("VersionId") or None
        status, http, code, message = _task(backend, bucket, key, version_id, encryption_body)
        summary = job["ProgressSummary"]
        summary["NumberOfTasksSucceeded" if status == "succeeded" else "NumberOfTasksFailed"] += 1
        summary["TotalNumberOfTasks"] += 1
        row = [bucket, cells.get("Key", ""), version_id or "", status, str(http), code, message]
        results[status].append(",".join(_csv_cell(c) for c in row))
    job["ProgressSummary"]["Timers"] = {"ElapsedTimeInActiveSeconds": 0}
    _write_report(backend, job, results)
    job["Status"] = "Complete"
    job["TerminationDate"] = _now()


def _fail(job: dict[str, Any], code: str, reason: str) -> None:
    job["Status"] = "Failed"
    job["FailureReasons"] = [{"FailureCode": code, "FailureReason": reason}]
    job["TerminationDate"] = _now()


def _write_report(backend: Any, job: dict[str, Any], results: dict[str, list[str]]) -> None:
    report = job.get("Report") or {}
    if str(report.get("Enabled", "false")).lower() != "true":
        return
    if job["ProgressSummary"]["TotalNumberOfTasks"] == 0:
        return
    bucket, _ = _arn_parts(report["Bucket"])
    prefix = (report.get("Prefix") or "").strip("/")
    base = f"{prefix}/job-{job['JobId']}" if prefix else f"job-{job['JobId']}"
    scope = report.get("ReportScope", "AllTasks")
    entries = []
    for status in ("succeeded", "failed"):
        if not results[status] or (scope == "FailedTasksOnly" and status == "succeeded"):
            continue
        body = ("\n".join(results[status]) + "\n").encode("utf-8")
        key = f"{base}/results/{hashlib.sha1(body + job['JobId'].encode()).hexdigest()}.csv"
        backend.put_object(bucket, key, body)
        entries.append({"TaskExecutionStatus": status, "Bucket": bucket, "MD5Checksum": hashlib.md5(body).hexdigest(), "Key": key})
    manifest = {"Format": "Report_CSV_20180820", "ReportCreationDate": _now(), "Results": entries, "ReportSchema": REPORT_SCHEMA}
    backend.put_object(bucket, f"{base}/manifest.json", json.dumps(manifest, indent=4).encode("utf-8"))


# ---------------------------------------------------------------- the API


def _account(headers: Any) -> str:
    from moto.core import DEFAULT_ACCOUNT_ID

    return headers.get("x-amz-account-id") or DEFAULT_ACCOUNT_ID


def _create_job(account: str, body: bytes) -> Any:
    try:
        request = (xmltodict.parse(body or b"") or {}).get("CreateJobRequest") or {}
    except Exception:
        return _error(400, "MalformedXML", "The XML you provided was not well-formed")
    request.pop("@xmlns", None)
    operation = request.get("Operation") or {}
    if "S3UpdateObjectEncryption" not in operation:
        named = ", ".join(k for k in operation if not k.startswith("@")) or "none"
        return _error(400, "InvalidRequest", f"The emulator runs S3UpdateObjectEncryption jobs only, not {named}")
    spec = (request.get("Manifest") or {}).get("Spec") or {}
    if spec.get("Format") != "S3BatchOperations_CSV_20180820":
        return _error(400, "InvalidRequest", "Manifest.Spec.Format must be S3BatchOperations_CSV_20180820 in the emulator")
    fields = _as_list((spec.get("Fields") or {}).get("member"))
    if fields[:2] != ["Bucket", "Key"] or any(f not in ("Bucket", "Key", "VersionId") for f in fields):
        return _error(400, "InvalidRequest", "Manifest.Spec.Fields must be Bucket, Key and optionally VersionId")
    location = (request.get("Manifest") or {}).get("Location") or {}
    if not location.get("ObjectArn") or not location.get("ETag"):
        return _error(400, "InvalidRequest", "Manifest.Location needs ObjectArn and ETag")
    for required in ("RoleArn", "Priority", "Report"):
        if request.get(required) in (None, ""):
            return _error(400, "InvalidRequest", f"{required} is required")
    token = request.get("ClientRequestToken") or str(uuid.uuid4())
    with _lock:
        known = _tokens.get((account, token))
        if known:
            return 200, {"Content-Type": "application/xml"}, _xml("CreateJobResult", {"JobId": known})
        job_id = str(uuid.uuid4())
        _tokens[(account, token)] = job_id
        job = {
            "JobId": job_id,
            "account": account,
            "ConfirmationRequired": str(request.get("ConfirmationRequired", "false")).lower() == "true",
            "Description": request.get("Description") or "",
            "Operation": operation,
            "Manifest": request["Manifest"],
            "Priority": int(request["Priority"]),
            "RoleArn": request["RoleArn"],
            "Report": request["Report"],
            "Status": "New",
            "CreationTime": _now(),
            "ProgressSummary": {"TotalNumberOfTasks": 0, "NumberOfTasksSucceeded": 0, "NumberOfTasksFailed": 0},
            "FailureReasons": [],
        }
        _jobs.setdefault(account, {})[job_id] = job
        if job["ConfirmationRequired"]:
            job["Status"] = "Suspended"
        else:
            _run(account, job)
    return 200, {"Content-Type": "application/xml"}, _xml("CreateJobResult", {"JobId": job_id})


def _job_document(job: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "JobId": job["JobId"],
        "ConfirmationRequired": str(job["ConfirmationRequired"]).lower(),
        "Description": job["Description"],
        "JobArn": f"arn:aws:s3:us-east-1:{job.get('account', '')}:job/{job['JobId']}",
        "Status": job["Status"],
        "Manifest": job["Manifest"],
        "Operation": job["Operation"],
        "Priority": job["Priority"],
        "ProgressSummary": job["ProgressSummary"],
        "Report": job["Report"],
        "CreationTime": job["CreationTime"],
        "RoleArn": job["RoleArn"],
    }
    if job["FailureReasons"]:
        doc["FailureReasons"] = {"member": job["FailureReasons"]}
    if job.get("TerminationDate"):
        doc["TerminationDate"] = job["TerminationDate"]
    return doc


def jobs_response(request: Any, full_url: str, headers: Any) -> Any:
    account = _account(request.headers)
    path = urllib.parse.urlparse(full_url).path.rstrip("/")
    query = urllib.parse.parse_qs(urllib.parse.urlparse(full_url).query)
    parts = path.split("/")  # ['', 'v20180820', 'jobs', id?, 'status'?]
    job_id = parts[3] if len(parts) > 3 else None
    if job_id is None:
        if request.method == "POST":
            return _create_job(account, request.get_data() if hasattr(request, "get_data") else request.data)
        wanted = set(query.get("jobStatuses", []))
        members = [
            {
                "JobId": j["JobId"],
                "Description": j["Description"],
                "Operation": "S3UpdateObjectEncryption",
                "Priority": j["Priority"],
                "Status": j["Status"],
                "CreationTime": j["CreationTime"],
                "ProgressSummary": j["ProgressSummary"],
                **({"TerminationDate": j["TerminationDate"]} if j.get("TerminationDate") else {}),
            }
            for j in _jobs.get(account, {}).values()
            if not wanted or j["Status"] in wanted
        ]
        return 200, {"Content-Type": "application/xml"}, _xml("ListJobsResult", {"Jobs": {"member": members} if members else None})
    job = _jobs.get(account, {}).get(job_id)
    if job is None:
        return _error(404, "NotFoundException", f"Job {job_id} does not exist")
    if len(parts) > 4 and parts[4] == "status" and request.method == "POST":
        requested = (query.get("requestedJobStatus") or [""])[0]
        if job["Status"] != "Suspended" or requested not in ("Ready", "Cancelled"):
            return _error(400, "JobStatusException", f"Job {job_id} is {job['Status']}: cannot move to {requested or '(none)'}")
        previous = job["Status"]
        with _lock:
            if requested == "Cancelled":
                job["Status"] = "Cancelled"
                job["TerminationDate"] = _now()
            else:
                _run(account, job)
        return 200, {"Content-Type": "application/xml"}, _xml(
            "UpdateJobStatusResult", {"JobId": job_id, "Status": job["Status"], "StatusUpdateReason": f"from {previous}"}
        )
    return 200, {"Content-Type": "application/xml"}, _xml("DescribeJobResult", {"Job": _job_document(job)})


def apply() -> None:
    from moto.moto_api._internal.models import moto_api_backend
    from moto.s3control import urls

    for pattern in ("{0}/v20180820/jobs$", "{0}/v20180820/jobs/(?P<id>[^/]+)$", "{0}/v20180820/jobs/(?P<id>[^/]+)/status$"):
        urls.url_paths[pattern] = jobs_response
    for flask_path in ("/v20180820/jobs", "/v20180820/jobs/<id>", "/v20180820/jobs/<id>/status"):
        urls.url_paths[flask_path] = jobs_response

    # The emulator's reset (POST /moto-api/reset) forgets jobs with everything else.
    original_reset = moto_api_backend.reset

    def reset() -> None:
        with _lock:
            _jobs.clear()
            _tokens.clear()
        original_reset()

    moto_api_backend.reset = reset
