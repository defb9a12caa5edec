"""Tiny shared pieces: observer events, ids and error types. Imports nothing of ours."""
