"""MongoDB adapters over pymongo's native async client."""
