"""Replay: copy a chosen range of records (filtered) into a topic, e.g. a dead-letter topic back into
its main topic, through the faithful writer; a dry run counts what would be written."""
