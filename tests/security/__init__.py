"""Hostile input: the API fuzzed from its OpenAPI document, script and SQL injection, sandbox escapes, hostile
uploads."""
