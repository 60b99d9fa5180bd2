import { ApplicationCommandOptionType, ApplicationCommandType } from 'discord.js';
import { describe, expect, it } from 'vitest';
import {
  ANALYZE_COMMAND,
  commandDefinitions,
  LEGACY_COMMANDS,
} from '../../adapters/discord/command-definitions.ts';
import { resetButton, resetConfirmation } from '../../adapters/discord/reset-confirmation.ts';
import { COMMANDS } from '../../src/conversation/parse-message.ts';

describe('Discord commands', () => {
  it('are one /sandbot with a subcommand per core command plus ask, and the message command', () => {
    const [sandbot, analyze, ...rest] = commandDefinitions();
    expect(rest).toEqual([]);
    expect(sandbot?.name).toBe('sandbot');
    const options = sandbot !== undefined && 'options' in sandbot ? (sandbot.options ?? []) : [];
    expect(options.every((o) => o.type === ApplicationCommandOptionType.Subcommand)).toBe(true);
    expect(options.map((o) => o.name)).toEqual([
      'ask',
      'run',
      'files',
      'export',
      'status',
      'reset',
      'forget',
      'install',
      'packages',
      'stop',
      'help',
    ]);
    expect([...COMMANDS].sort()).toEqual(
      options
        .map((o) => o.name)
        .filter((n) => n !== 'ask')
        .sort(),
    );
    expect(analyze).toMatchObject({ name: ANALYZE_COMMAND, type: ApplicationCommandType.Message });
    // No old top-level name comes back.
    expect(commandDefinitions().some((c) => LEGACY_COMMANDS.includes(c.name))).toBe(false);
  });

  it("reset's buttons name the person who asked, and only their ids parse", () => {
    const { components } = resetConfirmation('123');
    const ids = JSON.stringify(components.map((row) => row.toJSON()));
    expect(ids).toContain('"custom_id":"sandbot:reset:confirm:123"');
    expect(ids).toContain('"custom_id":"sandbot:reset:cancel:123"');
    expect(resetButton('sandbot:reset:confirm:123')).toEqual({ confirmed: true, askedBy: '123' });
    expect(resetButton('sandbot:reset:cancel:123')).toEqual({ confirmed: false, askedBy: '123' });
    expect(resetButton('sandbot:stop')).toBeUndefined();
  });
});
