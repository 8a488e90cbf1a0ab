"""DynamoDB TransactWriteItems: ClientRequestToken makes a repeated transaction idempotent.

AWS rule (DynamoDB API reference, TransactWriteItems, ClientRequestToken): "Providing a
ClientRequestToken makes the call to TransactWriteItems idempotent, meaning that multiple identical
calls have the same effect as one single call." A token is valid for 10 minutes after the first
request that uses it; a repeated call within that window succeeds without applying the writes again,
even when its conditions no longer hold. "If you submit a request with the same client token but a
change in other parameters within the 10-minute idempotency window, DynamoDB returns an
IdempotentParameterMismatch exception." (Error code IdempotentParameterMismatchException, HTTP 400.)

moto 5.2 ignores the token: a caller that retries a transaction whose answer it lost (the write
happened, the response did not arrive) has it applied twice, or sees its own conditions fail.

Patch: the handler remembers each token's request (its TransactItems, canonical JSON) for 10 minutes
after a successful call; a repeat with the same items answers success without writing, one with
other items is refused. A call that failed (conditions, validation) is not remembered, as AWS only
promises idempotency for the transaction's effect.
ministack (the second emulator) behaves the same way: test/emulator/dynamodb-transaction-tokens.test.ts
runs against both in CI.
Not covered: the consumed capacity of a repeated call (AWS reports it as a read), tokens of
TransactGetItems (there are none).
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

WINDOW_SECONDS = 600

_lock = threading.Lock()
_tokens: dict[str, tuple[str, float]] = {}  # token -> (canonical TransactItems, first success time)


def apply() -> None:
    from moto.core.responses import ActionResult
    from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException
    from moto.dynamodb.responses import DynamoHandler

    class IdempotentParameterMismatch(DynamodbException):
        def __init__(self) -> None:
            super().__init__(
                ERROR_TYPE_PREFIX + "IdempotentParameterMismatchException",
                "The request uses the same client token as a previous, but non-identical request.",
            )

    original = DynamoHandler.transact_write_items

    def transact_write_items(self: Any) -> Any:
        token = self.body.get("ClientRequestToken")
        if not token:
            return original(self)
        request = json.dumps(self.body["TransactItems"], sort_keys=True)
        # One token at a time: a retry that arrives while its first call still runs waits for it.
        with _lock:
            now = time.time()
            for old in [t for t, (_, at) in _tokens.items() if now - at > WINDOW_SECONDS]:
                del _tokens[old]
            seen = _tokens.get(token)
            if seen is not None:
                if seen[0] != request:
                    raise IdempotentParameterMismatch()
                # Already applied: the same answer, nothing written again.
                return ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})
            result = original(self)
            _tokens[token] = (request, now)
            return result

    DynamoHandler.transact_write_items = transact_write_items
