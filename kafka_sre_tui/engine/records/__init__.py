"""Reading records for people: a bounded scan of a topic from an offset, a time, the tail or a
group's committed offsets, filtered, decoded, and shown as text, pretty JSON or hex.

One engine function (:func:`read_records`) serves ``records``, ``replay`` and the dashboard's record view.
"""
