/**
 * Access by Slack user group: ALLOWED_USERS=slack:group:S0DATA admits the group's members and
 * refuses everyone else politely, with the membership read from Slack (usergroups.users.list)
 * and cached. The real Bolt app against the fake Slack, the real core.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startSlackBot, type SlackBot } from '../fakes/fake-slack-harness.ts';
import { appMention } from '../fakes/fake-slack-payloads.ts';

const services = inject('services');

describe.skipIf(!services.docker)('Slack: ALLOWED_USERS by user group', () => {
  let bot: SlackBot;

  beforeAll(async () => {
    bot = await startSlackBot({
      transport: 'socket',
      embeddedWorkerId: `e2e-slack-groups-${process.pid}`,
      env: { ALLOWED_USERS: 'slack:group:S0DATA,slack:U0BOSS' },
    });
    bot.slack.workspace.userGroups.set('S0DATA', ['U0ANA', 'U0CY']);
  });

  afterAll(async () => {
    await bot.close();
  });

  async function ask(channel: string, user: string): Promise<string> {
    const ts = bot.slack.workspace.nextTs();
    await bot.slack.sendEvent(
      appMention(bot.slack.ids, {
        channel,
        user,
        ts,
        text: `<@${bot.slack.ids.botUserId}> help`,
      }),
    );
    const answer = await bot.waitForMessage(channel, ts, /./);
    return answer.text;
  }

  it("admits the group's members and people listed by id, and refuses others politely", async () => {
    expect(await ask('C0G1', 'U0ANA')).toMatch(/run/i);
    expect(await ask('C0G2', 'U0BOSS')).toMatch(/run/i);
    expect(await ask('C0G3', 'U0BO')).toBe(
      'Sorry, I can only work for people on my allowlist. Ask an admin to add you to ALLOWED_USERS.',
    );
    expect(await ask('C0G4', 'U0CY')).toMatch(/run/i);
    expect(await ask('C0G5', 'U0ANA')).toMatch(/run/i);
    // Membership is cached: one lookup for the three people who were checked against it.
    const lookups = bot.slack.calls.filter((c) => c.method === 'usergroups.users.list');
    expect(lookups.map((c) => c.args.usergroup)).toEqual(['S0DATA']);
    // The fake knows nobody's name: a failed users.info is not asked again for each message.
    const names = bot.slack.calls.filter(
      (c) => c.method === 'users.info' && c.args.user === 'U0ANA',
    );
    expect(names).toHaveLength(1);
  });
});
