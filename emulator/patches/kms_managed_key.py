"""KMS: the AWS managed key aws/s3 reports KeyManager AWS; key-state operations accept a key ARN.

AWS rules relied on:
- KMS API reference, DescribeKey, KeyId: "If you specify a predefined Amazon Web Services alias (an
  Amazon Web Services alias with no key ID), KMS associates the alias with an Amazon Web Services
  managed key and returns its KeyId and Arn in the response." moto already creates the key on first
  use of a reserved alias (alias/aws/*); this patch makes that key look like an AWS managed key:
  KeyMetadata.KeyManager "AWS" (KMS Developer Guide, "AWS managed keys"), automatic rotation on
  (AWS managed keys rotate every year and this cannot be changed), description "Default key that
  protects my S3 objects when no other key is defined" (the text S3's console shows; not asserted).
- KMS API reference, DisableKey / EnableKey / ScheduleKeyDeletion / CancelKeyDeletion, KeyId:
  "Specify the key ID or key ARN of the KMS key." moto indexes its key table with the raw input, so
  a key ARN fails with a 500; the patch reduces an ARN to the key id first.

Not covered: AWS refuses DisableKey / ScheduleKeyDeletion / key policy changes on AWS managed keys
(they are managed by the service); ListAliases does not list the predefined aws/* aliases that have
no key yet; ScheduleKeyDeletion's KeyId answer stays whatever the caller sent (AWS answers the ARN).
"""

import threading
from typing import Any

# moto creates an AWS managed key on first use without a lock: writes that first use aws/s3 at the
# same moment each created their own key. AWS has exactly one per account and region.
_CREATE_LOCK = threading.Lock()

DESCRIPTIONS = {
    "alias/aws/s3": "Default key that protects my S3 objects when no other key is defined",
}


def apply() -> None:
    from moto.kms.models import KmsBackend

    original_generate = KmsBackend._generate_default_keys

    def _generate_default_keys(self: Any, alias_name: str) -> Any:
        with _CREATE_LOCK:
            key_id = original_generate(self, alias_name)
            if key_id is not None:
                key = self.keys[key_id]
                key.key_manager = "AWS"
                key.key_rotation_status = True
                key.description = DESCRIPTIONS.get(
                    alias_name, f"Default key that protects my {alias_name[len('alias/aws/'):]} data"
                )
        return key_id

    KmsBackend._generate_default_keys = _generate_default_keys

    for name in ("disable_key", "enable_key", "cancel_key_deletion", "schedule_key_deletion"):
        original = getattr(KmsBackend, name)

        def by_id_or_arn(self: Any, key_id: str, *args: Any, _original: Any = original) -> Any:
            return _original(self, self.get_key_id(key_id), *args)

        setattr(KmsBackend, name, by_id_or_arn)
