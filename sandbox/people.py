"""People as generated: every person a pure function of their index, so a million cost no memory.

The workspace (sandbox/workspace.py) lays its overlay of changes over these: only the people
changed since are held. Created people take the next indexes and the same formulas, but for
`created_at`, the moment they were created.
"""

import random
from typing import Any, Dict, List, Mapping, Optional

DAY = 86400
IDENTIFIERS = ("cio_id", "id", "email")
FIRST_NAMES = ("Ada", "Björn", "Chloé", "Dmitri", "Eve", "Fatima", "Grace", "Hiro", "Inês", "José")
PLANS = ("free", "starter", "pro", "enterprise")
# Values that need CSV quoting: a comma and quotes, a line break.
COMPANIES = ("Acme", 'Widgets, "Global" Ltd', "Initech\nLabs", "Umbrella")
# Every attribute name a person can have, in the export file's column order.
ATTRIBUTE_NAMES = IDENTIFIERS + ("created_at", "first_name", "plan", "unsubscribed", "company", "last_purchase_amount")
# The attributes a churn changes, and the values it picks from (last_purchase_amount: any amount).
CHURNED_ATTRIBUTES = ("first_name", "plan", "company", "last_purchase_amount")
CHURNED_VALUES = {"first_name": FIRST_NAMES, "plan": PLANS, "company": COMPANIES}


def person_ids(index: int, email_only_share: float) -> Dict[str, Optional[str]]:
    """`email_only_share` of the people have no `id` (email-identified workspaces); every 23rd has no email."""
    email_only = int((index + 1) * email_only_share + 1e-9) > int(index * email_only_share + 1e-9)
    return {
        "email": None if index % 23 == 22 else f"person{index}@example.com",
        "id": None if email_only else str(100000 + index),
        "cio_id": f"{0x3000000 + index:x}",
    }


def generated_created_at(started: int, index: int) -> int:
    """Within the 700 days before the workspace's clock started."""
    return started - (1 + index % 700) * DAY - index % 86400


def generated_attributes(ids: Mapping[str, Optional[str]], index: int, created: int) -> Dict[str, str]:
    """A person's attributes, all strings as the API gives them; identifiers included when set."""
    attrs = {name: value for name, value in ids.items() if value is not None}
    attrs["created_at"] = str(created)
    attrs["first_name"] = FIRST_NAMES[index % len(FIRST_NAMES)]
    attrs["plan"] = PLANS[index % len(PLANS)]
    attrs["unsubscribed"] = "true" if index % 9 == 4 else "false"
    if index % 5 != 3:
        attrs["company"] = COMPANIES[index % len(COMPANIES)]
    if index % 11 == 0:
        attrs["last_purchase_amount"] = f"{index % 500}.{index % 100:02d}"
    return attrs


def generated_devices(index: int, created: int) -> List[Dict[str, Any]]:
    if index % 3:
        return []
    return [
        {
            "id": f"device-{index:x}",
            "platform": "ios" if index % 2 else "android",
            "last_used": created + (index % 30) * DAY,
            "attributes": {"app_version": f"3.{index % 7}.0"},
        }
    ]


def churned_value(name: str, old: Optional[str], rng: random.Random) -> str:
    """A new value for a churned attribute, never its current one (an unchanged value is no change)."""
    while True:
        choices = CHURNED_VALUES.get(name)
        value = rng.choice(choices) if choices else f"{rng.randrange(500)}.{rng.randrange(100):02d}"
        if value != old:
            return value
