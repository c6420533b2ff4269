"""Assertions on template.yaml itself: what operators rely on is declared, for every resource."""

from __future__ import annotations

import re
from typing import Any

import pytest

from devtools.harness.template import load

T = load()
R: dict[str, Any] = T["Resources"]


def of_type(kind: str) -> dict[str, Any]:
    return {k: v for k, v in R.items() if v["Type"] == kind}


def refs(value: Any) -> set[str]:
    """Every logical id a value refers to (Ref, GetAtt, ${X} in Sub)."""
    import re

    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref":
                found.add(str(inner))
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else str(inner).split(".")[0])
            elif key == "Fn::Sub":
                text = inner if isinstance(inner, str) else inner[0]
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text)}
            found |= refs(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= refs(inner)
    return found


FUNCTIONS = of_type("AWS::Serverless::Function")


def test_runtime_is_python313_everywhere():
    assert T["Globals"]["Function"]["Runtime"] == "python3.13"
    assert all("Runtime" not in f["Properties"] for f in FUNCTIONS.values())
    layer = R["CommonLayer"]
    assert layer["Metadata"]["BuildMethod"] == "python3.13"


def test_tables_holding_durable_data_have_pitr_deletion_protection_and_encryption():
    data = R["DataTable"]["Properties"]
    assert data["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert data["DeletionProtectionEnabled"] is True
    assert R["DataTable"]["DeletionPolicy"] == "Retain"
    for name, table in of_type("AWS::DynamoDB::Table").items():
        assert table["Properties"]["SSESpecification"]["SSEEnabled"] is True, name
    auth = R["AuthTable"]["Properties"]
    assert auth["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_function_has_a_log_group_with_retention_and_alarms(function):
    groups = [g for g in of_type("AWS::Logs::LogGroup").values() if function in refs(g["Properties"]["LogGroupName"])]
    assert len(groups) == 1, function
    assert groups[0]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    alarms = [a["Properties"] for a in of_type("AWS::CloudWatch::Alarm").values() if function in refs(a)]
    metrics = {a["MetricName"] for a in alarms}
    assert {"Errors", "Throttles"} <= metrics, function
    assert all(a["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms)


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_function_has_its_own_least_privilege_policy(function):
    policies = FUNCTIONS[function]["Properties"]["Policies"]
    assert len(policies) == 1 and isinstance(policies[0], dict), "one inline policy per function"
    for statement in policies[0]["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in a for a in actions), (function, actions)
        assert statement["Resource"] != "*", (function, statement)


def test_every_queue_has_a_dead_letter_queue_or_is_one():
    queues = of_type("AWS::SQS::Queue")
    dead_letter = set()
    for resource in R.values():
        props = resource.get("Properties", {})
        redrive = props.get("RedrivePolicy")
        if redrive:
            dead_letter |= refs(redrive)
        for event in props.get("Events", {}).values():
            dead_letter |= refs(event.get("Properties", {}).get("DeadLetterConfig", {}))
        dead_letter |= refs(props.get("EventInvokeConfig", {}).get("DestinationConfig", {}))
    for name, queue in queues.items():
        props = queue["Properties"]
        assert "RedrivePolicy" in props or name in dead_letter, name
        assert props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props, name
        assert props.get("MessageRetentionPeriod", 0) >= 4 * 24 * 3600 or "RedrivePolicy" in props, name


def test_dead_letter_queues_raise_alarms():
    alarmed = set().union(*(refs(a["Properties"]) for a in of_type("AWS::CloudWatch::Alarm").values()))
    for name in ("NotifyDeadLetterQueue", "ReleaseScheduleDLQ", "MailRequestsDeadLetterQueue"):
        assert name in alarmed, name


def test_buckets_are_encrypted_and_private():
    for name, bucket in of_type("AWS::S3::Bucket").items():
        props = bucket["Properties"]
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"], name
        block = props["PublicAccessBlockConfiguration"]
        assert all(
            block[k] is True
            for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
        ), name


def test_schedule_releases_every_five_minutes_with_retries_and_a_dlq():
    events = R["ReleaseFunction"]["Properties"]["Events"]
    (schedule,) = [e for e in events.values() if e["Type"] == "ScheduleV2"]
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == "rate(5 minutes)"
    assert props["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert "DeadLetterConfig" in props


def test_outputs_name_every_endpoint_table_bucket_and_queue():
    outputs = refs(T["Outputs"])
    wanted = set(of_type("AWS::DynamoDB::Table")) | set(of_type("AWS::S3::Bucket")) | set(of_type("AWS::SQS::Queue"))
    assert wanted <= outputs, wanted - outputs
    assert "Api" in outputs


def test_waf_answers_429_and_403_in_the_api_error_shape():
    import json

    acl = R["ApiWebAcl"]["Properties"]
    for key, code in (("TooManyRequests", "too_many_requests"), ("NotThroughCloudFront", "forbidden")):
        body = json.loads(acl["CustomResponseBodies"][key]["Content"])
        assert set(body) == {"code", "message"} and body["code"] == code
    (rule,) = [r for r in acl["Rules"] if "RateBasedStatement" in r["Statement"]]
    response = rule["Action"]["Block"]["CustomResponse"]
    assert response["ResponseCode"] == 429 and response["CustomResponseBodyKey"] == "TooManyRequests"
    assert {"Name": "Retry-After", "Value": "300"} in response["ResponseHeaders"]
    (origin,) = [r for r in acl["Rules"] if r["Name"] == "OnlyThroughCloudFront"]
    assert origin["Action"]["Block"]["CustomResponse"]["CustomResponseBodyKey"] == "NotThroughCloudFront"


def test_every_checkov_skip_names_a_check_and_gives_its_reason():
    skips = [
        (logical_id, skip)
        for logical_id, resource in R.items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips, "make validate runs checkov; its skips live in the resources' Metadata"
    for logical_id, skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), (logical_id, skip)
        assert len(skip.get("comment", "").split()) >= 8, f"{logical_id} {skip['id']}: say why"
    assert len({(i, s["id"]) for i, s in skips}) == len(skips), "one skip per check and resource"


def test_retention_of_reports_and_documents_is_configurable():
    rules = {r["Id"]: r for r in R["UploadsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpireReports"]["ExpirationInDays"] == {"Ref": "ReportRetentionDays"}
    assert rules["ExpireConfirmations"]["ExpirationInDays"] == {"Ref": "ConfirmationRetentionDays"}
    assert rules["ExpireReports"]["Prefix"] == "reports/"


def test_samconfig_deploys_both_stages_with_every_operator_parameter():
    import tomllib

    from devtools.harness.template import ROOT

    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    for stage in ("dev", "prod"):
        overrides = config[stage]["deploy"]["parameters"]["parameter_overrides"]
        for name in (
            "Stage",
            "SenderEmail",
            "WebBaseUrl",
            "AlarmEmail",
            "LogRetentionDays",
            "ReportRetentionDays",
            "SnapStart",
        ):
            assert f"{name}=" in overrides, (stage, name)
        assert f"Stage={stage}" in overrides


def test_each_exam_board_file_has_its_own_function_prefix_and_read_grant():
    """entries/, results/ and releases/ (faster results) each trigger one function, which may
    read only its own prefix of the uploads bucket."""
    wanted = {
        "ImportEntriesFunction": "entries/",
        "PublishResultsFunction": "results/",
        "ReleaseSessionsFunction": "releases/",
    }
    for function, prefix in wanted.items():
        props = R[function]["Properties"]
        (event,) = [e for e in props["Events"].values() if e["Type"] == "S3"]
        rules = {r["Name"]: r["Value"] for r in event["Properties"]["Filter"]["S3Key"]["Rules"]}
        assert rules == {"prefix": prefix, "suffix": ".csv"}, function
        reads = [
            s["Resource"]["Fn::Sub"]
            for s in props["Policies"][0]["Statement"]
            if "s3:GetObjectVersion" in s["Action"] or "s3:GetObject" in s["Action"]
        ]
        assert reads and all(r.endswith(f"/{prefix}*") for r in reads), (function, reads)


def test_api_functions_are_invoked_through_an_alias_and_take_snapstart_from_the_parameter():
    """SnapStart snapshots published versions only: each API function publishes one at every
    change (code, layer or environment) behind the alias `live`, which API Gateway invokes (SAM
    points the Api events at the alias); SnapStart itself is off unless the parameter says so."""
    from devtools.harness.template import Resolver

    assert T["Parameters"]["SnapStart"]["Default"] == "false"
    api = {k for k, v in of_type("AWS::Serverless::Function").items() if "Api" in events_of(v)}
    assert api == {"RegisterFunction", "LoginFunction", "AccountFunction", "ResultsFunction"}
    for name, function in of_type("AWS::Serverless::Function").items():
        props = function["Properties"]
        if name not in api:
            assert "SnapStart" not in props and "AutoPublishAlias" not in props, name
            continue
        assert props["AutoPublishAlias"] == "live", name
        assert props["AutoPublishAliasAllProperties"] is True, name
        for value, applied in (("true", "PublishedVersions"), ("false", "None")):
            resolver = Resolver(T, {"SnapStart": value}, {}, {}, {})
            assert resolver.resolve(props["SnapStart"]) == {"ApplyOn": applied}, (name, value)


def events_of(function: dict[str, Any]) -> set[str]:
    return {e["Type"] for e in function["Properties"].get("Events", {}).values()}
