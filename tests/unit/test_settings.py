"""The server's settings: typed, camelCase as editors send them, defaults when wrong."""

from __future__ import annotations

from tinyml_lsp.lsp.settings import QuantizeSettings, Settings, parse_settings


def test_settings_from_an_editor():
    settings, problems = parse_settings(
        {"tinyml": {"quantize": {"data": "train.csv", "labelColumn": "fruit"}},
         "python": {"whatever": 1}})
    assert settings.quantize == QuantizeSettings(data="train.csv", label_column="fruit")
    assert problems == []


def test_wrong_settings_fall_back_to_defaults_and_say_why():
    settings, problems = parse_settings({"quantize": 5})
    assert settings == Settings() and "tinyml.quantize" in problems[0]
    assert parse_settings(None) == (Settings(), [])
    assert parse_settings("x")[1]
