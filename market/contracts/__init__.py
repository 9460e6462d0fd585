"""Contracts (签约): versions rendered to PDF, signatures over their SHA-256, revisions."""
