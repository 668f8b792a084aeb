"""A consumer group's committed offsets: read them, plan a reset, snapshot, commit, roll back."""
