"""`tinyml.analyze` from the editor: the layer table in the log, the figures in the result."""

from __future__ import annotations

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import MODELS


async def test_analyze_command(client: LanguageClient) -> None:
    model = MODELS / "person_detect.tflite"
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="tinyml.analyze", arguments=[{"model": str(model)}]))
    assert len(result["layers"]) == 31 and result["macs"] == 7_157_888
    assert any("DEPTHWISE_CONV_2D" in m.message and "live act." in m.message
               for m in client.log_messages)
    assert any("31 layers" in m.message for m in client.messages)
