import { strFromU8, unzipSync } from 'fflate';
import { normalizeName } from './package-name.ts';

/** What the resolver needs of a distribution's core metadata (METADATA, PEP 566/643). */
export interface DistMetadata {
  readonly name: string;
  readonly version: string;
  readonly requiresDist: readonly string[];
  readonly requiresPython?: string;
}

/** METADATA larger than this is not a package's (it is refused rather than read). */
export const MAX_METADATA_BYTES = 1024 * 1024;

/**
 * Reads the headers of a METADATA file (RFC 822 style, folded lines, the description after a
 * blank line is ignored).
 */
export function parseMetadata(text: string): DistMetadata | undefined {
  const headerEnd = text.search(/\r?\n\r?\n/);
  const head = headerEnd === -1 ? text : text.slice(0, headerEnd);
  const fields: [string, string][] = [];
  for (const line of head.split(/\r?\n/)) {
    const last = fields.at(-1);
    if (/^[ \t]/.test(line) && last !== undefined) {
      last[1] += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    fields.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  const first = (key: string) => fields.find(([k]) => k === key)?.[1];
  const name = first('name');
  const version = first('version');
  if (name === undefined || version === undefined) return undefined;
  const requiresPython = first('requires-python');
  return {
    name: normalizeName(name),
    version,
    requiresDist: fields.filter(([k]) => k === 'requires-dist').map(([, v]) => v),
    ...(requiresPython === undefined || requiresPython === '' ? {} : { requiresPython }),
  };
}

/**
 * The METADATA inside a wheel (its `<name>-<version>.dist-info/METADATA` at the top level),
 * or undefined when the zip has none or cannot be read. Only that one member is inflated.
 */
export function metadataFromWheel(wheel: Buffer): DistMetadata | undefined {
  let found: Record<string, Uint8Array>;
  try {
    found = unzipSync(wheel, {
      filter: (file) =>
        /^[^/]+\.dist-info\/METADATA$/.test(file.name) && file.originalSize <= MAX_METADATA_BYTES,
    });
  } catch {
    return undefined;
  }
  const member = Object.values(found)[0];
  return member === undefined ? undefined : parseMetadata(strFromU8(member));
}
