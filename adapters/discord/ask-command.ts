import type { ChatInputCommandInteraction } from 'discord.js';
import type { AdapterContext } from '../../src/core/chat-adapter.ts';
import type { InboundMessage } from '../../src/core/inbound-message.ts';
import type { Logger } from '../../src/logging/logger.ts';
import { MAX_MESSAGE_CHARS } from './limits.ts';
import { inboundAttachment, threadName } from './inbound-message.ts';
import { interactionAuthor } from './interaction-origin.ts';
import { opensThread } from './interaction-place.ts';
import type { SlashRequest } from './slash-commands.ts';
import { openThreadTurn } from './thread-turn.ts';

type AskRequest = Extract<SlashRequest, { kind: 'ask' }>;

/**
 * `/sandbot ask`: the prompt (and its file, which lands in /mnt/data) as a turn. In a server
 * channel the reply quotes the question and a thread opens on it, as a mention opens one; in
 * a thread or a DM the answer fills the reply there, in that place's session. Someone the
 * allowlists refuse hears so privately, before any thread opens.
 */
export async function answerAsk(
  interaction: ChatInputCommandInteraction,
  request: AskRequest,
  context: AdapterContext,
  logger: Logger,
): Promise<void> {
  const maxBytes = context.config.agent.maxAttachmentBytes;
  const attachments = request.file === undefined ? [] : [inboundAttachment(request.file, maxBytes)];
  const inbound: Omit<InboundMessage, 'sessionKey'> = {
    author: interactionAuthor(interaction),
    text: request.prompt === '' && attachments.length === 0 ? 'help' : request.prompt,
    attachments,
    // An interaction's id is a snowflake too: it names the turn and orders it.
    messageId: interaction.id,
    order: interaction.id,
  };
  const inServer = await opensThread(interaction, inbound, context, logger);
  if (inServer === undefined) return;
  await inServer.deferReply();
  const starter = await inServer.editReply({ content: askedText(request) });
  const turn = await openThreadTurn({
    starter,
    name: threadName(inbound),
    inbound,
    interactionId: inServer.id,
    applicationId: inServer.applicationId,
    context,
    logger,
  });
  await turn.answer();
}

/** The question quoted where the thread opens, with the file's name, within one message. */
function askedText(request: AskRequest): string {
  const file = request.file === undefined ? '' : `\n📎 ${request.file.name}`;
  const quoted = request.prompt === '' ? '' : request.prompt.replace(/^/gm, '> ');
  const room = MAX_MESSAGE_CHARS - file.length - 1;
  const shown = quoted.length <= room ? quoted : `${quoted.slice(0, room - 1)}…`;
  return `${shown}${file}`.trim() || '📎';
}
