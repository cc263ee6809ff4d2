"""Authentication: passwords, access tokens, device keys, ticket tokens, and who may do what."""
