"""Create the media bucket and let anyone read renditions (not originals).

Run once per environment with the app's own variables (DATELINE_S3_BUCKET,
DATELINE_S3_ENDPOINT_URL, AWS_*): docker-compose's `setup` service and
`make cluster` both do. Originals stay private, for editors; readers and the
proxy (or CDN) in front fetch renditions without credentials.
"""

import json
import os

import boto3

bucket = os.environ["DATELINE_S3_BUCKET"]
client = boto3.client(
    "s3",
    endpoint_url=os.environ.get("DATELINE_S3_ENDPOINT_URL") or None,
    region_name=os.environ.get("AWS_S3_REGION_NAME") or "us-east-1",
)
if bucket not in {b["Name"] for b in client.list_buckets().get("Buckets", [])}:
    client.create_bucket(Bucket=bucket)
policy = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/renditions/*",
        }
    ],
}
client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
print(f"bucket {bucket}: ready, renditions readable by anyone")
