/**
 * Tables as each chat platform shows them, end to end: the model displays a 300-row DataFrame
 * and Slack gets a native table block within its limits plus the whole table as a CSV, while
 * Discord gets an aligned monospace table plus the CSV. Real Bolt and discord.js against the
 * fake platforms, the real core running the cell in Docker, the scripted fake model.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startDiscordHarness, type DiscordHarness } from '../fakes/fake-discord-harness.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai-server.ts';
import { startSlackBot, type SlackBot } from '../fakes/fake-slack-harness.ts';
import { appMention } from '../fakes/fake-slack-payloads.ts';

const services = inject('services');

const TABLE_CODE = [
  'import pandas as pd',
  "df = pd.DataFrame({'city': [f'c{i}' for i in range(300)], 'sales': [i * 1.5 for i in range(300)]})",
  'display(df)',
].join('\n');

const script = (openai: FakeOpenAI) =>
  openai.script(
    { kind: 'tool', calls: [{ name: 'python', arguments: JSON.stringify({ code: TABLE_CODE }) }] },
    { kind: 'text', text: 'Sales by city are below.' },
  );

interface TableCell {
  readonly type: string;
  readonly text: string;
}

describe.skipIf(services.sandboxImage === undefined)('a table in the chat', () => {
  describe('on Slack', () => {
    let openai: FakeOpenAI;
    let bot: SlackBot;

    beforeAll(async () => {
      openai = await startFakeOpenAI();
      bot = await startSlackBot({
        transport: 'socket',
        embeddedWorkerId: `e2e-rich-results-slack-${process.pid}`,
        env: { OPENAI_BASE_URL: openai.baseUrl, OPENAI_API_KEY: 'test', OPENAI_MODEL: 'm' },
      });
    });

    afterAll(async () => {
      await bot.close();
      await openai.close();
    });

    it('is a table block within Slack limits, with the whole table as a CSV', async () => {
      const channel = 'C0TABLES';
      const mention = {
        channel,
        user: 'U0ANA',
        ts: bot.slack.workspace.nextTs(),
        text: `<@${bot.slack.ids.botUserId}> sales by city`,
      };
      script(openai);
      await bot.slack.sendEvent(appMention(bot.slack.ids, mention));
      const tableMessage = await bot.waitForMessage(channel, mention.ts, /^\*Table 1\*/);
      expect(tableMessage.text).toBe(
        '*Table 1* · 300 rows × 2 columns · first 99 rows shown; all of it in table-1.csv',
      );
      const table = (tableMessage.blocks ?? []).find(
        (b): b is { type: 'table'; rows: TableCell[][] } =>
          (b as { type?: string }).type === 'table',
      );
      expect(table?.rows).toHaveLength(100);
      expect(table?.rows[0]?.map((c) => c.text)).toEqual(['city', 'sales']);
      expect(table?.rows[3]?.map((c) => [c.type, c.text])).toEqual([
        ['raw_text', 'c2'],
        ['raw_text', '3.0'],
      ]);
      // The answer's text came first, in its own message.
      const texts = bot.messagesIn(channel, mention.ts).map((m) => m.text);
      expect(texts.findIndex((t) => t.includes('Sales by city'))).toBeLessThan(
        texts.indexOf(tableMessage.text),
      );

      const csv = await bot.slack.waitFor(() => {
        const file = bot
          .messagesIn(channel, mention.ts)
          .flatMap((m) => m.files)
          .find((f) => f.name === 'table-1.csv');
        return file === undefined ? undefined : bot.slack.workspace.uploads.get(file.id)?.bytes;
      }, 'table-1.csv uploaded to the thread');
      const lines = csv.toString().trim().split('\n');
      expect(lines).toHaveLength(301);
      expect(lines.at(-1)).toBe('c299,448.5');
    });
  });

  describe('on Discord', () => {
    let bot: DiscordHarness;

    beforeAll(async () => {
      bot = await startDiscordHarness({ workerId: `e2e-rich-results-discord-${process.pid}` });
    });

    afterAll(async () => {
      await bot.close();
    });

    it('is an aligned monospace table, with the whole table as a CSV', async () => {
      const { discord, openai } = bot;
      const ana = discord.createUser('ana');
      const channel = discord.createTextChannel('tables');
      script(openai);
      const mention = discord.postMessage({
        channelId: channel,
        author: ana,
        content: `<@${discord.bot.id}> sales by city`,
      });
      const answer = await discord.waitFor('the table in the thread', () =>
        discord
          .messages(mention.id)
          .find((m) => m.authorId === discord.bot.id && m.content.includes('**Table 1**')),
      );
      expect(answer.content).toContain(
        '**Table 1** · 300 rows × 2 columns · first 20 rows shown; all of it in table-1.csv\n```\ncity  sales\n----  -----\nc0      0.0\nc1      1.5\n',
      );
      const csv = await discord.waitFor('table-1.csv in the thread', () =>
        discord
          .messages(mention.id)
          .flatMap((m) => m.attachments)
          .find((a) => a.filename === 'table-1.csv'),
      );
      const lines = csv.content.toString().trim().split('\n');
      expect(lines).toHaveLength(301);
      expect(lines.at(-1)).toBe('c299,448.5');
    });
  });
});
