"""The candidate pages are published to the template's web bucket with the right types."""

from __future__ import annotations

from scripts.publish_web import publish


def test_publish_uploads_every_page_with_its_type(stack):
    s3 = stack.client("s3")
    bucket = stack.physical("WebBucket")
    keys = publish(bucket, api_base="/api", s3=s3)
    assert {"index.html", "register.html", "results.html", "verify.html", "app.js", "style.css", "config.js"} <= set(
        keys
    )
    page = s3.get_object(Bucket=bucket, Key="register.html")
    assert page["ContentType"] == "text/html; charset=utf-8" and page["CacheControl"] == "no-cache"
    assert s3.get_object(Bucket=bucket, Key="app.js")["ContentType"].startswith("text/javascript")
    config = s3.get_object(Bucket=bucket, Key="config.js")["Body"].read().decode()
    assert config == 'window.APP_CONFIG = {"apiBase": "/api"};\n'
