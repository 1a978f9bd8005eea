"""Work botocore repeats for every client, done once for all of them.

An organisation scan creates a client per service, account and region (hundreds), and botocore
builds each from scratch although most of what it builds depends only on the service. These
helpers share that part. Each leans on a botocore internal; each checks it is still there and
otherwise leaves botocore as it is, so a botocore that changes costs speed, never correctness.
"""

from __future__ import annotations

import threading
from typing import Any

_EVENT_NAMES: dict[str, str] = {}


def share_event_names(client: Any) -> None:
    """Let ``client`` use the event-name translations every other client has made.

    botocore passes every event (a dozen per call) through its alias table and caches the
    translated name per client; a new client translates again every event of every operation,
    which was 8% of an organisation scan's CPU (benchmarks/bench_org_latency.py). The
    translation depends only on the name and the table, botocore's default for every client
    vpce-audit makes, so one cache serves them all."""
    from botocore.utils import EVENT_ALIASES

    events = client.meta.events
    cache = getattr(events, "_alias_name_cache", None)
    if isinstance(cache, dict) and getattr(events, "_event_aliases", None) == EVENT_ALIASES:
        _EVENT_NAMES.update(cache)
        events._alias_name_cache = _EVENT_NAMES


_LOCK = threading.Lock()
# One entry per service, for the JSON model last loaded: an entry serves only clients built from
# that very object (compared by identity), and a new model (another loader, as in tests) replaces
# it rather than keeping every model ever loaded alive.
_MODELS: dict[str, Any] = {}
_METHODS: dict[str, tuple[Any, dict[str, Any]]] = {}


def share_client_parts() -> None:
    """Build a service's model and client methods once per process, not once per client.

    botocore gives every new client a ``ServiceModel`` of its own, which then builds again, for
    that client, every operation model it is asked for (an EC2 client walks all 830 operations
    when it is created, looking for endpoint discovery), and a class of its own, with one
    method per operation built afresh, docstring object included. For EC2 that was about
    30 ms of CPU per client, most of a client's cost, and a scan creates one per account and
    region.

    Both depend only on the service's JSON model, which botocore never changes once loaded:
    a method only calls ``self._make_api_call`` with its operation's name. Sessions that share
    a model loader (``ClientFactory.share_models``) load the same JSON object, so their clients
    get one ``ServiceModel`` and one set of methods. Each client's class still gets its own copy
    of the method table, which botocore's ``creating-client-class`` handlers see and change as
    before. Installed once per process; idempotent."""
    from botocore.client import ClientCreator

    load_model = ClientCreator.__dict__.get("_load_service_model")
    build_methods = ClientCreator.__dict__.get("_create_methods")
    if load_model is None or build_methods is None:
        return
    if getattr(load_model, "shared_by_vpce_audit", False):
        return

    def load_service_model(creator: Any, service_name: str, api_version: Any = None) -> Any:
        model = load_model(creator, service_name, api_version)
        description = getattr(model, "_service_description", None)
        if not isinstance(description, dict):
            return model
        with _LOCK:
            shared = _MODELS.get(service_name)
            if shared is None or shared._service_description is not description:
                _MODELS[service_name] = shared = model
        return shared

    def create_methods(creator: Any, service_model: Any) -> dict[str, Any]:
        description = getattr(service_model, "_service_description", None)
        if not isinstance(description, dict):
            return dict(build_methods(creator, service_model))
        name = service_model.service_name
        with _LOCK:
            entry = _METHODS.get(name)
            if entry is None or entry[0] is not description:
                entry = _METHODS[name] = (description, build_methods(creator, service_model))
        return dict(entry[1])

    load_service_model.shared_by_vpce_audit = True  # type: ignore[attr-defined]
    ClientCreator._load_service_model = load_service_model
    ClientCreator._create_methods = create_methods


_BUILTIN_HANDLERS: dict[str, Any] = {}


def fresh_session() -> Any:
    """A new botocore session, as ``botocore.session.Session()`` makes it, at a tenth of the cost.

    A new session registers botocore's ~2,500 builtin event handlers one by one, inspecting each
    handler's signature and translating each event name: about 17 ms of CPU, paid once per
    member account of an organisation. The handlers are module-level functions that keep no
    state per session (botocore itself copies a session's handlers into every client), so they
    are registered once per process, into an emitter kept as a template, and each new session
    gets a copy of it. Uses only botocore's public ``event_hooks`` and
    ``include_builtin_handlers`` arguments."""
    import copy

    import botocore.handlers
    import botocore.session
    from botocore.hooks import HierarchicalEmitter

    # The list can grow after the template is made (moto adds its stubber to it when imported):
    # a template of an older list would leave a new session without a handler botocore's own
    # sessions have.
    builtin = tuple(botocore.handlers.BUILTIN_HANDLERS)
    with _LOCK:
        if _BUILTIN_HANDLERS.get("of") != builtin:
            template = HierarchicalEmitter()
            botocore.session.Session(event_hooks=template)  # registers the builtin handlers
            _BUILTIN_HANDLERS.update(of=builtin, template=template)
        handlers = copy.copy(_BUILTIN_HANDLERS["template"])
    return botocore.session.Session(event_hooks=handlers, include_builtin_handlers=False)
