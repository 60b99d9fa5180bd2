import { validRange } from '@renovatebot/pep440';
import { normalizeName, PROJECT_NAME } from './package-name.ts';

/** One PEP 508 requirement, as `Requires-Dist` or a user writes it (URLs are not taken). */
export interface Requirement {
  /** Normalised (package-name.ts). */
  readonly name: string;
  readonly extras: readonly string[];
  /** A PEP 440 specifier set such as `>=1.2,<2`; empty: any version. */
  readonly specifier: string;
  /** The environment marker after `;`, unparsed; empty: always. */
  readonly marker: string;
}

/** Longest requirement string taken; metadata and users have no use for more. */
const MAX_REQUIREMENT_CHARS = 1000;

/** Parses a requirement, or says in a few words why it is not one. */
export function parseRequirement(text: string): Requirement | { problem: string } {
  if (text.length > MAX_REQUIREMENT_CHARS) return { problem: 'the requirement is too long' };
  const semicolon = text.indexOf(';');
  const head = (semicolon === -1 ? text : text.slice(0, semicolon)).trim();
  const marker = semicolon === -1 ? '' : text.slice(semicolon + 1).trim();
  if (head.includes('@')) return { problem: 'only names from the package index can be installed' };
  const match = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?\s*(.*)$/.exec(head);
  const rawName = match?.[1];
  if (match === null || rawName === undefined || !PROJECT_NAME.test(rawName)) {
    return { problem: 'it is not a package name' };
  }
  const extras = (match[2] ?? '')
    .split(',')
    .map((extra) => extra.trim())
    .filter((extra) => extra !== '')
    .map(normalizeName);
  let specifier = (match[3] ?? '').trim();
  // The old form `name (>=1.0)`, still found in metadata.
  if (specifier.startsWith('(') && specifier.endsWith(')')) specifier = specifier.slice(1, -1);
  specifier = specifier.replace(/\s+/g, '');
  if (specifier !== '' && !validRange(specifier)) {
    return { problem: `${specifier} is not a version specifier` };
  }
  return { name: normalizeName(rawName), extras, specifier, marker };
}

export function isRequirement(value: Requirement | { problem: string }): value is Requirement {
  return !('problem' in value);
}
