"""The audit choke point: ``record`` is the one way an event is written."""

from casefile.audit.services import GENESIS_HASH, canonical_event, event_hash, record, record_many, set_client

__all__ = ["GENESIS_HASH", "canonical_event", "event_hash", "record", "record_many", "set_client"]
