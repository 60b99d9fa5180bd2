import type { ChatCompletionFunctionTool } from 'openai/resources/chat/completions';

/** Allowlist entries named in the tool's description, at most (the rest: "and N more"). */
const MAX_NAMED_ENTRIES = 40;

/**
 * The model's way to ask for a package (issue 18), offered only when the bot has a package
 * index. Its description carries the allowlist so the model asks for what can be had.
 */
export function installPackagesTool(allowlist: readonly string[]): ChatCompletionFunctionTool {
  const named = allowlist.slice(0, MAX_NAMED_ENTRIES).join(', ');
  const more =
    allowlist.length > MAX_NAMED_ENTRIES ? ` and ${allowlist.length - MAX_NAMED_ENTRIES} more` : '';
  const allowed = allowlist.includes('*')
    ? 'any package the index has'
    : allowlist.length === 0
      ? 'nothing yet (an approver may allow a package)'
      : `${named}${more}`;
  return {
    type: 'function',
    function: {
      name: 'install_packages',
      description: `Install Python packages into this thread's kernel from the operator's package index (wheels only; the sandbox itself stays offline; pip does not work). Importable at once, for the rest of the thread. Allowed: ${allowed}. The result says what was installed, with versions, or why a package was refused.`,
      parameters: {
        type: 'object',
        properties: {
          packages: {
            type: 'array',
            items: { type: 'string' },
            description: 'Requirements such as "tabulate" or "tinytable==1.2".',
          },
        },
        required: ['packages'],
        additionalProperties: false,
      },
    },
  };
}

/** The requirement strings of an install_packages call, or why the arguments cannot be used. */
export function parseInstallArguments(raw: string): { packages: string[] } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { error: 'the arguments are not valid JSON; send {"packages": ["name"]}' };
  }
  const packages = (value as { packages?: unknown } | null)?.packages;
  if (
    Array.isArray(packages) &&
    packages.length > 0 &&
    packages.length <= 50 &&
    packages.every((p): p is string => typeof p === 'string' && p.trim() !== '' && p.length <= 200)
  ) {
    return { packages: packages.map((p) => p.trim()) };
  }
  return { error: 'the arguments need "packages": a list of 1 to 50 package names' };
}

/** What a turn gives the agent to install packages with (absent: the tool is not offered). */
export interface PackageInstaller {
  readonly allowlist: readonly string[];
  /** Installs and says what happened, in words (installed with versions, refused and why). */
  readonly run: (packages: readonly string[], signal: AbortSignal) => Promise<string>;
}

/** The tool result of one install_packages call. */
export async function runInstallTool(
  installer: PackageInstaller,
  rawArguments: string,
  signal: AbortSignal,
): Promise<string> {
  const parsed = parseInstallArguments(rawArguments);
  if ('error' in parsed) return `Error: ${parsed.error}`;
  if (signal.aborted) return '[not run: the turn was stopped]';
  return await installer.run(parsed.packages, signal);
}
