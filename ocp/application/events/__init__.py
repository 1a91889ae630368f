"""Events and background work: recording events with the changes that cause them, webhook
endpoints and their deliveries, and the jobs a worker runs."""
