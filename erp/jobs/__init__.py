"""Periodic jobs as data: parts of the product register cron-like jobs; administrators see and change their
schedules; every run is recorded with its outcome, and each scheduled slot runs once across workers."""
