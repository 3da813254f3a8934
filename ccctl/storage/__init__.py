"""Stored media (recordings, voice messages, faxes, uploads) encrypted at rest with the key of `storage.key_file`."""
