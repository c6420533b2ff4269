"""A tiny template with one of each event source, and the code of its two functions."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

HANDLER = """
import json
import os

import boto3


def handler(event, context):
    records = event.get("Records") or [] if isinstance(event, dict) else []
    with open(os.environ["OUT"], "a", encoding="utf-8") as fh:
        fh.write(json.dumps({
            "fn": os.environ["FN"],
            "only_recorder": os.environ.get("ONLY_RECORDER"),
            "service": os.environ.get("POWERTOOLS_SERVICE_NAME"),
            "function_name": context.function_name,
            "event": event,
        }) + "\\n")
    source = records[0].get("eventSource") if records else None
    if source == "aws:s3" and os.environ.get("QUEUE_URL"):
        boto3.client("sqs").send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody="from-s3")
    if source == "aws:sqs":
        bodies = [r["body"] for r in records]
        if "boom" in bodies:
            raise RuntimeError("boom")
        if "invalid" in bodies:
            return {"batchItemFailures": [{"itemIdentifier": "not-a-message-of-this-batch"}]}
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records if r["body"] == "fail"]}
    return {"ok": True}
"""

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  SenderEmail: {{Type: String, Default: sender@example.com}}
  WebBaseUrl: {{Type: String, Default: https://x.test}}
Globals:
  Function:
    Runtime: python3.13
    Timeout: 10
    Environment:
      Variables:
        OUT: {out}
        WEB_BASE_URL: !Ref WebBaseUrl
Resources:
  Uploads:
    Type: AWS::S3::Bucket
    Properties:
      VersioningConfiguration: {{Status: Enabled}}
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 1
      RedrivePolicy: {{deadLetterTargetArn: !GetAtt JobsDlq.Arn, maxReceiveCount: 2}}
  JobsDlq:
    Type: AWS::SQS::Queue
  Plain:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 1
  Sender:
    Type: AWS::SES::EmailIdentity
    Properties: {{EmailIdentity: !Ref SenderEmail}}
  ResultsTemplate:
    Type: AWS::SES::Template
    Properties:
      Template:
        TemplateName: local-results
        SubjectPart: "Results for {{{{name}}}}"
        TextPart: "Dear {{{{name}}}}, see {{{{link}}}}"
        HtmlPart: "<p>Dear {{{{name}}}}, <a href=\\"{{{{link}}}}\\">results</a></p>"
  Recorder:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: {code}
      Handler: app.handler
      Environment:
        Variables:
          FN: recorder
          ONLY_RECORDER: "yes"
          POWERTOOLS_SERVICE_NAME: recorder
          QUEUE_URL: !Ref Jobs
      Events:
        Entries:
          Type: S3
          Properties:
            Bucket: !Ref Uploads
            Events: s3:ObjectCreated:*
            Filter: {{S3Key: {{Rules: [{{Name: prefix, Value: entries/}}, {{Name: suffix, Value: .csv}}]}}}}
        Work:
          Type: SQS
          Properties:
            Queue: !GetAtt Jobs.Arn
            BatchSize: 5
            FunctionResponseTypes: [ReportBatchItemFailures]
        Tick:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: rate(5 minutes)
  Other:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: {code}
      Handler: app.handler
      Environment:
        Variables:
          FN: other
      Events:
        Results:
          Type: S3
          Properties:
            Bucket: !Ref Uploads
            Events: [s3:ObjectCreated:*]
            Filter: {{S3Key: {{Rules: [{{Name: prefix, Value: results/}}]}}}}
        Plain:
          Type: SQS
          Properties: {{Queue: !GetAtt Plain.Arn, BatchSize: 10}}
        Rule:
          Type: Schedule
          Properties:
            Schedule: rate(1 day)
            Input: '{{"job": "daily"}}'
        Off:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: rate(1 day)
            State: DISABLED
"""


def write_fake_template(directory: Path) -> Path:
    code = directory / "fn"
    code.mkdir(parents=True, exist_ok=True)
    (code / "app.py").write_text(HANDLER, encoding="utf-8")
    path = directory / "template.yaml"
    out = directory / "calls.jsonl"
    path.write_text(textwrap.dedent(TEMPLATE.format(out=out, code=code)), encoding="utf-8")
    return path


@pytest.fixture
def fake_template(tmp_path: Path) -> Path:
    return write_fake_template(tmp_path)
