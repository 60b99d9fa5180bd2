import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import { createModelClient, type OpenAI } from '../agent/model-client.ts';
import { PYTHON_TOOL } from '../agent/python-tool.ts';
import type { Config } from '../core/config.ts';
import { errorMessage } from '../core/errors.ts';
import { fail, ok, warn, type CheckResult } from './check.ts';
import { rootCause } from './root-cause.ts';

const TOOLS_FIX =
  'choose a model that supports tool calling (docs/models.md): on Ollama one tagged "tools" (llama3.1, qwen2.5), on vLLM start it with --enable-auto-tool-choice --tool-call-parser <parser>';

/**
 * The model endpoint as the bot will use it: the model list (is OPENAI_MODEL served there?)
 * and one tiny request with the bot's python tool, since a model that cannot call tools can
 * only chat. The endpoint must be configured (checkModel says so when it is not).
 */
export async function probeModel(
  openai: Config['openai'],
  timeoutMs: number,
): Promise<CheckResult[]> {
  const client = createModelClient(openai, { maxRetries: 0, timeoutMs });
  if (client === undefined) return [];
  const where = openai.baseUrl ?? 'api.openai.com';
  let listed: string[] | undefined;
  try {
    listed = [];
    for await (const model of client.models.list()) listed.push(model.id);
  } catch (error) {
    // Some compatible servers (Azure deployments, a few proxies) serve no model list, and a
    // restricted OpenAI key may not read it (403); the tool request below still says whether
    // the model answers.
    if (!(error instanceof APIError && (error.status === 404 || error.status === 403))) {
      return [fail('model', `${where}: ${describe(error)}`, endpointFix(error))];
    }
    listed = undefined;
  }
  if (listed !== undefined && !listed.includes(openai.model)) {
    const has = listed.length === 0 ? 'none' : listed.slice(0, 10).join(', ');
    return [
      fail(
        'model',
        `${openai.model} is not served at ${where} (it lists: ${has})`,
        `set OPENAI_MODEL to one it lists, or make it available (Ollama: \`ollama pull ${openai.model}\`)`,
      ),
    ];
  }
  const found =
    listed === undefined
      ? `${openai.model} at ${where} (the model list could not be read)`
      : `${openai.model} at ${where}`;
  return [ok('model', found), await probeTools(client, openai.model, timeoutMs)];
}

async function probeTools(client: OpenAI, model: string, timeoutMs: number): Promise<CheckResult> {
  try {
    const completion = await client.chat.completions.create(
      {
        model,
        messages: [{ role: 'user', content: 'Use the python tool to run: print(1)' }],
        tools: [PYTHON_TOOL],
      },
      { timeout: timeoutMs },
    );
    const called = completion.choices[0]?.message.tool_calls?.length ?? 0;
    if (called > 0) return ok('model tools', `${model} called the python tool when asked`);
    return warn(
      'model tools',
      `${model} answered in text when asked to call the python tool: it may rarely run code`,
      TOOLS_FIX,
    );
  } catch (error) {
    if (error instanceof APIError && (error.status === 400 || error.status === 422)) {
      return fail(
        'model tools',
        `${model} cannot call tools: the server answered ${error.status} (${serverSaid(error)})`,
        TOOLS_FIX,
      );
    }
    return fail(
      'model tools',
      `a tool-calling request failed: ${describe(error)}`,
      endpointFix(error),
    );
  }
}

/** What could not be reached, or what the server answered, in a few words. */
function describe(error: unknown): string {
  if (error instanceof APIConnectionTimeoutError) return 'no answer in time';
  if (error instanceof APIConnectionError) {
    return `could not connect (${rootCause(error)})`;
  }
  if (error instanceof APIError) return `answered ${error.status ?? '?'} (${serverSaid(error)})`;
  return errorMessage(error);
}

function serverSaid(error: { readonly message: string }): string {
  return error.message.replace(/^\d{3}\s*/, '').slice(0, 200) || 'no message';
}

function endpointFix(error: unknown): string {
  if (error instanceof APIError && (error.status === 401 || error.status === 403)) {
    return 'the server refused OPENAI_API_KEY: set a valid key';
  }
  return 'start the model server, or fix OPENAI_BASE_URL (and OPENAI_API_KEY)';
}
