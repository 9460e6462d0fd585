"""Orders: the deal an award or a storefront purchase creates, its lines and state table."""
