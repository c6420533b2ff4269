"""Publish the candidate pages (web/) to the stack's web bucket behind CloudFront.

    python -m scripts.publish_web --stack exam-results-prod [--api-base /api]

The pages call the API on the same origin (CloudFront sends /api/* to API Gateway), so
``config.js`` keeps ``/api`` unless --api-base says otherwise (the pages' CSP allows
connections to their own origin only, and the API answers only through CloudFront).
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import time
from pathlib import Path
from typing import Any

import boto3

WEB = Path(__file__).resolve().parent.parent / "web"
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}


def stack_outputs(stack: str) -> dict[str, str]:
    described = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def publish(bucket: str, api_base: str = "/api", distribution_id: str = "", s3: Any = None) -> list[str]:
    """Upload every page with its content type; pages revalidate, assets cache for an hour."""
    s3 = s3 or boto3.client("s3")
    keys = []
    for path in sorted(p for p in WEB.rglob("*") if p.is_file()):
        key = path.relative_to(WEB).as_posix()
        body = path.read_bytes()
        if key == "config.js":
            body = f"window.APP_CONFIG = {json.dumps({'apiBase': api_base})};\n".encode()
        content_type = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        cache = "no-cache" if path.suffix == ".html" or key == "config.js" else "public, max-age=3600"
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type, CacheControl=cache)
        keys.append(key)
    if distribution_id:
        boto3.client("cloudfront").create_invalidation(
            DistributionId=distribution_id,
            InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": str(time.time())},
        )
    return keys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.publish_web", description=__doc__)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--api-base", default="/api")
    args = parser.parse_args(argv)
    outputs = stack_outputs(args.stack)
    keys = publish(outputs["WebBucketName"], args.api_base, outputs.get("WebDistributionId", ""))
    print(f"published {len(keys)} files to s3://{outputs['WebBucketName']}; pages at {outputs.get('WebUrl', '?')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
