/** One file a simple index lists for a project (PEP 503 HTML or PEP 691 JSON). */
export interface IndexFile {
  readonly fileName: string;
  /** Absolute, without its fragment. */
  readonly url: string;
  /** Lower-case hex, when the index gave one. */
  readonly sha256?: string;
  readonly requiresPython?: string;
  /**
   * PEP 658: the index serves the wheel's METADATA at `url + ".metadata"`; the sha256 of
   * that file when given, or '' when offered without a hash.
   */
  readonly metadata?: { readonly sha256?: string };
  readonly yanked: boolean;
}

const ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
};

function unescapeHtml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);/g, (whole, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(parseInt(entity.slice(1), 10));
    return ENTITIES[entity] ?? whole;
  });
}

function attributes(tag: string): Map<string, string> {
  const found = new Map<string, string>();
  const pattern = /([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g;
  for (const match of tag.matchAll(pattern)) {
    const name = match[1]?.toLowerCase();
    if (name === undefined) continue;
    found.set(name, unescapeHtml(match[2] ?? match[3] ?? match[4] ?? ''));
  }
  return found;
}

/** `sha256=<hex>` out of a fragment or an attribute value. */
function sha256Of(value: string | undefined): string | undefined {
  const match = /(?:^|[#&])sha256=([0-9a-fA-F]{64})/.exec(value ?? '');
  return match?.[1]?.toLowerCase();
}

function metadataOf(value: string | undefined): IndexFile['metadata'] {
  if (value === undefined || value === 'false') return undefined;
  const sha256 = sha256Of(value);
  return sha256 === undefined ? {} : { sha256 };
}

function splitUrl(href: string, base: string): { url: string; fragment: string } {
  const absolute = new URL(href, base);
  const fragment = absolute.hash.slice(1);
  absolute.hash = '';
  return { url: absolute.toString(), fragment };
}

/** The files of a PEP 503 HTML project page. */
export function parseHtmlPage(html: string, pageUrl: string): IndexFile[] {
  const files: IndexFile[] = [];
  for (const match of html.matchAll(/<a\s([^>]*)>([^<]*)<\/a\s*>/gi)) {
    const attrs = attributes(match[1] ?? '');
    const href = attrs.get('href');
    if (href === undefined) continue;
    const { url, fragment } = splitUrl(href, pageUrl);
    const fileName = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
    const sha256 = sha256Of(fragment);
    const requiresPython = attrs.get('data-requires-python');
    const metadata = metadataOf(
      attrs.get('data-core-metadata') ?? attrs.get('data-dist-info-metadata'),
    );
    files.push({
      fileName,
      url,
      yanked: attrs.has('data-yanked'),
      ...(sha256 === undefined ? {} : { sha256 }),
      ...(requiresPython === undefined || requiresPython === '' ? {} : { requiresPython }),
      ...(metadata === undefined ? {} : { metadata }),
    });
  }
  return files;
}

/** The files of a PEP 691 JSON project page (anything malformed in an entry skips it). */
export function parseJsonPage(body: unknown, pageUrl: string): IndexFile[] {
  const list = (body as { files?: unknown } | null)?.files;
  if (!Array.isArray(list)) return [];
  const files: IndexFile[] = [];
  for (const entry of list as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const e = entry as Record<string, unknown>;
    if (typeof e.filename !== 'string' || typeof e.url !== 'string') continue;
    const { url } = splitUrl(e.url, pageUrl);
    const hashes = e.hashes as Record<string, unknown> | undefined;
    const sha256 = typeof hashes?.sha256 === 'string' ? hashes.sha256.toLowerCase() : undefined;
    const core = e['core-metadata'] ?? e['dist-info-metadata'];
    const coreSha = (core as Record<string, unknown> | null)?.sha256;
    const metadata =
      core === true || (typeof core === 'object' && core !== null)
        ? typeof coreSha === 'string'
          ? { sha256: coreSha.toLowerCase() }
          : {}
        : undefined;
    const requiresPython = e['requires-python'];
    files.push({
      fileName: e.filename,
      url,
      yanked: e.yanked !== undefined && e.yanked !== false,
      ...(sha256 === undefined ? {} : { sha256 }),
      ...(typeof requiresPython === 'string' && requiresPython !== '' ? { requiresPython } : {}),
      ...(metadata === undefined ? {} : { metadata }),
    });
  }
  return files;
}
