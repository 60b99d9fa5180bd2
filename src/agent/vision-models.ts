/**
 * Model families known to take image inputs, and a few known not to. Matched against the
 * model name lower-cased, after any provider or organisation prefix (`openai/`, `Qwen/`).
 * Kept short on purpose: a model not named here is probed once (see vision-support.ts).
 */
const SEES: readonly RegExp[] = [
  /^gpt-4o/,
  /^gpt-4\.1/,
  /^gpt-5/,
  /^o[134](?!-mini)/, // o1, o3, o4…; o1-mini and o3-mini take text only
  /^o4-mini/,
  /^claude-/,
  /^gemini-/,
  /^gemma-?3/,
  /^llava/,
  /^qwen[\w.]*-?vl/, // qwen2-vl, qwen2.5-vl, qwen2.5vl (Ollama)
  /^pixtral/,
  /vision/, // llama3.2-vision, llama-3.2-11b-vision-instruct
];

const BLIND: readonly RegExp[] = [/^gpt-3\.5/, /^o1-mini/, /^o3-mini/];

/** True or false when the family is known, undefined when only a probe can tell. */
export function knownVision(model: string): boolean | undefined {
  const name = model.toLowerCase().split('/').at(-1) ?? '';
  if (BLIND.some((family) => family.test(name))) return false;
  if (SEES.some((family) => family.test(name))) return true;
  return undefined;
}
