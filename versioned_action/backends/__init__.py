"""Storage backends: ``s3`` (everything in S3) and ``s3-dynamodb`` (records in DynamoDB)."""
