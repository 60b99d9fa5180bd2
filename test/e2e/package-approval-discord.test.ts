/**
 * Package approvals on Discord, end to end: the real discord.js client against the fake
 * Discord (startDiscordHarness: the real core, sandboxes in Docker), wheels from a simple index
 * on loopback. `install sbtiny` off SANDBOX_PACKAGES posts a question with Approve and Deny;
 * a non-approver is answered privately, the approver's Approve installs it and the question
 * shows the outcome instead of its buttons; Deny refuses it.
 */
import type { APIUser } from 'discord.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FakeDiscord, FakeMessage } from '../fakes/fake-discord-server.ts';
import {
  botMessageMatching,
  startDiscordHarness,
  type DiscordHarness,
} from '../fakes/fake-discord-harness.ts';
import { serveIndex, type PackageIndex } from '../support/package-index.ts';

const services = inject('services');
const EPHEMERAL = 64;

describe.skipIf(services.sandboxImage === undefined)(
  'package approvals on Discord (PACKAGE_APPROVERS)',
  () => {
    let bot: DiscordHarness;
    let discord: FakeDiscord;
    let index: PackageIndex;
    let ana: APIUser;
    let boss: APIUser;

    beforeAll(async () => {
      index = await serveIndex();
      bot = await startDiscordHarness({
        workerId: `e2e-package-approval-discord-${process.pid}`,
        env: (fake) => {
          boss = fake.createUser('boss');
          return {
            SANDBOX_PACKAGE_INDEX: index.url,
            SANDBOX_PACKAGES: 'sbdep>=1.0',
            PACKAGE_APPROVERS: `discord:${boss.id}`,
          };
        },
      });
      discord = bot.discord;
      ana = discord.createUser('ana');
    }, 60_000);

    afterAll(async () => {
      await bot.close();
      index.server.close();
    });

    /** Ana asks for sbtiny in a new thread: the thread's id and the question posted there. */
    async function askForSbtiny(channelName: string) {
      const channel = discord.createTextChannel(channelName);
      const posted = discord.postMessage({
        channelId: channel,
        author: ana,
        content: `<@${discord.bot.id}> install sbtiny`,
      });
      const thread = posted.id;
      const question = await discord.waitFor(
        'the question with its buttons',
        () =>
          discord
            .messages(thread)
            .find((m) => JSON.stringify(m.components).includes('sandbot:packages:approve:')),
        90_000,
      );
      return { thread, question };
    }

    const buttonId = (question: FakeMessage, kind: 'approve' | 'deny') =>
      new RegExp(`sandbot:packages:${kind}:[A-Za-z0-9-]+`).exec(
        JSON.stringify(question.components),
      )?.[0] ?? '';

    it(
      "asks; a non-approver is answered privately, the approver's press installs it",
      { timeout: 180_000 },
      async () => {
        const { thread, question } = await askForSbtiny('approve');
        expect(question.content).toMatch(
          new RegExp(
            `^<@${ana.id}> wants to install sbtiny, which is not on this workspace's package list\\.$`,
          ),
        );
        const approve = buttonId(question, 'approve');
        discord.clickButton({
          channelId: thread,
          messageId: question.id,
          customId: approve,
          user: ana,
        });
        const refusal = await discord.waitFor('the private refusal', () =>
          discord.messages(thread).find((m) => (m.flags & EPHEMERAL) !== 0),
        );
        expect(refusal.content).toBe(
          `Only <@${boss.id}> can approve or deny package installs here.`,
        );

        discord.clickButton({
          channelId: thread,
          messageId: question.id,
          customId: approve,
          user: boss,
        });
        const settled = await discord.waitFor(
          'the outcome in place of the buttons',
          () =>
            discord
              .messages(thread)
              .find((m) => m.id === question.id && /Approved by .*: installed/.test(m.content)),
          90_000,
        );
        expect(settled.components).toEqual([]);
        expect(settled.content).toMatch(
          new RegExp(`\\nApproved by <@${boss.id}>: installed .*sbtiny 1\\.0.*\\.$`),
        );

        discord.postMessage({
          channelId: thread,
          author: ana,
          content: 'run import sbtiny; print("answer", sbtiny.ANSWER)',
        });
        await botMessageMatching(discord, thread, /answer 42/);
      },
    );

    it(
      "the model's install_packages waits for the approver, and its result says so",
      {
        timeout: 180_000,
      },
      async () => {
        bot.openai.script(
          {
            kind: 'tool',
            calls: [
              { name: 'install_packages', arguments: JSON.stringify({ packages: ['sbtiny'] }) },
            ],
          },
          (request) => ({
            kind: 'text',
            text: `The tool said: ${JSON.stringify(request.body.messages.at(-1))}`,
          }),
        );
        const channel = discord.createTextChannel('model');
        const posted = discord.postMessage({
          channelId: channel,
          author: ana,
          content: `<@${discord.bot.id}> I need sbtiny for this`,
        });
        const thread = posted.id;
        const question = await discord.waitFor(
          'the question the model caused',
          () =>
            discord
              .messages(thread)
              .find((m) => JSON.stringify(m.components).includes('sandbot:packages:approve:')),
          90_000,
        );
        discord.clickButton({
          channelId: thread,
          messageId: question.id,
          customId: buttonId(question, 'approve'),
          user: boss,
        });
        const answer = await botMessageMatching(discord, thread, /The tool said/);
        expect(answer.content).toMatch(/Installed \(importable now\): .*sbtiny 1\.0/);
        expect(answer.content).toMatch(/Approval: approved by @boss/);
      },
    );

    it('Deny refuses the install, naming who denied it', { timeout: 180_000 }, async () => {
      const { thread, question } = await askForSbtiny('deny');
      discord.clickButton({
        channelId: thread,
        messageId: question.id,
        customId: buttonId(question, 'deny'),
        user: boss,
      });
      const settled = await discord.waitFor(
        'the refusal in place of the buttons',
        () =>
          discord
            .messages(thread)
            .find((m) => m.id === question.id && /Not installed: denied by/.test(m.content)),
        90_000,
      );
      expect(settled.content).toMatch(new RegExp(`\\nNot installed: denied by <@${boss.id}>\\.$`));
      expect(settled.components).toEqual([]);
    });
  },
);
