"""HTTP routes of API v1: validate, check rights, call the rules, return."""
