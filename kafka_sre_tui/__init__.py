"""kafka-sre-tui: a terminal dashboard and headless toolkit for Kafka SREs."""
