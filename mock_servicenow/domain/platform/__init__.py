"""The instance itself: request context, clock, ids, the database template and reset,
isolated instances, faults, scenarios, seeding and inbound rate limits."""
