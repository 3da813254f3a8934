"""Recordings of agent-patient calls: where they go, their metadata, export and the S3 archive."""
