import type { webApi } from '@slack/bolt';
import type { InboundAttachment } from '../../src/core/inbound-message.ts';
import { SandbotError } from '../../src/core/errors.ts';
import { slackErrorCode } from './slack-errors.ts';
import { readSlackFile, type SlackFile } from './slack-message.ts';

/** Longest a download of one attachment may take (Discord's adapter uses the same). */
const DOWNLOAD_TIMEOUT_MS = 120_000;

export interface SlackFileDownloaderOptions {
  /** The bot token: Slack serves `url_private_download` only with it. */
  readonly botToken: string;
  /** SLACK_API_URL when set: its host may serve files too (proxies, the tests' fake). */
  readonly apiUrl: string | undefined;
  /** Reading stops one byte past this; the core then refuses the file with a clear reply. */
  readonly maxBytes: number;
}

/** Slack file ids: F and capitals or digits. */
const FILE_ID = /^F[0-9A-Z]{2,30}$/;

/**
 * Files attached to a Slack message, as the core's attachments: the size Slack declares
 * (so an oversized file is refused without downloading it), a download with the bot token
 * that is sent only to Slack's own hosts, and the file id as the reference any bot process
 * fetches the file again by (files.info gives the download URL, with the files:read scope).
 */
export class SlackFileDownloader {
  private readonly options: SlackFileDownloaderOptions;
  private readonly extraHost: string | undefined;

  constructor(options: SlackFileDownloaderOptions) {
    this.options = options;
    this.extraHost = options.apiUrl === undefined ? undefined : new URL(options.apiUrl).host;
  }

  attachments(files: readonly SlackFile[]): InboundAttachment[] {
    return files.flatMap((file) => {
      const url = file.downloadUrl;
      // Hidden (over a free plan's limit) or deleted files have no URL: nothing to fetch.
      if (url === undefined) return [];
      return [
        {
          name: file.name,
          sizeBytes: file.size,
          ref: file.id,
          fetch: () => this.download(file.name, url),
        },
      ];
    });
  }

  /** `ChatAdapter.fetchAttachment`: the file by its id, within the same limits. */
  async fetchById(client: webApi.WebClient, ref: string): Promise<Buffer> {
    if (!FILE_ID.test(ref)) throw new SandbotError('FILE_REJECTED', 'not a Slack file id');
    let info: webApi.FilesInfoResponse;
    try {
      info = await client.files.info({ file: ref });
    } catch (error) {
      throw new SandbotError(
        'FILE_REJECTED',
        `Slack would not say where file ${ref} is (${slackErrorCode(error)})`,
        { cause: error },
      );
    }
    const file = readSlackFile(info.file)[0];
    if (file?.downloadUrl === undefined) {
      throw new SandbotError('FILE_REJECTED', `file ${ref} is hidden or was deleted in Slack`);
    }
    return this.download(file.name, file.downloadUrl);
  }

  private async download(name: string, url: string): Promise<Buffer> {
    const target = new URL(url);
    if (!this.isSlackHost(target.host)) {
      throw new SandbotError(
        'FILE_REJECTED',
        `${name} is served from ${target.host}, not Slack; I do not send my token there`,
      );
    }
    // A stalled download would hold the thread's turn (and its Stop) for good.
    const response = await fetch(target, {
      headers: { authorization: `Bearer ${this.options.botToken}` },
      signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS),
    });
    const type = response.headers.get('content-type') ?? '';
    // Without a valid token Slack answers with its sign-in page instead of the file.
    if (!response.ok || type.startsWith('text/html')) {
      await response.body?.cancel();
      throw new SandbotError(
        'FILE_REJECTED',
        `could not download ${name} from Slack (HTTP ${response.status}${type.startsWith('text/html') ? ', a sign-in page' : ''}); the app needs the files:read scope`,
      );
    }
    return this.readCapped(response);
  }

  private async readCapped(response: Response): Promise<Buffer> {
    const chunks: Uint8Array[] = [];
    let total = 0;
    const reader = response.body?.getReader();
    if (reader === undefined) return Buffer.alloc(0);
    for (;;) {
      // Node's fetch types its body loosely; a body reader yields bytes.
      const { done, value } = (await reader.read()) as {
        done: boolean;
        value: Uint8Array | undefined;
      };
      if (done || value === undefined) break;
      chunks.push(value);
      total += value.length;
      if (total > this.options.maxBytes) {
        // Enough to know it is too big (the core says so); the rest is not downloaded.
        await reader.cancel();
        break;
      }
    }
    return Buffer.concat(chunks);
  }

  private isSlackHost(host: string): boolean {
    const name = host.replace(/:\d+$/, '').toLowerCase();
    return (
      name === 'slack.com' ||
      name.endsWith('.slack.com') ||
      name.endsWith('.slack-edge.com') ||
      host === this.extraHost
    );
  }
}
