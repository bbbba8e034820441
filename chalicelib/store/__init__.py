"""Storage: settings, AWS clients, the DynamoDB tables (pynamodb) and the S3 artifacts."""
