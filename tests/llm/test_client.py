"""The LLM client against a real HTTP server on loopback whose answers the tests script:
streaming and not, retries (429 with Retry-After, 5xx), timeouts, malformed answers, errors a
user can fix (401, 404, endpoint down), cancellation, token and cost accounting, the cache."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from tests.llm.conftest import KEY, config_for
from tests.llm_server import Reply, ScriptedLlm
from tests.support import SilentContext
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.llm.cache import AnswerCache
from tinyml_lsp.llm.client import LlmClient

ASK = [{"role": "user", "content": "say hello"}]


async def ask(config, cache=None, ctx=None):
    async with LlmClient(config, cache=cache) as client:
        answer = await client.complete(ASK, ctx or SilentContext())
        return answer, client.usage


@pytest.mark.parametrize("stream", [True, False])
async def test_an_answer_and_its_tokens(llm: ScriptedLlm, stream: bool):
    llm.script(Reply("hello there, " * 30, prompt_tokens=321, completion_tokens=45))
    ctx = SilentContext()
    answer, usage = await ask(config_for(llm, stream=stream, price_input=2.5,
                                         price_output=10.0), ctx=ctx)
    assert answer.text == "hello there, " * 30 and answer.finish_reason == "stop"
    assert (usage.calls, usage.prompt_tokens, usage.completion_tokens) == (1, 321, 45)
    assert usage.cost == pytest.approx((321 * 2.5 + 45 * 10.0) / 1e6)
    request = llm.requests[0]
    assert request.body["model"] == "scripted-model" and request.body["messages"] == ASK
    assert request.body.get("stream", False) is stream
    assert request.headers["authorization"] == f"Bearer {KEY}"  # the key is used, not shown
    if stream:  # progress counts the tokens as they arrive
        assert any("tokens received" in m for kind, (_, m) in
                   [(k, v) for k, v in ctx.events if k == "progress"])


async def test_rate_limited_then_answered_honours_retry_after(llm: ScriptedLlm):
    llm.script(Reply(status=429, headers={"Retry-After": "1"}), Reply("ok"))
    started = time.monotonic()
    ctx = SilentContext()
    answer, usage = await ask(config_for(llm), ctx=ctx)
    assert answer.text == "ok" and usage.retries == 1 and usage.calls == 1
    assert time.monotonic() - started >= 1.0  # waited as asked
    assert any(k == "log" and "rate limited (429" in v for k, v in ctx.events)


async def test_server_errors_until_giving_up(llm: ScriptedLlm, monkeypatch):
    monkeypatch.setattr("tinyml_lsp.llm.client.BACKOFF", 0.05)
    llm.script(*[Reply(status=500, error="overloaded")] * 3)
    with pytest.raises(TinymlError, match=r"failed 3 times: server error 500: overloaded"):
        await ask(config_for(llm, retries=2))
    assert len(llm.requests) == 3


async def test_a_call_that_takes_too_long_is_stopped(llm: ScriptedLlm):
    llm.script(Reply("late", delay=3.0))
    started = time.monotonic()
    with pytest.raises(TinymlError, match="did not answer within 1 s"):
        await ask(config_for(llm, timeout=1.0, stream=False))
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize(("stream", "body", "kind"), [
    (False, b'{"choices": [ this is not json', "application/json"),
    (True, b'{"choices": [ this is not json', "application/json"),
    (True, b'data: {"choices": [ broken\n\n', "text/event-stream")])
async def test_malformed_answers_are_reported(llm: ScriptedLlm, stream: bool, body: bytes,
                                              kind: str):
    llm.script(Reply(body=body, content_type=kind))
    with pytest.raises(TinymlError, match="not a chat completion"):
        await ask(config_for(llm, stream=stream))


@pytest.mark.parametrize(("status", "message"), [
    (401, "refused the API key"), (404, "knows no model 'scripted-model'")])
async def test_errors_the_user_can_fix(llm: ScriptedLlm, status: int, message: str):
    llm.script(Reply(status=status, error=f"bad: {KEY}"))  # an endpoint that echoes the key
    with pytest.raises(TinymlError, match=message) as caught:
        await ask(config_for(llm))
    assert KEY not in str(caught.value) and KEY not in (caught.value.hint or "")
    assert len(llm.requests) == 1  # not retried


async def test_endpoint_down(monkeypatch):
    monkeypatch.setattr("tinyml_lsp.llm.client.BACKOFF", 0.05)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    from tinyml_lsp.llm.config import LlmConfig

    config = LlmConfig(base_url=f"http://127.0.0.1:{port}/v1", model="m", retries=1)
    with pytest.raises(TinymlError, match=f"cannot reach http://127.0.0.1:{port}/v1"):
        await ask(config)


@pytest.mark.parametrize("stream", [True, False])
async def test_cancelling_aborts_the_http_request(llm: ScriptedLlm, stream: bool):
    llm.script(Reply(hang=True))
    task = asyncio.create_task(ask(config_for(llm, stream=stream, timeout=30.0)))
    while not llm.requests:
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # the server sees the connection closed: the request was aborted, not left running
    assert await asyncio.to_thread(llm.disconnected.wait, 5.0)


async def test_identical_requests_come_from_the_cache(llm: ScriptedLlm, tmp_path):
    llm.script(Reply("cached answer", prompt_tokens=10, completion_tokens=5))
    cache = AnswerCache(tmp_path / "cache")
    first, _ = await ask(config_for(llm), cache=cache)
    second, usage = await ask(config_for(llm), cache=cache)
    assert second.text == first.text and second.cached
    assert (usage.calls, usage.cached, usage.total_tokens) == (0, 1, 0)
    assert len(llm.requests) == 1
    # another model is another request; and the key is nowhere in the cache
    llm.script(Reply("other"))
    other, _ = await ask(config_for(llm, model="another"), cache=cache)
    assert other.text == "other" and not other.cached
    assert all(KEY not in p.read_text() for p in (tmp_path / "cache").iterdir())
