"""The knowledge base: articles in kb/<lang>/, their search, and the work behind `ccctl kb`."""
