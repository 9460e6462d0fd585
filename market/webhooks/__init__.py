"""Outbound webhooks: endpoints per organisation, events written in the use case's transaction,
signed deliveries pushed by rq after commit (DESIGN.md §4 rule 3, §9)."""
