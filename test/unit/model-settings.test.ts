import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/config.ts';
import { maxTokensFieldFor, requestParameters } from '../../src/agent/model-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'sandbot-prompt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function agentOf(env: Record<string, string>) {
  const result = parseConfig(env);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config.agent;
}

describe('model settings', () => {
  it('sends nothing the operator did not set, and trims to 128,000 tokens by default', () => {
    const agent = agentOf({});
    expect(agent.temperature).toBeUndefined();
    expect(agent.maxTokens).toBeUndefined();
    expect(agent.systemPromptExtra).toBeUndefined();
    expect(agent.contextTokens).toBe(128_000);
  });

  it('reads MODEL_TEMPERATURE, MODEL_MAX_TOKENS and MODEL_CONTEXT_TOKENS', () => {
    const agent = agentOf({
      MODEL_TEMPERATURE: '0.2',
      MODEL_MAX_TOKENS: '800',
      MODEL_CONTEXT_TOKENS: '8192',
    });
    expect(agent).toMatchObject({ temperature: 0.2, maxTokens: 800, contextTokens: 8192 });
  });

  it('reads SYSTEM_PROMPT_FILE once, at start, trimmed', () => {
    const path = join(dir, 'prompt.md');
    writeFileSync(path, '\nAnswer in French.\n');
    expect(agentOf({ SYSTEM_PROMPT_FILE: path }).systemPromptExtra).toBe('Answer in French.');
  });

  it('refuses a prompt file that is a directory, empty, too big or not UTF-8', () => {
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '  \n');
    const big = join(dir, 'big.txt');
    writeFileSync(big, 'x'.repeat(65 * 1024));
    const binary = join(dir, 'binary.txt');
    writeFileSync(binary, Buffer.from([0xff, 0xfe, 0x00, 0x80]));
    for (const path of [dir, empty, big, binary]) {
      const result = parseConfig({ SYSTEM_PROMPT_FILE: path });
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.problems.map((p) => p.setting)).toEqual(['SYSTEM_PROMPT_FILE']);
    }
  });

  it('puts only the set values in the request, in the field the endpoint takes', () => {
    expect(requestParameters({})).toEqual({});
    expect(requestParameters({ temperature: 0, maxTokens: 500 })).toEqual({
      temperature: 0,
      max_tokens: 500,
    });
    expect(requestParameters({ maxTokens: 500, maxTokensField: 'max_completion_tokens' })).toEqual({
      max_completion_tokens: 500,
    });
  });

  it('uses max_completion_tokens for OpenAI and Azure, max_tokens for local servers', () => {
    expect(maxTokensFieldFor(undefined)).toBe('max_completion_tokens');
    expect(maxTokensFieldFor('https://api.openai.com/v1')).toBe('max_completion_tokens');
    expect(maxTokensFieldFor('https://my-team.openai.azure.com/openai/v1')).toBe(
      'max_completion_tokens',
    );
    expect(maxTokensFieldFor('https://x.services.ai.azure.com/openai/v1')).toBe(
      'max_completion_tokens',
    );
    expect(maxTokensFieldFor('https://api.openai.com.example.net/v1')).toBe('max_tokens');
    expect(maxTokensFieldFor('http://localhost:11434/v1')).toBe('max_tokens');
    expect(maxTokensFieldFor('http://vllm:8000/v1')).toBe('max_tokens');
  });
});
