"""Each module registers the endpoints of one App API family (importing it is enough)."""

from sandbox.resources import (  # noqa: F401  # noqa: F401  # noqa: F401  # noqa: F401
    activities,
    audience,
    broadcasts,
    campaigns,
    customers,
    exports,
    info,
    messages,
    messaging,
    metrics,  # noqa: F401
    newsletters,
    segments,
    transactional,
    workspaces,
)
