"""SDK configuration: config files, `FLYTE_*` environment variables and their precedence."""
