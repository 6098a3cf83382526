"""Users, passwords, OAuth entities and tokens, multi-provider SSO and sessions."""
