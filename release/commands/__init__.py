"""The console scripts: `release`, `publish`, `extract-notes`."""
