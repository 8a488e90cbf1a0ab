"""Patches that bring moto's S3/KMS encryption behaviour in line with the AWS API reference.

Each module patches one behaviour and documents the AWS rule it implements; each has a test under
test/emulator/ that shows the AWS behaviour through the AWS SDK.
"""

PATCHES: list[str] = []


def apply_all() -> None:
    import importlib

    for name in PATCHES:
        importlib.import_module(f"patches.{name}").apply()
