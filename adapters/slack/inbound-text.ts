/**
 * Slack message text as the person typed it. Slack sends markup: `<@U123>` mentions,
 * `<https://x|x>` links, `<#C1|general>` channels, `<!here>`, and `&`, `<`, `>` escaped as
 * entities. Code such as `run print(1 < 2)` must reach the sandbox as typed, so all of that is
 * undone here, and the bot's own mention is dropped.
 */
export function plainTextFromSlack(text: string, botUserId: string | undefined): string {
  let out = text;
  if (botUserId !== undefined) {
    out = out.replace(new RegExp(`<@${escapeRegExp(botUserId)}(?:\\|[^>]*)?>`, 'g'), '');
  }
  out = out
    .replace(/<@([A-Z0-9]+)\|([^>]+)>/g, '@$2')
    .replace(/<@([A-Z0-9]+)>/g, '@$1')
    .replace(/<#([A-Z0-9]+)\|([^>]*)>/g, (_m, id: string, name: string) => `#${name || id}`)
    .replace(/<#([A-Z0-9]+)>/g, '#$1')
    .replace(
      /<!subteam\^[A-Z0-9]+(?:\|([^>]+))?>/g,
      (_m, name: string | undefined) => name ?? '@group',
    )
    .replace(/<!(here|channel|everyone)(?:\|[^>]*)?>/g, '@$1')
    .replace(/<!date\^[^|>]*\|([^>]*)>/g, '$1')
    // A link Slack made from typed text shows that text; keep what was typed.
    .replace(/<((?:https?|mailto|tel):[^|>]*)\|([^>]*)>/g, '$2')
    .replace(/<((?:https?|mailto|tel):[^>]*)>/g, '$1');
  return decodeEntities(out).trim();
}

function decodeEntities(text: string): string {
  // &amp; last, so "&amp;lt;" becomes "&lt;" as typed rather than "<".
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether a message's raw text mentions the bot (app_mention carries those). */
export function mentionsUser(text: string, userId: string | undefined): boolean {
  return userId !== undefined && new RegExp(`<@${escapeRegExp(userId)}(?:\\|[^>]*)?>`).test(text);
}
