"""What clients and sessions share to be cheap (vpce_audit.collect.botocore_reuse) changes
nothing they send: every request below goes through botocore's whole stack, signing included,
and is caught just before it would leave (``before-send``), so no test reaches a network."""

from __future__ import annotations

from typing import Any

import boto3
import botocore.handlers
import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.credentials import Credentials
from botocore.handlers import BUILTIN_HANDLERS

from vpce_audit.collect import botocore_reuse
from vpce_audit.collect.runner import ClientFactory

EMPTY_EC2_ANSWER = (
    b'<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
    b"<requestId>1</requestId><vpcSet/></DescribeVpcsResponse>"
)


class _Caught:
    """Answers every request with an empty DescribeVpcs result and keeps what was sent."""

    def __init__(self) -> None:
        self.requests: list[Any] = []

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        self.requests.append(request)
        return AWSResponse(request.url, 200, {}, _Raw(EMPTY_EC2_ANSWER))


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def _member_factory(base: ClientFactory, access_key: str) -> ClientFactory:
    session = botocore_reuse.fresh_session()
    base.share_models(session)
    session._credentials = Credentials(access_key, "secret", "token")
    return base.with_session(session)


def _plain_factory(access_key: str) -> ClientFactory:
    session = botocore.session.Session()
    session._credentials = Credentials(access_key, "secret", "token")
    return ClientFactory(boto3.session.Session(botocore_session=session))


def _describe_vpcs(factory: ClientFactory) -> Any:
    client = factory.client("ec2", "eu-west-1")
    caught = _Caught()
    client.meta.events.register("before-send", caught)
    client.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": ["vpc-1"]}], MaxResults=5)
    (request,) = caught.requests
    return request


def test_member_clients_share_one_model_and_one_set_of_methods(aws_credentials: None) -> None:
    base = ClientFactory(boto3.session.Session(region_name="eu-west-1"))
    first = _member_factory(base, "AKIDFIRST").client("ec2", "eu-west-1")
    second = _member_factory(base, "AKIDSECOND").client("ec2", "eu-west-1")
    assert first.meta.service_model is second.meta.service_model
    assert type(first).describe_vpcs is type(second).describe_vpcs
    # Each client still has a class of its own, which botocore's handlers may change.
    assert type(first) is not type(second)
    assert type(first).__dict__ is not type(second).__dict__


def test_each_member_signs_with_its_own_credentials(aws_credentials: None) -> None:
    base = ClientFactory(boto3.session.Session(region_name="eu-west-1"))
    first = _describe_vpcs(_member_factory(base, "AKIDFIRST"))
    second = _describe_vpcs(_member_factory(base, "AKIDSECOND"))
    assert "Credential=AKIDFIRST/" in first.headers["Authorization"].decode()
    assert "Credential=AKIDSECOND/" in second.headers["Authorization"].decode()


def test_a_shared_client_sends_what_a_plain_botocore_client_sends(aws_credentials: None) -> None:
    base = ClientFactory(boto3.session.Session(region_name="eu-west-1"))
    shared = _describe_vpcs(_member_factory(base, "AKIDSAME"))
    plain = _describe_vpcs(_plain_factory("AKIDSAME"))
    assert (shared.method, shared.url, shared.body) == (plain.method, plain.url, plain.body)
    varying = {"X-Amz-Date", "Authorization", "amz-sdk-invocation-id"}
    assert {k: v for k, v in shared.headers.items() if k not in varying} == {
        k: v for k, v in plain.headers.items() if k not in varying
    }


@pytest.mark.parametrize("spec", BUILTIN_HANDLERS, ids=lambda spec: spec[0])
def test_a_fresh_session_has_botocores_builtin_handlers(spec: tuple[Any, ...]) -> None:
    event = spec[0].replace("*", "ec2")
    handlers = botocore_reuse.fresh_session().get_component("event_emitter")._emitter._handlers
    expected = botocore.session.Session().get_component("event_emitter")._emitter._handlers
    assert list(handlers.prefix_search(event)) == list(expected.prefix_search(event))


def test_a_model_from_another_loader_is_not_served_from_the_shared_one(
    aws_credentials: None,
) -> None:
    one = ClientFactory(boto3.session.Session(region_name="eu-west-1")).client("sts", "us-east-1")
    other = ClientFactory(boto3.session.Session(region_name="eu-west-1")).client("sts", "us-east-1")
    # Separate sessions load separate JSON models: nothing is shared between them, and only
    # the latest is kept.
    assert one.meta.service_model is not other.meta.service_model
    assert type(one).get_caller_identity is not type(other).get_caller_identity
    assert botocore_reuse._MODELS["sts"] is other.meta.service_model


def test_a_handler_botocore_gains_later_reaches_new_sessions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """moto adds its stubber to botocore's builtin handlers when it is imported: a session made
    after that must have it, even if the template was made before."""
    botocore_reuse.fresh_session()  # the template, from the list as it is now

    def added(**_: Any) -> None:
        return None

    monkeypatch.setattr(
        botocore.handlers,
        "BUILTIN_HANDLERS",
        [*botocore.handlers.BUILTIN_HANDLERS, ("before-send", added)],
    )
    handlers = botocore_reuse.fresh_session().get_component("event_emitter")._emitter._handlers
    assert added in list(handlers.prefix_search("before-send.ec2.DescribeVpcs"))
