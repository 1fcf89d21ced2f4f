"""The status-page toolkit: everything an official source kind shares, so that a kind is only
its format-specific mapping.

A new kind (``bot/sources/<kind>.py``) typically is::

    from bot.sources._toolkit import OfficialKind, guarded_parse, load_json, as_dict, page_observation, ...
    from bot.sources.base import IncidentInfo, Maintenance, register

    KIND = "mykind"
    IMPACTS = {"minor": Status.DEGRADED, ...}          # the format's words → Status

    def _parse(payload, *, service_id, fetched_at, url=None, **options) -> Observation:
        doc = as_dict(load_json(payload), "My page")   # PayloadError names what is wrong
        incidents = [IncidentInfo(...) for ... ]       # text(), parse_time(), opt_str()
        return page_observation(KIND, service_id, fetched_at, url, incidents=incidents)

    parse = guarded_parse(KIND, _parse)                # no payload can make it raise

    @register
    class MyKind(OfficialKind):
        name = KIND
        parse = parse
        name_option = "components"                     # optional filter by name

        @classmethod
        def endpoint(cls, url, options):                # when the API is not the page URL
            return f"{url.rstrip('/')}/api/status.json"

and real captured payloads under ``tests/fixtures/<kind>/`` with their provenance in
``tests/fixtures/SOURCES.md`` (never a hand-written payload).

Modules: ``payload`` (decoding and defensive field access, text, timestamps), ``page``
(statuses, the observation, the parse guard), ``kind`` (polling and ``OfficialKind``).
"""

from bot.sources._toolkit.kind import OfficialKind, accept_headers, beside, check_str_list, name_filter, poll_official, wanted_by
from bot.sources._toolkit.page import ComponentTally, error_observation, guarded_parse, page_observation, page_status, with_fetch, worst
from bot.sources._toolkit.payload import MAX_TEXT, PayloadError, as_dict, as_list, load_json, newest, opt_str, parse_time, strip_tags, text

__all__ = [
    "MAX_TEXT", "OfficialKind", "PayloadError", "accept_headers", "as_dict", "beside", "as_list", "check_str_list", "error_observation",
    "guarded_parse", "load_json", "name_filter", "opt_str", "page_observation", "page_status", "parse_time",
    "poll_official", "strip_tags", "text", "wanted_by", "with_fetch", "worst", "ComponentTally", "newest",
]  # fmt: skip
