"""The pinned TFLite Micro library: where it is found, and the op table read off its header."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tinyml_lsp.deploy import tflm_ops, third_party
from tinyml_lsp.errors import TinymlError

RESOLVER_H = "src/tensorflow/lite/micro/micro_mutable_op_resolver.h"


def _header_methods(library: Path) -> tuple[dict[str, str], set[str]]:
    """Each builtin op's Add method in the header, and the ops registered via ops::micro."""
    text = (library / RESOLVER_H).read_text()
    parts = re.split(r"\n  TfLiteStatus (Add\w+)\(", text)
    methods, old_style = {}, set()
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        body = body.split("\n  TfLiteStatus ")[0]
        if (m := re.search(r"BuiltinOperator_(\w+)", body)) and m.group(1) != "CUSTOM":
            methods[m.group(1)] = name
            if "ops::micro::Register_" in body:
                old_style.add(m.group(1))
    return methods, old_style


def test_op_table_matches_the_pinned_header():
    library = third_party.local(third_party.TFLITE_MICRO)
    if library is None:
        pytest.skip("the pinned TFLite Micro sources are not on this machine")
    methods, old_style = _header_methods(library)
    assert methods == tflm_ops.RESOLVER_METHODS
    assert old_style == tflm_ops.OPS_MICRO_REGISTRATIONS


def test_missing_ops_in_model_order_once():
    assert tflm_ops.missing_ops(["CONV_2D", "FOO", "ADD", "BAR", "FOO"]) == ["FOO", "BAR"]
    assert tflm_ops.resolver_method("DEPTHWISE_CONV_2D") == "AddDepthwiseConv2D"


def test_setting_points_at_the_libraries(tmp_path, monkeypatch):
    (tmp_path / "Arduino_TensorFlowLite").mkdir()
    monkeypatch.setenv(third_party.SETTING, str(tmp_path))
    assert third_party.require(third_party.TFLITE_MICRO) == tmp_path / "Arduino_TensorFlowLite"
    with pytest.raises(TinymlError) as error:
        third_party.require(third_party.APDS9960)
    assert third_party.SETTING in error.value.hint and "Arduino_APDS9960" in error.value.message
    assert third_party.TFLITE_MICRO.lib_dep.endswith("#" + third_party.TFLITE_MICRO.commit)
