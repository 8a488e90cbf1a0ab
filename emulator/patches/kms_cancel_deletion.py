"""KMS CancelKeyDeletion works only on a key pending deletion.

AWS rules relied on (KMS API reference, CancelKeyDeletion; Developer Guide, "Cancel key deletion"
and "Key states of AWS KMS keys"): "you can cancel key deletion while it is still in the pending
deletion state"; "the KMS key that you use for this operation must be in a compatible key state".
On success the key state is Disabled.

The answers for the other states follow LocalStack's KMS provider, whose behaviour is validated
against AWS with recorded snapshots: an Enabled key → 400 KMSInvalidStateException "<ARN> is
enabled, but the operation doesn't support such a state"; a Disabled key (a deletion already
cancelled) → 400 DisabledException "<ARN> is disabled.".

moto 5.x (and ministack) set any key to Disabled on CancelKeyDeletion: an Enabled key was silently
disabled, and a retried cancellation (its first answer lost) looked like a second success.
"""

from __future__ import annotations

from typing import Any


def apply() -> None:
    from moto.core.exceptions import JsonRESTError
    from moto.kms.models import KmsBackend

    original = KmsBackend.cancel_key_deletion

    def cancel_key_deletion(self: Any, key_id: str) -> None:
        key = self.keys[self.get_key_id(key_id)]  # a key ARN as well as a key id, as AWS takes both
        if key.key_state == "Disabled":
            raise JsonRESTError("DisabledException", f"{key.arn} is disabled.")
        if key.key_state == "Enabled":
            raise JsonRESTError("KMSInvalidStateException", f"{key.arn} is enabled, but the operation doesn't support such a state")
        original(self, key_id)

    KmsBackend.cancel_key_deletion = cancel_key_deletion
