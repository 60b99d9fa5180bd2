import { describe, expect, it } from 'vitest';
import { knownVision } from '../../src/agent/vision-models.ts';

describe('known vision model families', () => {
  it.each([
    'gpt-4o',
    'gpt-4o-mini',
    'gpt-4.1-nano',
    'gpt-5',
    'o1',
    'o3',
    'o4-mini',
    'claude-sonnet-4-5',
    'gemini-2.5-flash',
    'gemma3:12b',
    'llava:13b',
    'qwen2.5vl:7b',
    'Qwen/Qwen2.5-VL-7B-Instruct',
    'openai/gpt-4o',
    'llama3.2-vision',
    'pixtral-12b',
  ])('%s sees images', (model) => {
    expect(knownVision(model)).toBe(true);
  });

  it.each(['gpt-3.5-turbo', 'o1-mini', 'o3-mini', 'openai/o3-mini-high'])(
    '%s takes text only',
    (model) => {
      expect(knownVision(model)).toBe(false);
    },
  );

  it.each(['llama3.1:8b', 'mistral-7b-instruct', 'deepseek-r1', 'fake-model'])(
    '%s is unknown: a probe decides',
    (model) => {
      expect(knownVision(model)).toBeUndefined();
    },
  );
});
