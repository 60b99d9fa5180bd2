import { readFileSync } from 'node:fs';

/** The prompt goes with every model request: a bigger file is almost surely a mistake. */
export const PROMPT_FILE_MAX_BYTES = 64 * 1024;

/**
 * SYSTEM_PROMPT_FILE's text, trimmed; undefined when it cannot be read, is too big, is not
 * UTF-8 or is empty. Read once at start-up: an edit takes effect at the next start.
 */
export function readPromptFile(path: string): string | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    return undefined;
  }
  if (bytes.length > PROMPT_FILE_MAX_BYTES) return undefined;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes).trim();
  } catch {
    return undefined;
  }
  return text === '' ? undefined : text;
}
