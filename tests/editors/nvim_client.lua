-- Drives tinyml-lsp from a real Neovim (0.7, headless) as a user would, for tests/editors.
--
-- The test sets, in the environment: TINYML_PYTHON (the interpreter with tinyml_lsp),
-- TINYML_SCRIPT (a training script to open), TINYML_SCENARIO (quit | cancel | sketch |
-- lifecycle),
-- TINYML_GO (a file the test creates when it wants the next step: it has seen the worker),
-- TINYML_DEFECT (lifecycle: a sketch with a defect to open, diagnose and fix),
-- TINYML_OUT (where this writes what it saw, as JSON). Neovim quits at the end.

local env = vim.env
local seen = { progress = {}, messages = {}, questions = {} }

local function save()
  local file = io.open(env.TINYML_OUT, "w")
  file:write(vim.fn.json_encode(seen))
  file:close()
end

local function fail(why)
  seen.failure = why
  save()
  vim.cmd("qa!")
end

local function wait(ms, what, condition)
  if not vim.wait(ms, condition, 20) then fail("timed out waiting for " .. what) end
end

-- "lifecycle": the user's config lets the server send its sketch as a WorkspaceEdit (it declares
-- document changes and change annotations, which Neovim 0.7 does not by default) and applies it with Neovim's own
-- apply_workspace_edit, after making the folders Neovim 0.7 does not make for CreateFile, then
-- saves what it changed (docs/editors.md shows the same handler)
local capabilities = vim.lsp.protocol.make_client_capabilities()
local function apply_edit(_, params, ctx)
  local c = vim.lsp.get_client_by_id(ctx.client_id)
  seen.edits = (seen.edits or 0) + 1
  for _, change in ipairs(params.edit.documentChanges or {}) do
    if change.kind == "create" then
      vim.fn.mkdir(vim.fn.fnamemodify(vim.uri_to_fname(change.uri), ":h"), "p")
    end
  end
  local ok, err = pcall(vim.lsp.util.apply_workspace_edit, params.edit, c.offset_encoding)
  if ok then  -- write the buffers the edit changed (0.7 leaves new files' text unsaved)
    for _, change in ipairs(params.edit.documentChanges or {}) do
      if change.textDocument then
        local bufnr = vim.uri_to_bufnr(change.textDocument.uri)
        -- text ending in a newline leaves an empty last line, and :write adds one more
        local last = vim.api.nvim_buf_get_lines(bufnr, -2, -1, false)[1]
        if last == "" and vim.api.nvim_buf_line_count(bufnr) > 1 then
          vim.api.nvim_buf_set_lines(bufnr, -2, -1, false, {})
        end
        ok, err = pcall(vim.api.nvim_buf_call, bufnr, function() vim.cmd("write") end)
        if not ok then break end
      end
    end
  end
  return { applied = ok, failureReason = ok and nil or tostring(err) }
end
local extra_handlers = {}
if env.TINYML_SCENARIO == "lifecycle" then
  capabilities.workspace.workspaceEdit.documentChanges = true
  capabilities.workspace.workspaceEdit.changeAnnotationSupport = { groupsOnLabel = false }
  extra_handlers["workspace/applyEdit"] = apply_edit
end

local client_id = vim.lsp.start_client({
  cmd = { env.TINYML_PYTHON, "-m", "tinyml_lsp" },
  root_dir = vim.fn.fnamemodify(env.TINYML_SCRIPT, ":h"),
  capabilities = capabilities,
  handlers = vim.tbl_extend("force", extra_handlers, {
    ["$/progress"] = function(_, result)
      table.insert(seen.progress, { kind = result.value.kind, message = result.value.message })
    end,
    ["window/showMessage"] = function(_, result)
      table.insert(seen.messages, result.message)
    end,
    -- the user picks "Write files" in the prompt Neovim shows (inputlist, which a headless
    -- Neovim cannot show)
    ["window/showMessageRequest"] = function(_, result)
      table.insert(seen.questions, result.message)
      for _, action in ipairs(result.actions) do
        if action.title == "Write files" then return action end
      end
      return vim.NIL
    end,
  }),
})
vim.cmd("edit " .. env.TINYML_SCRIPT)
vim.lsp.buf_attach_client(0, client_id)
local client = vim.lsp.get_client_by_id(client_id)
wait(30000, "initialize", function() return client.initialized end)

local function save_line()
  for i, line in ipairs(vim.api.nvim_buf_get_lines(0, 0, -1, false)) do
    if line:find("model.save(", 1, true) then return i - 1 end
  end
  fail("no model.save( line")
end

local function action(title)
  local line = save_line()
  local position = { line = line, character = 0 }
  local replies = vim.lsp.buf_request_sync(0, "textDocument/codeAction", {
    textDocument = { uri = vim.uri_from_bufnr(0) },
    range = { start = position, ["end"] = position },
    context = { diagnostics = {} },
  }, 10000)
  for _, reply in pairs(replies or {}) do
    for _, found in ipairs(reply.result or {}) do
      if found.title == title then return found end
    end
  end
  fail("no code action " .. title)
end

local function began()
  for _, p in ipairs(seen.progress) do if p.kind == "begin" then return true end end
  return false
end

local function ended()
  for _, p in ipairs(seen.progress) do if p.kind == "end" then return true end end
  return false
end

local scenario = env.TINYML_SCENARIO
if scenario == "quit" or scenario == "cancel" then
  local quantize = action("Quantize this model (int8)")
  local _, request = client.request("workspace/executeCommand", quantize.command,
    function(err, result)
      seen.answered = true
      seen.error = err
      seen.result = result
    end, 0)
  wait(30000, "the job to begin", began)
  wait(60000, "the test to see the worker", function() return vim.loop.fs_stat(env.TINYML_GO) end)
  if scenario == "quit" then
    save()
    vim.cmd("qa!")  -- with the job running: Neovim stops the server (shutdown, or SIGTERM)
  end
  client.cancel_request(request)  -- Neovim's only way to cancel an executeCommand
  -- (Neovim mutes the RequestCancelled answer: the progress's end is what it sees)
  wait(30000, "the progress to end", ended)
elseif scenario == "sketch" then
  local sketch = action("Generate inference sketch (emulated board)")
  local replies = vim.lsp.buf_request_sync(0, "workspace/executeCommand", sketch.command, 120000)
  for _, reply in pairs(replies or {}) do
    seen.error = reply.err
    seen.result = reply.result
  end
elseif scenario == "lifecycle" then
  local titles = {}
  local line = save_line()
  local position = { line = line, character = 0 }
  local function titles_now()
    local found = {}
    local replies = vim.lsp.buf_request_sync(0, "textDocument/codeAction", {
      textDocument = { uri = vim.uri_from_bufnr(0) },
      range = { start = position, ["end"] = position },
      context = { diagnostics = {} },
    }, 10000)
    for _, reply in pairs(replies or {}) do
      for _, a in ipairs(reply.result or {}) do table.insert(found, a.title) end
    end
    return found
  end
  titles.before = titles_now()
  local quantize = action("Quantize this model (int8)")
  local replies = vim.lsp.buf_request_sync(0, "workspace/executeCommand", quantize.command, 300000)
  for _, reply in pairs(replies or {}) do
    seen.quantize = reply.result
    seen.quantize_error = reply.err
  end
  titles.after = titles_now()
  seen.titles = titles
  local sketch = action("Generate inference sketch (emulated board)")
  replies = vim.lsp.buf_request_sync(0, "workspace/executeCommand", sketch.command, 120000)
  for _, reply in pairs(replies or {}) do
    seen.error = reply.err
    seen.result = reply.result
  end
  -- a sketch with a defect (the test wrote it beside the model): the diagnostic `tinyml check`
  -- publishes, its quick fix applied by Neovim's own apply_workspace_edit, the diagnostic gone
  if env.TINYML_DEFECT then
    vim.cmd("edit " .. env.TINYML_DEFECT)
    local bufnr = vim.api.nvim_get_current_buf()
    vim.lsp.buf_attach_client(bufnr, client_id)
    local function code_of(d)  -- 0.7 keeps the LSP code under user_data
      return d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
    end
    local function missing_op()
      for _, d in ipairs(vim.diagnostic.get(bufnr)) do
        if code_of(d) == "tinyml/missing-op" then return d end
      end
      return nil
    end
    wait(120000, "the missing-op diagnostic", function() return missing_op() ~= nil end)
    local d = missing_op()
    seen.diagnostic = { message = d.message, line = d.lnum, col = d.col,
                        severity = d.severity }
    local at = { line = d.lnum, character = d.col }
    local fixes = vim.lsp.buf_request_sync(bufnr, "textDocument/codeAction", {
      textDocument = { uri = vim.uri_from_bufnr(bufnr) },
      range = { start = at, ["end"] = at },
      context = { diagnostics = {}, only = { "quickfix" } },
    }, 10000)
    local fix
    for _, reply in pairs(fixes or {}) do
      for _, a in ipairs(reply.result or {}) do
        if a.kind == "quickfix" and a.edit and not fix then fix = a end
      end
    end
    if not fix then fail("no quick fix for " .. d.message) end
    seen.fix = fix.title
    vim.lsp.util.apply_workspace_edit(fix.edit, client.offset_encoding)
    vim.cmd("write")
    wait(120000, "the diagnostic to go after the fix", function() return missing_op() == nil end)
    seen.fixed = table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n")
  end
end
save()
vim.cmd("qa!")
