"""Access control and the server secret: API keys with scopes, rate limits, security headers, the audit log."""
