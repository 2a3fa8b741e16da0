"""Each module registers the endpoints of one App API family (importing it is enough)."""

from sandbox.resources import (  # noqa: F401 (imported to register their endpoints)
    activities,
    audience,
    broadcasts,
    campaigns,
    customers,
    exports,
    info,
    messages,
    messaging,
    metrics,
    newsletters,
    segments,
    transactional,
    workspaces,
)
