"""The REST/JSON API: a thin FastAPI layer that translates HTTP to use cases and back."""
