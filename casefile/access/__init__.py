"""The access choke point: who may see which case, and who may use which route.

Every query for case-owned rows starts here; the tripwire in ``tripwire.py`` refuses
ORM queries on those models that did not.
"""

from casefile.access.policy import (
    auditable_evidence,
    can_create_case,
    can_edit_case,
    can_see_contacts,
    case_visibility,
    get_case,
    visible_cases,
    visible_evidence,
    visible_packets,
    visible_persons,
    visible_reporters,
)
from casefile.access.routes import (
    RoutePolicy,
    authenticated,
    declared_roles,
    enforce_route_policy,
    public,
    recent_auth,
    recent_auth_required,
    roles,
    route_registry,
)
from casefile.access.tripwire import SCOPED, UnscopedQuery, install_tripwire, unscoped

__all__ = [
    "SCOPED",
    "RoutePolicy",
    "UnscopedQuery",
    "auditable_evidence",
    "authenticated",
    "can_create_case",
    "can_edit_case",
    "can_see_contacts",
    "case_visibility",
    "declared_roles",
    "enforce_route_policy",
    "get_case",
    "install_tripwire",
    "public",
    "recent_auth",
    "recent_auth_required",
    "roles",
    "route_registry",
    "unscoped",
    "visible_cases",
    "visible_evidence",
    "visible_packets",
    "visible_persons",
    "visible_reporters",
]
