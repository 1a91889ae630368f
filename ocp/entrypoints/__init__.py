"""How the world reaches OCP: the HTTP API and the command line."""
