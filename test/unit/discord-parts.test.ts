import { DiscordAPIError, HTTPError } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { errorFields } from '../../adapters/discord/discord-errors.ts';
import { finishedStatus } from '../../adapters/discord/progress.ts';

describe('Discord adapter parts', () => {
  it('closes a full progress message within 2,000 characters', () => {
    const full = `⚙️ Running code…\n${'x'.repeat(1990)}`.slice(0, 2000);
    const closed = finishedStatus(full);
    expect(closed.length).toBeLessThanOrEqual(2000);
    expect(closed).toMatch(/^✅ Finished/);
    expect(finishedStatus('⚙️ Running code…\nabc')).toBe('✅ Finished: the answer is below.\nabc');
  });

  it('keeps interaction tokens out of logged errors, 4xx and 5xx alike', () => {
    const url = 'https://discord.com/api/v10/webhooks/123/SECRET-TOKEN/messages/@original';
    const request = { files: undefined, json: {} };
    const api = new DiscordAPIError(
      { code: 50013, message: 'Missing Permissions' },
      50013,
      403,
      'PATCH',
      url,
      request,
    );
    const server = new HTTPError(502, 'Bad Gateway', 'PATCH', url, request);
    for (const error of [api, server]) {
      const fields = errorFields(error);
      expect(JSON.stringify(fields)).not.toContain('SECRET-TOKEN');
      expect('detail' in fields && fields.detail).toMatch(/webhooks\/123\/…/);
    }
  });
});
