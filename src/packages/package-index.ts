import { FetchRefused, fetchBounded } from './fetch-bounded.ts';
import { parseHtmlPage, parseJsonPage, type IndexFile } from './index-page.ts';
import {
  MAX_METADATA_BYTES,
  metadataFromWheel,
  parseMetadata,
  type DistMetadata,
} from './wheel-metadata.ts';

/** A project page larger than this is not read (PyPI's largest are a few MB). */
const MAX_PAGE_BYTES = 20 * 1024 * 1024;

/** PEP 691 content negotiation: JSON when offered, else the PEP 503 HTML page. */
const ACCEPT =
  'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01';

export interface PackageIndexOptions {
  /** The simple index's base URL (SANDBOX_PACKAGE_INDEX). */
  readonly indexUrl: string;
  readonly maxWheelBytes: number;
  readonly signal?: AbortSignal;
}

/**
 * One install's view of the operator's simple index: project pages, metadata and wheels,
 * each fetched at most once (a wheel downloaded for its METADATA is not downloaded again).
 */
export class PackageIndex {
  private readonly options: PackageIndexOptions;
  private readonly pages = new Map<string, Promise<IndexFile[]>>();
  private readonly wheels = new Map<string, Promise<Buffer>>();

  constructor(options: PackageIndexOptions) {
    this.options = options;
  }

  /** The files the index lists for a normalised project name; [] when it has none. */
  files(name: string): Promise<IndexFile[]> {
    let page = this.pages.get(name);
    if (page === undefined) {
      page = this.fetchPage(name);
      this.pages.set(name, page);
    }
    return page;
  }

  private async fetchPage(name: string): Promise<IndexFile[]> {
    const base = this.options.indexUrl.endsWith('/')
      ? this.options.indexUrl
      : `${this.options.indexUrl}/`;
    const url = new URL(`${encodeURIComponent(name)}/`, base).toString();
    const body = await fetchBounded(url, {
      maxBytes: MAX_PAGE_BYTES,
      accept: ACCEPT,
      what: `the index page of ${name}`,
      ...this.signal(),
    });
    if (body.status === 404) return [];
    if (body.status >= 400) {
      throw new FetchRefused(`the package index answered ${body.status} for ${name}`);
    }
    const text = body.content.toString('utf8');
    if (body.contentType.includes('json')) {
      try {
        return parseJsonPage(JSON.parse(text), url);
      } catch {
        throw new FetchRefused(`the package index sent a malformed page for ${name}`);
      }
    }
    return parseHtmlPage(text, url);
  }

  /** A wheel's core metadata: PEP 658's file when advertised, else read from the wheel. */
  async metadata(file: IndexFile): Promise<DistMetadata> {
    let metadata: DistMetadata | undefined;
    if (file.metadata !== undefined) {
      const body = await fetchBounded(`${file.url}.metadata`, {
        maxBytes: MAX_METADATA_BYTES,
        what: `the metadata of ${file.fileName}`,
        ...(file.metadata.sha256 === undefined ? {} : { sha256: file.metadata.sha256 }),
        ...this.signal(),
      });
      if (body.status < 400) metadata = parseMetadata(body.content.toString('utf8'));
    }
    metadata ??= metadataFromWheel(await this.wheel(file));
    if (metadata === undefined) {
      throw new FetchRefused(`${file.fileName} has no readable METADATA`);
    }
    return metadata;
  }

  /** The wheel's bytes, capped while they stream and checked against the index's sha256. */
  wheel(file: IndexFile, maxBytes = this.options.maxWheelBytes): Promise<Buffer> {
    let wheel = this.wheels.get(file.url);
    if (wheel === undefined) {
      wheel = this.download(file, maxBytes);
      this.wheels.set(file.url, wheel);
      // A failed download may be retried (with another cap), never cached as a failure.
      wheel.catch(() => this.wheels.delete(file.url));
    }
    return wheel;
  }

  private async download(file: IndexFile, maxBytes: number): Promise<Buffer> {
    const body = await fetchBounded(file.url, {
      maxBytes,
      what: `the wheel ${file.fileName}`,
      ...(file.sha256 === undefined ? {} : { sha256: file.sha256 }),
      ...this.signal(),
    });
    if (body.status >= 400) {
      throw new FetchRefused(`the package index answered ${body.status} for ${file.fileName}`);
    }
    return body.content;
  }

  private signal(): { signal?: AbortSignal } {
    return this.options.signal === undefined ? {} : { signal: this.options.signal };
  }
}
