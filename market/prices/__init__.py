"""Price transparency (DESIGN.md §7): publications of the index computed by pricing/, the public
price page, price checks on quotes and storefront prices, government tariffs."""
