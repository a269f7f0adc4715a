"""Reminders before a task falls due and escalation (升级) of overdue tasks, by policies kept as data."""
