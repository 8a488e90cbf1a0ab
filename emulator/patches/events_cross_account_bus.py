"""An event forwarded to an event bus in another account keeps its sender's account and Region.

AWS rule (EventBridge User Guide, "Sending and receiving events between AWS accounts"): the sender
account's rule targets the receiver's bus; the receiver "sets up one or more rules that match
events that come from the sender account" (its own examples match `"account": ["<sender>"]`), so
a forwarded event still names the account (and Region) it happened in, with its `resources`.
"If a receiver account sets up a rule that sends events received from a sender account on to a
third account, these events are not sent to the third account."

moto 5.2: a rule whose target is a bus of another account or Region calls that account's
PutEvents with source, detail-type and detail only: the receiver sees its own account and Region,
no resources, a new time, so a central consumer cannot tell which member account an event is from.
The receiver's bus policy is not checked (nor is it by this patch). Besides, moto's default input
template (a target without an InputTransformer) leaves `account` out of every event it delivers,
where AWS delivers the whole event: a queue never learns the account of any event.

Patch: the default input template carries `account`; deliver the matched event itself (id, account, region, time, resources, detail unchanged)
to the rules of the target bus; there, targets that are buses of yet another account are dropped,
as AWS does. Other targets go through moto's own code.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.events import models, utils
from moto.utilities.arns import parse_arn


def _is_bus(target: dict[str, Any]) -> bool:
    arn = parse_arn(target["Arn"])
    return arn.service == "events" and arn.resource_type == "event-bus"


def apply() -> None:
    utils.EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE = (
        '{"version": "0", "id": "<id>", "detail-type": "<detail-type>", "source": "<source>", "account": "<account>", '
        '"time": <time>, "region": "<region>", "resources": <resources>, "detail": <detail>}'
    )
    original_send_to_targets = models.Rule.send_to_targets

    def deliver(target: dict[str, Any], event: dict[str, Any], transform_input: bool) -> None:
        arn = parse_arn(target["Arn"])
        receiver = models.events_backends[arn.account][arn.region]
        try:
            bus = receiver.describe_event_bus(arn.resource_id)
        except Exception:  # noqa: BLE001 - AWS counts a failed invocation; the sender's PutEvents still succeeds
            return
        for receiving_rule in list(bus.rules.values()):
            local = copy.copy(receiving_rule)
            # No second hop to a third account.
            local.targets = [t for t in receiving_rule.targets if not (_is_bus(t) and parse_arn(t["Arn"]).account != arn.account)]
            original_send_to_targets(local, copy.deepcopy(event), transform_input)

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        buses = [t for t in self.targets if _is_bus(t)]
        if not buses:
            return original_send_to_targets(self, original_event, transform_input)
        if not self.event_pattern.matches_event(original_event):
            return None
        # Before moto's own targets run: its SQS path rewrites the event's time in place.
        for target in buses:
            deliver(target, copy.deepcopy(original_event), transform_input)
        others = [t for t in self.targets if not _is_bus(t)]
        if others:
            rest = copy.copy(self)
            rest.targets = others
            original_send_to_targets(rest, original_event, transform_input)
        return None

    models.Rule.send_to_targets = send_to_targets
