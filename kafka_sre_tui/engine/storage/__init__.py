"""The on-disk backup format (docs/backup-format.md): blocks of Kafka record batches, segments,
manifest, reader and verifier. Pure file I/O: nothing here talks to Kafka."""
