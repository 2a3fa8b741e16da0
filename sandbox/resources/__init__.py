"""Each module registers the endpoints of one App API family (importing it is enough)."""

from sandbox.resources import campaigns, newsletters, segments, workspaces  # noqa: F401
from sandbox.resources import audience, broadcasts, info, messaging, transactional  # noqa: F401
from sandbox.resources import customers, exports  # noqa: F401
from sandbox.resources import activities, messages  # noqa: F401
from sandbox.resources import metrics  # noqa: F401
