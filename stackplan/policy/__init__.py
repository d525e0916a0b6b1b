"""Policies over plans (`plan --policy FILE`): the rules a plan must keep to pass a gate.

`rules` reads a policy file; `check` evaluates it on a plan value, pure, beside the
renderers that show what it found.
"""

from stackplan.policy.check import check_policy
from stackplan.policy.rules import ACTIONS, Policy, Rule, load_policy

__all__ = ["ACTIONS", "Policy", "Rule", "check_policy", "load_policy"]
