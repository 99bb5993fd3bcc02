"""Service layer: one function per use case. They take a Store and a Principal, never boto3."""
