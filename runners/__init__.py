"""The runner: one entry point for Lambda, Fargate/CLI and the local runtime."""
