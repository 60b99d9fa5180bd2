import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { AgentProgress, CellRun } from '../agent/agent-turn.ts';

/** Bumped when the shape changes: a release that cannot read a turn's steps starts it over. */
const FORMAT = 1;

/** An agent turn's steps as a durable turn records them. */
export function encodeAgentSteps(progress: AgentProgress): string {
  return JSON.stringify({ format: FORMAT, messages: progress.messages, cells: progress.cells });
}

/**
 * Steps recorded by an earlier runner, or undefined when there are none this release can
 * read (the turn then starts over: its cells' job ids still keep them from running twice
 * when the model asks for the same code).
 */
export function decodeAgentSteps(json: string | undefined): AgentProgress | undefined {
  if (json === undefined) return undefined;
  try {
    const parsed = JSON.parse(json) as { format?: unknown; messages?: unknown; cells?: unknown };
    if (parsed.format !== FORMAT) return undefined;
    if (!Array.isArray(parsed.messages) || !Array.isArray(parsed.cells)) return undefined;
    // Written by encodeAgentSteps of this format: the shapes are ours.
    return {
      messages: parsed.messages as ChatCompletionMessageParam[],
      cells: parsed.cells as CellRun[],
    };
  } catch {
    return undefined;
  }
}
