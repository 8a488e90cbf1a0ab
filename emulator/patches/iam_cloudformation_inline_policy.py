"""A role's inline policy created by CloudFormation reads back as JSON.

AWS rule (IAM API Reference, GetRolePolicy): "PolicyDocument — The policy document. IAM stores
policies in JSON format" (URL-encoded, RFC 3986). CloudFormation's AWS::IAM::Role `Policies`
takes the document as a JSON object and IAM stores it as JSON like any other.

moto 5.2: AWS::IAM::Role stores the template's object as it is, and GetRolePolicy answers its
Python repr (`{'Version': …}`), which no JSON parser reads: a test cannot check the statements a
template created.

Patch: a role's put_policy given an object stores it as JSON.
"""

from __future__ import annotations

import json
from typing import Any

from moto.iam.models import Role


def apply() -> None:
    original_put_policy = Role.put_policy

    def put_policy(self: Any, policy_name: str, policy_json: Any) -> None:
        original_put_policy(self, policy_name, policy_json if isinstance(policy_json, str) else json.dumps(policy_json))

    Role.put_policy = put_policy
