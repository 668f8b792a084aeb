"""Reading records for people: a bounded scan of a topic from an offset, a time, the tail or a
group's committed offsets, filtered, decoded, and shown as text, pretty JSON or hex.

One engine function (:func:`read_records`) serves ``records``, ``replay`` and the dashboard's record view.
"""

from kafka_sre_tui.engine.records.filters import RecordFilter
from kafka_sre_tui.engine.records.model import Record
from kafka_sre_tui.engine.records.query import RecordQuery
from kafka_sre_tui.engine.records.read import ReadEnd, read_records

__all__ = ["ReadEnd", "Record", "RecordFilter", "RecordQuery", "read_records"]
