"""Web layer: extensions, blueprint registry (market.web.app), error mapping, security, i18n."""
