"""`File`, `Dir` and `DataFrame`: data that lives in blob storage and moves between tasks."""
