/** The commands every surface offers (Slack `/sandbot X`, Discord `/X`, a message "X"). */
export const COMMANDS = [
  'run',
  'reset',
  'forget',
  'files',
  'stop',
  'export',
  'status',
  'install',
  'packages',
  'help',
] as const;
export type CommandName = (typeof COMMANDS)[number];

export type ParsedMessage =
  /** Run code without the model: `run <code>`, or a message that is only a python block. */
  | { readonly kind: 'code'; readonly code: string }
  | {
      readonly kind: 'command';
      readonly name: Exclude<CommandName, 'run'>;
      readonly argument: string;
    }
  /** `run` with nothing to run: answered with how to use it. */
  | { readonly kind: 'usage'; readonly name: 'run' }
  | { readonly kind: 'chat'; readonly text: string };

const FENCE_ONLY = /^```(?:python3?|py)?[ \t]*\n([\s\S]*?)\n?```$/i;
const INLINE_FENCE = /^```(?:python3?|py)?[ \t]*([\s\S]*?)```$/i;

/**
 * What a message asks for. Commands that take no argument match only when the message is
 * exactly the command word, so "help me plot this" is a question for the model, not `help`.
 */
export function parseMessage(raw: string): ParsedMessage {
  const text = raw.trim();
  const fenced = FENCE_ONLY.exec(text);
  if (fenced !== null) return codeOrUsage(fenced[1] ?? '');

  const match = /^[/!]?([A-Za-z]+)(?:\s+([\s\S]*))?$/.exec(text);
  const word = match?.[1]?.toLowerCase();
  const argument = (match?.[2] ?? '').trim();
  if (word === 'run') return codeOrUsage(unfence(argument));
  if (word === 'files') return { kind: 'command', name: 'files', argument };
  // `install` needs names; without them it is a word of a question ("install what?").
  if (word === 'install' && argument !== '' && /^[A-Za-z0-9][\w.=<>!~,\s[\]-]*$/.test(argument)) {
    return { kind: 'command', name: 'install', argument };
  }
  if (
    argument === '' &&
    (word === 'reset' ||
      word === 'forget' ||
      word === 'stop' ||
      word === 'export' ||
      word === 'status' ||
      word === 'packages' ||
      word === 'help')
  ) {
    return { kind: 'command', name: word, argument: '' };
  }
  return { kind: 'chat', text };
}

function unfence(code: string): string {
  const block = FENCE_ONLY.exec(code) ?? INLINE_FENCE.exec(code);
  if (block !== null) return block[1] ?? '';
  // `run print(1)` with inline backticks.
  return code.replace(/^`([^`]*)`$/, '$1');
}

function codeOrUsage(code: string): ParsedMessage {
  return code.trim() === '' ? { kind: 'usage', name: 'run' } : { kind: 'code', code };
}
