import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { AgentTurnOptions } from '../agent/agent-turn.ts';
import { maxTokensFieldFor, type OpenAI } from '../agent/model-client.ts';
import { buildSystemPrompt } from '../agent/system-prompt.ts';
import { historyBudgetTokens } from './token-estimate.ts';
import { trimTranscript } from './trim-transcript.ts';
import type { TurnServices } from './turn-context.ts';

/**
 * What a turn's model requests carry besides its own messages: the system prompt (the image's
 * packages, SYSTEM_PROMPT_FILE), the thread trimmed to fit MODEL_CONTEXT_TOKENS, and the
 * request settings (MODEL_TEMPERATURE, MODEL_MAX_TOKENS in the field the endpoint takes).
 */
export async function promptForTurn(
  services: TurnServices,
  client: OpenAI,
  transcript: readonly ChatCompletionMessageParam[],
  userMessage: string,
): Promise<Required<Pick<AgentTurnOptions, 'systemPrompt' | 'history' | 'request'>>> {
  const { agent } = services;
  const systemPrompt = buildSystemPrompt({
    packages: await services.packages?.list(),
    extra: agent.systemPromptExtra,
    installable: services.packageAllowlist !== undefined,
  });
  const budgetTokens = historyBudgetTokens({
    contextTokens: agent.contextTokens ?? 128_000,
    systemPrompt,
    userMessage,
    replyTokens: agent.maxTokens,
  });
  return {
    systemPrompt,
    history: trimTranscript(transcript, { budgetTokens }),
    request: {
      ...(agent.temperature === undefined ? {} : { temperature: agent.temperature }),
      ...(agent.maxTokens === undefined ? {} : { maxTokens: agent.maxTokens }),
      maxTokensField: maxTokensFieldFor(client.baseURL),
    },
  };
}
