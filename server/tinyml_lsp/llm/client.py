"""The LLM client: `openai`'s async client against any OpenAI-compatible endpoint.

One call is `complete(messages, ctx)`:
- answered from the on-disk cache when the same request was answered before;
- otherwise sent, streamed where the endpoint streams (progress shows the tokens received),
  under a hard timeout per call; cancelling the caller's task aborts the HTTP request;
- retried with exponential backoff on 429 (honouring `Retry-After`), 5xx and lost
  connections; other failures are TinymlErrors that say what to fix (401: the key, 404: the
  model or the URL), and never carry the key.
Every call is added to the task's `Usage`.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from dataclasses import asdict, dataclass
from typing import Any, cast

import openai

from tinyml_lsp.errors import TinymlError
from tinyml_lsp.llm.cache import AnswerCache
from tinyml_lsp.llm.config import NO_KEY, LlmConfig
from tinyml_lsp.llm.usage import Usage
from tinyml_lsp.runtime.context import JobContext

Messages = list[dict[str, str]]
BACKOFF = 1.0  # seconds before the first retry; doubled each time
MAX_BACKOFF = 30.0
MAX_RETRY_AFTER = 120.0  # a Retry-After longer than this is not waited for


@dataclass(frozen=True)
class Answer:
    text: str
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    cached: bool = False
    reported: bool = True  # the endpoint gave token counts

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class _Retry(Exception):
    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.wait = reason, wait


def retry_after(headers: Any) -> float | None:
    """Seconds the endpoint asks us to wait (`retry-after-ms`, `Retry-After` as seconds or an
    HTTP date), or None."""
    if headers is None:
        return None
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(float(ms) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        date = email.utils.parsedate_to_datetime(value) if value else None
        return max(date.timestamp() - time.time(), 0.0) if date else None


class LlmClient:
    def __init__(self, config: LlmConfig, *, cache: AnswerCache | None = None,
                 usage: Usage | None = None) -> None:
        self.config = config
        self.cache = cache
        self.usage = usage if usage is not None else Usage()
        key = config.api_key.reveal() if config.api_key else NO_KEY
        # our own retries (Retry-After, logging, counting); the call's own timeout is ours too
        self._client = openai.AsyncOpenAI(base_url=config.base_url, api_key=key,
                                          max_retries=0, timeout=config.timeout)

    async def close(self) -> None:
        await self._client.close()

    async def __aenter__(self) -> LlmClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def request(self, messages: Messages) -> dict[str, Any]:
        """What identifies a request (the cache key): no key, nothing secret."""
        c = self.config
        return {"base_url": c.base_url, "model": c.model, "temperature": c.temperature,
                "max_tokens": c.max_tokens, "messages": messages}

    async def complete(self, messages: Messages, ctx: JobContext) -> Answer:
        request = self.request(messages)
        if self.cache is not None and (hit := self.cache.get(request)) is not None:
            self.usage.cached += 1
            ctx.log("LLM: answered from the cache (--no-cache to ask again)")
            return Answer(hit["text"], hit.get("finish_reason"), 0, 0, 0.0, cached=True)
        answer = await self._with_retries(messages, ctx)
        if self.cache is not None and answer.finish_reason != "length":
            self.cache.put(request, {"text": answer.text, "finish_reason": answer.finish_reason,
                                     "prompt_tokens": answer.prompt_tokens,
                                     "completion_tokens": answer.completion_tokens})
        return answer

    async def _with_retries(self, messages: Messages, ctx: JobContext) -> Answer:
        c = self.config
        for attempt in range(c.retries + 1):
            started = time.monotonic()
            try:
                async with asyncio.timeout(c.timeout):
                    answer = await self._call(messages, ctx, started)
            except TimeoutError:
                self.usage.seconds = round(self.usage.seconds + time.monotonic() - started, 3)
                raise TinymlError(f"the LLM endpoint did not answer within {c.timeout:.0f} s",
                                  c.base_url, hint="raise tinyml.llm.timeout "
                                  "(TINYML_LLM_TIMEOUT), or use a faster model") from None
            except _Retry as retry:
                self.usage.seconds = round(self.usage.seconds + time.monotonic() - started, 3)
                if attempt == c.retries:
                    times = f"{attempt + 1} times" if attempt else "once"
                    raise TinymlError(f"the LLM endpoint failed {times}: {retry.reason}",
                                      c.base_url,
                                      hint="try again later, or check the endpoint") from None
                wait = retry.wait if retry.wait is not None else min(
                    BACKOFF * 2 ** attempt, MAX_BACKOFF)
                if wait > MAX_RETRY_AFTER:
                    raise TinymlError(f"the LLM endpoint asks to wait {wait:.0f} s "
                                      f"({retry.reason})", c.base_url) from None
                self.usage.retries += 1
                ctx.log(f"LLM: {retry.reason}; retrying in {wait:.1f} s")
                ctx.progress(None, f"LLM: {retry.reason}, retrying")
                await asyncio.sleep(wait)
                continue
            self.usage.calls += 1
            self.usage.unreported += not answer.reported
            self.usage.add(answer.prompt_tokens, answer.completion_tokens, answer.seconds,
                           c.cost(answer.prompt_tokens, answer.completion_tokens))
            return answer
        raise AssertionError("unreachable")

    async def _call(self, messages: Messages, ctx: JobContext, started: float) -> Answer:
        c = self.config
        try:
            if c.stream:
                return await self._streamed(messages, ctx, started)
            ctx.progress(None, f"waiting for {c.model}")
            response = await self._client.chat.completions.create(
                model=c.model, messages=cast(Any, messages),
                temperature=c.temperature, max_tokens=c.max_tokens)
        except openai.APIStatusError as exc:
            raise self._status_error(exc) from None
        except openai.APITimeoutError:
            raise TimeoutError from None
        except openai.APIConnectionError as exc:
            raise _Retry(f"cannot reach {c.base_url} ({self._cause(exc)})") from None
        except (openai.APIResponseValidationError, ValueError) as exc:
            raise self._malformed(exc) from None
        except openai.APIError as exc:  # e.g. an error event in the middle of a stream
            raise TinymlError(f"the LLM endpoint failed: {c.scrub(str(exc))[:300]}",
                              c.base_url) from None
        if not getattr(response, "choices", None):
            raise self._malformed(ValueError("no choices"))
        choice = response.choices[0]
        usage = response.usage
        return Answer(choice.message.content or "", choice.finish_reason,
                      usage.prompt_tokens if usage else 0,
                      usage.completion_tokens if usage else 0,
                      round(time.monotonic() - started, 3), reported=usage is not None)

    async def _streamed(self, messages: Messages, ctx: JobContext, started: float) -> Answer:
        c = self.config
        ctx.progress(None, f"waiting for {c.model}")
        stream = await self._client.chat.completions.create(
            model=c.model, messages=cast(Any, messages),
            temperature=c.temperature, max_tokens=c.max_tokens, stream=True,
            stream_options={"include_usage": True})
        parts: list[str] = []
        finish: str | None = None
        received = chunks = 0
        usage = None
        try:
            async for chunk in stream:
                chunks += 1
                if chunk.usage is not None:
                    usage = chunk.usage
                for choice in chunk.choices or []:
                    if choice.delta and choice.delta.content:
                        parts.append(choice.delta.content)
                        received += 1
                    finish = choice.finish_reason or finish
                if received and received % 20 == 0:
                    ctx.progress(None, f"LLM: {received} tokens received")
        finally:
            await stream.close()  # on cancel too: the connection is dropped, not drained
        if not chunks:
            raise self._malformed(ValueError("the stream held no chunk"))
        ctx.progress(None, f"LLM: {received} tokens received")
        return Answer("".join(parts), finish, usage.prompt_tokens if usage else 0,
                      usage.completion_tokens if usage else 0,
                      round(time.monotonic() - started, 3), reported=usage is not None)

    def _cause(self, exc: BaseException) -> str:
        cause = exc.__cause__ or exc.__context__
        return self.config.scrub(str(cause) if cause else type(exc).__name__)

    def _malformed(self, exc: BaseException) -> TinymlError:
        return TinymlError(f"the LLM endpoint's answer is not a chat completion "
                           f"({self.config.scrub(str(exc))[:200]})", self.config.base_url,
                           hint="is the base URL an OpenAI-compatible API (…/v1)?")

    def _status_error(self, exc: openai.APIStatusError) -> Exception:
        c = self.config
        status = exc.status_code
        detail = c.scrub(_error_message(exc))[:300]
        if status == 429:
            return _Retry(f"rate limited (429{': ' + detail if detail else ''})",
                          retry_after(exc.response.headers))
        if status >= 500:
            return _Retry(f"server error {status}{': ' + detail if detail else ''}",
                          retry_after(exc.response.headers))
        if status == 401:
            return TinymlError("the LLM endpoint refused the API key (401 Unauthorized)",
                               c.base_url, hint="check tinyml.llm.apiKey / TINYML_LLM_API_KEY "
                               "(or OPENAI_API_KEY)")
        if status == 403:
            return TinymlError(f"the API key may not use this model (403){': ' + detail}",
                               c.base_url)
        if status == 404:
            return TinymlError(f"the LLM endpoint knows no model {c.model!r} or no chat "
                               f"completions at this URL (404)", c.base_url,
                               hint="check tinyml.llm.model and the base URL (it usually ends "
                               "in /v1)")
        return TinymlError(f"the LLM endpoint rejected the request ({status}: {detail})",
                           c.base_url)


def _error_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return str(inner["message"])
        if isinstance(inner, str):
            return inner
    return ""
