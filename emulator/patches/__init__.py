"""Patches that bring moto's S3/KMS encryption behaviour (and DynamoDB transaction isolation) in line with the AWS API reference.

Each module patches one behaviour and documents the AWS rule it implements; each has a test under
test/emulator/ that shows the AWS behaviour through the AWS SDK. Modules wrap moto's methods, so the
order matters where several wrap the same method: later modules wrap the earlier ones.
"""

PATCHES: list[str] = [
    "kms_managed_key",
    "default_sse_s3",
    "sse_kms_key_arn",
    "sse_c",
    "sse_c_blocking",
    "kms_key_state",
    "kms_cancel_deletion",
    "copy_conditions",
    "update_object_encryption",
    "copy_destination_conditions",
    "copy_object_lock_headers",
    "multipart_object_settings",
    "dynamodb_transactions",
    "dynamodb_transaction_tokens",
    "s3_delete_marker_event",
    "s3_event_sequencer",
    "s3_inventory",
    "s3_batch_operations",
    "athena_result_csv",
    "events_cross_account_bus",
    "iam_cloudformation_inline_policy",
]


def apply_all() -> None:
    import importlib

    for name in PATCHES:
        importlib.import_module(f"patches.{name}").apply()
