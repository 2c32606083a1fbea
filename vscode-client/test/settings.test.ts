import * as assert from "node:assert/strict";
import { test } from "node:test";
import { redact, serverEnvironment, serverSettings } from "../src/logic/settings";

const configuration = {
  server: { python: "/p/bin/python", maxRestarts: 3 },
  trace: { server: "verbose" },
  board: "tinyml-qemu-m4",
  quantize: { data: "data/fruit.csv", labelColumn: "fruit" },
  platformio: { path: "" },
  llm: { baseUrl: "http://127.0.0.1:9/v1", model: "m", maxRounds: 2, apiKey: "typed-into-settings" },
};

test("settings become the server's initializationOptions, client-only ones left out", () => {
  const { tinyml } = serverSettings(configuration, undefined);
  assert.deepEqual(tinyml.quantize, { data: "data/fruit.csv", labelColumn: "fruit" });
  assert.equal(tinyml.board, "tinyml-qemu-m4");
  assert.equal(tinyml.server, undefined);
  assert.equal(tinyml.trace, undefined);
  // a key written into settings.json is not passed on: secrets come from the secret storage
  assert.deepEqual(tinyml.llm, { baseUrl: "http://127.0.0.1:9/v1", model: "m", maxRounds: 2 });
});

test("the key from the secret storage goes under llm.apiKey, and nowhere else", () => {
  const options = serverSettings(configuration, "sk-secret-123456");
  assert.equal((options.tinyml.llm as Record<string, unknown>).apiKey, "sk-secret-123456");
  const text = JSON.stringify(options);
  assert.equal(text.split("sk-secret-123456").length, 2);
  assert.equal(configuration.llm.apiKey, "typed-into-settings"); // the input is not changed
});

test("redact masks every occurrence of every secret", () => {
  const line = '[Trace] initialize {"apiKey":"sk-secret-123456"} sk-secret-123456';
  assert.equal(redact(line, ["sk-secret-123456", undefined]), '[Trace] initialize {"apiKey":"***"} ***');
  assert.equal(redact("nothing here", []), "nothing here");
  assert.equal(redact("a b", ["a"]), "a b"); // too short to be a key: not a blanket replace
});

test("empty settings are not sent: the server's defaults apply", () => {
  const { tinyml } = serverSettings({ quantize: { data: "", labelColumn: "" }, llm: { model: null, cache: true } }, undefined);
  assert.deepEqual(tinyml.quantize, {});
  assert.deepEqual(tinyml.llm, { cache: true });
  assert.deepEqual(serverSettings(configuration, undefined).tinyml.platformio, {});
});

test("the state folder setting becomes the server's TINYML_STATE_DIR", () => {
  const base = { PATH: "/usr/bin", TINYML_STATE_DIR: "/old" };
  assert.deepEqual(serverEnvironment(base, " /srv/tinyml "), { PATH: "/usr/bin", TINYML_STATE_DIR: "/srv/tinyml" });
  assert.deepEqual(serverEnvironment(base, ""), base);
  assert.equal(base.TINYML_STATE_DIR, "/old"); // the editor's environment is not changed
});
