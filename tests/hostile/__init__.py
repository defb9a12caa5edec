"""Hostile and unlucky inputs (issue 10): each test fails on the code before the fix."""
