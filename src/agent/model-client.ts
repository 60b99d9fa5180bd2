import OpenAI, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from 'openai';
import type { Config } from '../core/config.ts';
import { keepAliveFetch } from './keep-alive-fetch.ts';

export type { OpenAI };

/**
 * The model client. The openai package retries 408, 409, 429 and 5xx answers and timeouts
 * itself, with exponential backoff that honours Retry-After; sandbot only sets how often.
 */
export function createModelClient(
  openai: Config['openai'],
  options: { maxRetries?: number; timeoutMs?: number } = {},
): OpenAI | undefined {
  if (openai.apiKey === undefined && openai.baseUrl === undefined) return undefined;
  return new OpenAI({
    // Local servers (Ollama, vLLM) take any key; the client insists on one.
    apiKey: openai.apiKey ?? 'not-needed',
    ...(openai.baseUrl === undefined ? {} : { baseURL: openai.baseUrl }),
    maxRetries: options.maxRetries ?? 3,
    timeout: options.timeoutMs ?? 60_000,
    // Kept-alive node:http connections: less per request than Node's fetch (issue 19).
    fetch: keepAliveFetch(),
  });
}

/** MODEL_TEMPERATURE and MODEL_MAX_TOKENS; an unset one is not sent (the server's default). */
export interface ModelRequestSettings {
  readonly temperature?: number;
  readonly maxTokens?: number;
  /** Which request field carries `maxTokens`: see `maxTokensFieldFor`. */
  readonly maxTokensField?: MaxTokensField;
}

export type MaxTokensField = 'max_tokens' | 'max_completion_tokens';

/** Hosts of OpenAI's own API and of Azure OpenAI (docs/models.md). */
const OPENAI_HOSTS =
  /(^|\.)(api\.openai\.com|openai\.azure\.com|cognitiveservices\.azure\.com|services\.ai\.azure\.com)$/;

/**
 * OpenAI deprecated `max_tokens` and its reasoning models (o-series, gpt-5) refuse it, asking
 * for `max_completion_tokens`; Ollama and LM Studio know only `max_tokens`, which vLLM and
 * other local servers accept too. So: the new field for OpenAI and Azure, the old one elsewhere.
 */
export function maxTokensFieldFor(baseUrl: string | undefined): MaxTokensField {
  if (baseUrl === undefined) return 'max_completion_tokens';
  let host: string;
  try {
    host = new URL(baseUrl).hostname.toLowerCase();
  } catch {
    return 'max_tokens';
  }
  return OPENAI_HOSTS.test(host) ? 'max_completion_tokens' : 'max_tokens';
}

/** The request fields for `settings`: only those set. */
export function requestParameters(settings: ModelRequestSettings | undefined): {
  temperature?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
} {
  if (settings === undefined) return {};
  return {
    ...(settings.temperature === undefined ? {} : { temperature: settings.temperature }),
    ...(settings.maxTokens === undefined
      ? {}
      : { [settings.maxTokensField ?? 'max_tokens']: settings.maxTokens }),
  };
}

/** The one place model errors become words a chat user can act on. */
export function describeModelError(error: unknown): string {
  if (error instanceof APIUserAbortError) return 'The request to the model was cancelled.';
  if (error instanceof APIConnectionTimeoutError) {
    return 'The model did not answer in time, even after retries. Try again in a moment.';
  }
  if (error instanceof APIConnectionError) {
    return 'The model endpoint could not be reached. Check OPENAI_BASE_URL, or try again later.';
  }
  if (error instanceof APIError) {
    const status: number | undefined = (error as APIError).status;
    if (status === 401 || status === 403) {
      return `The model endpoint refused the credentials (${status}). Check OPENAI_API_KEY.`;
    }
    if (status === 404)
      return 'The model endpoint does not know this model (404). Check OPENAI_MODEL.';
    if (status === 429)
      return 'The model is rate-limited (429), even after retries. Try again in a minute.';
    if (status !== undefined && status >= 500) {
      return `The model service failed (${status}), even after retries. Try again later.`;
    }
    return `The model endpoint rejected the request (${status ?? 'no status'}).`;
  }
  return 'The model could not be used because of an internal error.';
}
