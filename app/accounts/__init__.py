"""Admin accounts: users, roles and password checks."""
