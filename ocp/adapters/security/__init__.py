"""Security adapters: password hashing with bcrypt and access tokens as JWTs."""
