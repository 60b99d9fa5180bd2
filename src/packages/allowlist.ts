import { satisfies } from '@renovatebot/pep440';
import { normalizeName } from './package-name.ts';

/**
 * SANDBOX_PACKAGES: which names may be installed, and at which versions. `*` allows any name
 * (an entry with a specifier still narrows its own name's versions).
 */
export class Allowlist {
  private readonly any: boolean;
  /** Normalised name -> specifier ('' for any version). */
  private readonly entries = new Map<string, string>();

  constructor(entries: readonly string[], approved: readonly string[] = []) {
    let any = false;
    for (const entry of entries) {
      if (entry.trim() === '*') {
        any = true;
        continue;
      }
      const match = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)$/.exec(entry);
      if (match?.[1] === undefined) continue;
      this.entries.set(normalizeName(match[1]), (match[2] ?? '').replace(/\s+/g, ''));
    }
    // Names the bot's approvers allowed for this install, at any version.
    for (const name of approved) {
      const key = normalizeName(name);
      if (!this.entries.has(key)) this.entries.set(key, '');
    }
    this.any = any;
  }

  /** Whether the name may be installed at some version. */
  allowsName(name: string): boolean {
    return this.any || this.entries.has(normalizeName(name));
  }

  /** The version specifier the allowlist puts on the name ('' when none). */
  specifierOf(name: string): string {
    return this.entries.get(normalizeName(name)) ?? '';
  }

  allows(name: string, version: string): boolean {
    if (!this.allowsName(name)) return false;
    const specifier = this.specifierOf(name);
    return specifier === '' || satisfies(version, specifier);
  }
}
