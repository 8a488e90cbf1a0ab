"""DynamoDB TransactWriteItems: all-or-nothing and isolated from other writes, as AWS documents.

AWS rule (DynamoDB Developer Guide, "Isolation levels for DynamoDB transactions"): TransactWriteItems
is serializable with respect to other transactions and to standard writes (PutItem, UpdateItem,
DeleteItem, BatchWriteItem); its actions succeed together or fail together.

moto 5.2: no lock, so concurrent transactions interleave their condition checks and writes (two
`attribute_not_exists` puts of the same item both succeed). On failure it restores a deep copy of
every table taken at the start, which wipes out writes that other requests committed meanwhile, and
that copy is taken on every transaction, so a transaction costs time proportional to the table.

Patch: one re-entrant lock serializes transactions with moto's single-item writes; a transaction
checks every condition first, writes only if all hold, and if a write fails midway restores only the
items it touched. Cancellation reasons are reported per item as AWS does.
Not covered: TransactGetItems isolation (reads are not locked), idempotency tokens
(ClientRequestToken), the 4 MB aggregate size limit.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend

_LOCK = threading.RLock()


def _locked(method: Any) -> Any:
    def wrapper(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return method(self, *args, **kwargs)

    wrapper.__wrapped__ = method  # type: ignore[attr-defined]
    return wrapper


def _item_key(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return op["Key"]
    table = backend.get_table(op["TableName"])
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    with _LOCK:
        actions: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        seen: set[tuple[str, str]] = set()
        for entry in transact_items:
            if len(entry) != 1:
                raise TransactWriteSingleOpException
            op_type, op = next(iter(entry.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            key = _item_key(self, op_type, op)
            identity = (op["TableName"], str(sorted(key.items())))
            if identity in seen:
                raise MultipleTransactionsException()
            seen.add(identity)
            actions.append((op_type, op, key))

        # Phase 1: every condition against the state before the transaction.
        errors: list[tuple[str | None, str | None, Any]] = []
        before: list[Any] = []
        for op_type, op, key in actions:
            current = self.get_item(op["TableName"], key)
            before.append(current.to_json()["Attributes"] if current else None)
            condition = op.get("ConditionExpression")
            if condition is not None:
                check = get_filter_expression(
                    condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                )
                if not check.expr(current):
                    old = before[-1] if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" else None
                    errors.append(("ConditionalCheckFailed", ConditionalCheckFailed().message, old))
                    continue
            errors.append((None, None, None))
        if any(code for code, _, _ in errors):
            raise TransactionCanceledException(errors)

        # Phase 2: the writes. A failure here (an invalid update expression) undoes what was written.
        written: list[int] = []
        try:
            for index, (op_type, op, key) in enumerate(actions):
                table_name = op["TableName"]
                if op_type == "Put":
                    self.put_item(table_name, op["Item"])
                elif op_type == "Delete":
                    self.delete_item(table_name, key)
                elif op_type == "Update":
                    self.update_item(
                        table_name,
                        key,
                        update_expression=op["UpdateExpression"],
                        expression_attribute_names=op.get("ExpressionAttributeNames"),
                        expression_attribute_values=op.get("ExpressionAttributeValues"),
                    )
                written.append(index)
        except Exception:
            for index in reversed(written):
                op_type, op, key = actions[index]
                if before[index] is None:
                    self.delete_item(op["TableName"], key)
                else:
                    self.put_item(op["TableName"], before[index])
            raise


def apply() -> None:
    for name in ("put_item", "update_item", "delete_item"):
        setattr(DynamoDBBackend, name, _locked(getattr(DynamoDBBackend, name)))
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
