"""Data migration (数据迁移): legacy files and databases read, mapped, cleansed, validated in a dry run, then
imported in batches and reconciled."""
