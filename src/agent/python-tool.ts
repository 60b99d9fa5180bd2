import type { ChatCompletionFunctionTool } from 'openai/resources/chat/completions';

export const PYTHON_TOOL: ChatCompletionFunctionTool = {
  type: 'function',
  function: {
    name: 'python',
    description:
      "Run Python code in the thread's persistent kernel (working directory /mnt/data, no internet). Returns output, the value of the last expression, errors, and the images and files produced.",
    parameters: {
      type: 'object',
      properties: { code: { type: 'string', description: 'The Python code to run.' } },
      required: ['code'],
      additionalProperties: false,
    },
  },
};

/** The code from a python tool call, or why the arguments cannot be used. */
export function parsePythonArguments(raw: string): { code: string } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    return {
      error: `the arguments are not valid JSON (${(error as Error).message}); send {"code": "..."}`,
    };
  }
  if (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { code?: unknown }).code === 'string'
  ) {
    return { code: (value as { code: string }).code };
  }
  return { error: 'the arguments need a "code" string: {"code": "..."}' };
}
