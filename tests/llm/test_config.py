"""Where the LLM's configuration comes from (the editor's settings, then the environment),
what happens without one, and the key never shown."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from tests.llm.conftest import KEY
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.llm.config import OPENAI_URL, require_config, resolve_config
from tinyml_lsp.lsp.settings import parse_settings


def test_settings_come_first_then_the_environment():
    env = {"TINYML_LLM_BASE_URL": "http://env:8000/v1", "TINYML_LLM_MODEL": "env-model",
           "OPENAI_API_KEY": KEY, "TINYML_LLM_MAX_ROUNDS": "5", "TINYML_LLM_STREAM": "false"}
    config = resolve_config({"model": "settings-model", "temperature": 0.0}, env)
    assert config is not None
    assert (config.base_url, config.model, config.max_rounds) == ("http://env:8000/v1",
                                                                  "settings-model", 5)
    assert config.temperature == 0.0 and config.stream is False
    assert config.api_key is not None and config.api_key.reveal() == KEY
    # OpenAI's own variables alone point at OpenAI
    only_key = resolve_config(None, {"OPENAI_API_KEY": KEY, "TINYML_LLM_MODEL": "gpt-4o-mini"})
    assert only_key is not None and only_key.base_url == OPENAI_URL


def test_no_endpoint_is_no_configuration_and_a_clear_error():
    assert resolve_config(None, {}) is None
    with pytest.raises(TinymlError, match="no LLM endpoint configured") as caught:
        require_config(None, {})
    assert "TINYML_LLM_BASE_URL" in (caught.value.hint or "")
    with pytest.raises(TinymlError, match="no model"):
        resolve_config(None, {"TINYML_LLM_BASE_URL": "http://localhost:11434/v1"})
    with pytest.raises(TinymlError, match="max_tokens") as bad:
        resolve_config({"base_url": "http://x/v1", "model": "m", "max_tokens": "lots"}, {})
    assert "lots" not in str(bad.value)


def test_the_key_is_never_shown():
    config = resolve_config({"base_url": "http://x/v1", "model": "m", "api_key": KEY}, {})
    assert config is not None
    for text in (repr(config), str(config), str(config.to_json()), config.scrub(f"bad {KEY}")):
        assert KEY not in text
    settings, problems = parse_settings({"tinyml": {"llm": {
        "baseUrl": "http://x/v1", "apiKey": KEY, "maxRounds": f"many {KEY}"}}})
    assert problems and all(KEY not in p for p in problems)  # a wrong value, reported keyless
    settings, problems = parse_settings({"tinyml": {"llm": {"baseUrl": "http://x/v1",
                                                            "apiKey": KEY, "maxRounds": 4}}})
    assert problems == [] and settings.llm.max_rounds == 4 and settings.llm.api_key == KEY
    assert KEY not in repr(settings) and "base_url" in asdict(settings.llm)
    assert KEY not in str(parse_settings({"tinyml": {"llm": KEY}})[1])
