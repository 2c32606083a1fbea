// The server's settings (initializationOptions and didChangeConfiguration) from VS Code's
// `tinyml` configuration, with the API key from the secret storage added to `llm` — the only
// place the key travels. `redact` keeps it out of every line the client writes.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

// Client-only settings the server does not read (it ignores unknown keys, but a smaller
// message is easier to read in a trace).
const CLIENT_ONLY = ["server", "trace"];

export function serverSettings(
  configuration: { [key: string]: Json },
  apiKey: string | undefined,
): { tinyml: { [key: string]: Json } } {
  const tinyml = dropEmpty(JSON.parse(JSON.stringify(configuration))) as { [key: string]: Json };
  for (const key of CLIENT_ONLY) {
    delete tinyml[key];
  }
  // a key written into settings.json by hand is dropped: secrets live in the secret storage
  const llm = { ...((tinyml.llm as { [key: string]: Json }) ?? {}) };
  delete llm.apiKey;
  if (apiKey) {
    llm.apiKey = apiKey;
  }
  tinyml.llm = llm;
  return { tinyml };
}

// `text` with every secret replaced by ***: for the output channel and the trace.
export function redact(text: string, secrets: (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) {
      out = out.split(secret).join("***");
    }
  }
  return out;
}

// Empty strings and nulls are VS Code's "not set": left out, so the server applies its own
// default (an empty label column is no column).
function dropEmpty(value: Json): Json | undefined {
  if (value === null || value === "") {
    return undefined;
  }
  if (Array.isArray(value) || typeof value !== "object") {
    return value;
  }
  const out: { [key: string]: Json } = {};
  for (const [key, item] of Object.entries(value)) {
    const kept = dropEmpty(item);
    if (kept !== undefined) {
      out[key] = kept;
    }
  }
  return out;
}

// The server's environment: the editor's, with the state folder the settings name.
export function serverEnvironment(
  base: NodeJS.ProcessEnv,
  stateDir: string | undefined,
): NodeJS.ProcessEnv {
  const env = { ...base };
  if (stateDir?.trim()) {
    env.TINYML_STATE_DIR = stateDir.trim();
  }
  return env;
}
