import { rcompare, satisfies, valid } from '@renovatebot/pep440';
import type { Allowlist } from './allowlist.ts';
import { FetchRefused } from './fetch-bounded.ts';
import type { IndexFile } from './index-page.ts';
import { evaluateMarker, MarkerError } from './markers.ts';
import { isRequirement, parseRequirement, type Requirement } from './requirement.ts';
import { describeTarget, markerEnvironment, type TargetPlatform } from './target-platform.ts';
import type { DistMetadata } from './wheel-metadata.ts';
import { parseWheelName, wheelScore } from './wheel-tags.ts';

/** A package that will not be installed, and why, in words for the user and the model. */
export interface Refusal {
  readonly name: string;
  readonly reason: string;
  /** True when the only obstacle is the allowlist (an approver could allow it). */
  readonly offAllowlist: boolean;
}

/** A resolved distribution: the wheel chosen for it and the requests that need it. */
export interface Pick {
  readonly name: string;
  readonly version: string;
  readonly file: IndexFile;
  readonly roots: Set<string>;
}

export interface Resolution {
  readonly picks: Pick[];
  readonly refused: Refusal[];
  /** Requested names the image (or an earlier install) already has: nothing to do. */
  readonly present: string[];
}

/** What resolution reads of the index (PackageIndex; a fake in unit tests). */
export interface IndexReader {
  files(name: string): Promise<IndexFile[]>;
  metadata(file: IndexFile): Promise<DistMetadata>;
}

export interface ResolveOptions {
  readonly index: IndexReader;
  readonly allow: Allowlist;
  readonly target: TargetPlatform;
  /** Normalised names of the image's own distributions (the kernel's `ready` list). */
  readonly imagePackages: ReadonlySet<string>;
  /** What this session installed earlier, by normalised name -> version. */
  readonly installed: ReadonlyMap<string, string>;
}

class Refused extends Error {
  readonly refusal: Refusal;
  constructor(refusal: Refusal) {
    super(refusal.reason);
    this.refusal = refusal;
  }
}

function refuse(name: string, reason: string, offAllowlist = false): never {
  throw new Refused({ name, reason, offAllowlist });
}

interface Chosen {
  readonly version: string;
  readonly file?: IndexFile;
  readonly metadata?: DistMetadata;
  readonly extras: Set<string>;
  readonly roots: Set<string>;
}

interface Pending {
  readonly requirement: Requirement;
  readonly parent: string | undefined;
}

/**
 * Greedy resolution (no backtracking): each name gets the newest version with a compatible
 * wheel that satisfies every specifier seen so far and the allowlist; a later specifier the
 * chosen version breaks is a conflict, refused with both sides named. Every name is checked
 * against the allowlist before anything of it is fetched. Each requested package is resolved
 * with its dependencies as a unit: a refusal anywhere in it refuses that request, not the others.
 */
export async function resolve(
  requests: readonly string[],
  options: ResolveOptions,
): Promise<Resolution> {
  const chosen = new Map<string, Chosen>();
  const specifiers = new Map<string, string[]>();
  const refused: Refusal[] = [];
  const present: string[] = [];
  for (const text of requests) {
    const parsed = parseRequirement(text.trim());
    if (!isRequirement(parsed)) {
      refused.push({
        name: text.trim().slice(0, 100),
        reason: parsed.problem,
        offAllowlist: false,
      });
      continue;
    }
    const root = parsed.name;
    if (options.imagePackages.has(root) || options.installed.has(root)) {
      const version = options.installed.get(root);
      if (version === undefined || satisfies(version, parsed.specifier)) {
        present.push(root);
        continue;
      }
    }
    refused.push(...(await resolveAtomically(parsed, chosen, specifiers, options)));
  }
  const picks: Pick[] = [];
  for (const [name, c] of chosen) {
    if (c.file !== undefined)
      picks.push({ name, version: c.version, file: c.file, roots: c.roots });
  }
  return { picks, refused, present };
}

/** Resolves one request into `chosen` and `specifiers`, or leaves them as they were. */
async function resolveAtomically(
  request: Requirement,
  chosen: Map<string, Chosen>,
  specifiers: Map<string, string[]>,
  options: ResolveOptions,
): Promise<Refusal[]> {
  const root = request.name;
  const tryChosen = new Map(
    [...chosen].map(([k, v]) => [k, { ...v, extras: new Set(v.extras), roots: new Set(v.roots) }]),
  );
  const trySpecifiers = new Map([...specifiers].map(([k, v]) => [k, [...v]]));
  try {
    await resolveUnit(request, tryChosen, trySpecifiers, options);
  } catch (error) {
    if (error instanceof FetchRefused)
      return [{ name: root, reason: error.message, offAllowlist: false }];
    if (!(error instanceof Refused)) throw error;
    if (error.refusal.name === root) return [error.refusal];
    return [
      error.refusal,
      {
        name: root,
        reason: `it needs ${error.refusal.name}, which was refused`,
        offAllowlist: false,
      },
    ];
  }
  chosen.clear();
  for (const [k, v] of tryChosen) chosen.set(k, v);
  specifiers.clear();
  for (const [k, v] of trySpecifiers) specifiers.set(k, v);
  return [];
}

async function resolveUnit(
  root: Requirement,
  chosen: Map<string, Chosen>,
  specifiers: Map<string, string[]>,
  options: ResolveOptions,
): Promise<void> {
  const queue: Pending[] = [{ requirement: root, parent: undefined }];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const { requirement, parent } = next;
    const { name } = requirement;
    const neededBy = parent === undefined ? '' : ` (needed by ${parent})`;
    // The image's own packages are not replaced (the kernel lists names, not versions).
    if (parent !== undefined && options.imagePackages.has(name)) continue;
    if (!options.allow.allowsName(name) && !options.installed.has(name)) {
      refuse(name, `${name} is not on this bot's package allowlist${neededBy}`, true);
    }
    const seen = [...(specifiers.get(name) ?? []), requirement.specifier].filter((s) => s !== '');
    specifiers.set(name, seen);
    const existing = chosen.get(name) ?? installedChoice(name, options);
    if (existing !== undefined) {
      chosen.set(name, existing);
      existing.roots.add(root.name);
      if (requirement.specifier !== '' && !satisfies(existing.version, requirement.specifier)) {
        refuse(
          name,
          `version conflict: ${name} ${existing.version} was chosen, but ${parent ?? 'the request'} needs ${name}${requirement.specifier}`,
        );
      }
      const newExtras = requirement.extras.filter((e) => !existing.extras.has(e));
      for (const extra of newExtras) existing.extras.add(extra);
      if (newExtras.length > 0 && existing.metadata !== undefined) {
        queue.push(...dependencies(existing.metadata, newExtras, false, options.target));
      }
      continue;
    }
    const { file, metadata } = await choose(name, seen, options);
    chosen.set(name, {
      version: metadata.version,
      file,
      metadata,
      extras: new Set(requirement.extras),
      roots: new Set([root.name]),
    });
    queue.push(...dependencies(metadata, requirement.extras, true, options.target));
  }
}

function installedChoice(name: string, options: ResolveOptions): Chosen | undefined {
  const version = options.installed.get(name);
  return version === undefined ? undefined : { version, extras: new Set(), roots: new Set() };
}

/** The requirements of `metadata` that apply on the target for these extras. */
function dependencies(
  metadata: DistMetadata,
  extras: readonly string[],
  base: boolean,
  target: TargetPlatform,
): Pending[] {
  const out: Pending[] = [];
  const environments = [...(base ? [''] : []), ...extras].map((e) => markerEnvironment(target, e));
  for (const text of metadata.requiresDist) {
    const requirement = parseRequirement(text);
    if (!isRequirement(requirement)) {
      refuse(
        metadata.name,
        `its dependency "${text.slice(0, 100)}" cannot be read: ${requirement.problem}`,
      );
    }
    let applies = false;
    try {
      applies = environments.some((env) => evaluateMarker(requirement.marker, env));
    } catch (error) {
      if (!(error instanceof MarkerError)) throw error;
      refuse(
        metadata.name,
        `the marker of its dependency ${requirement.name} cannot be read: ${error.message}`,
      );
    }
    if (applies) out.push({ requirement, parent: metadata.name });
  }
  return out;
}

/** Whether a Requires-Python specifier admits the target's Python. */
function pythonFits(requiresPython: string | undefined, target: TargetPlatform): boolean {
  if (requiresPython === undefined) return true;
  try {
    return satisfies(target.pythonFullVersion, requiresPython.replace(/\s+/g, ''));
  } catch {
    return false;
  }
}

/** The newest acceptable version's best wheel, with its metadata. */
async function choose(
  name: string,
  specs: readonly string[],
  options: ResolveOptions,
): Promise<{ file: IndexFile; metadata: DistMetadata }> {
  const files = await options.index.files(name);
  if (files.length === 0) refuse(name, `the package index has no package named ${name}`);
  const pinned = specs.some((s) => s.startsWith('=='));
  const byVersion = new Map<string, { file: IndexFile; score: number }>();
  let anyWheel = false;
  for (const file of files) {
    const wheel = parseWheelName(file.fileName);
    if (wheel === undefined) continue;
    anyWheel = true;
    const score = wheelScore(wheel, options.target);
    if (score === undefined || valid(wheel.version) === null) continue;
    if (file.yanked && !pinned) continue;
    if (!pythonFits(file.requiresPython, options.target)) continue;
    const best = byVersion.get(wheel.version);
    if (best === undefined || score > best.score) byVersion.set(wheel.version, { file, score });
  }
  if (byVersion.size === 0) {
    const why = anyWheel ? '' : ' (the index has only source distributions)';
    refuse(
      name,
      `only wheels are installed; ${name} has no wheel for ${describeTarget(options.target)}${why}`,
    );
  }
  const allowSpec = options.allow.specifierOf(name);
  const wanted = [...specs, ...(allowSpec === '' ? [] : [allowSpec])].join(',');
  const versions = [...byVersion.keys()].sort(rcompare);
  const version = versions.find((v) => satisfies(v, wanted));
  if (version === undefined) {
    const onlyAllowlist =
      allowSpec !== '' && versions.some((v) => specs.every((s) => satisfies(v, s)));
    refuse(
      name,
      onlyAllowlist
        ? `the allowlist allows only ${name}${allowSpec}, and no such wheel fits the request`
        : `no version of ${name} satisfies ${specs.join(',') || 'the request'} with a wheel for ${describeTarget(options.target)}`,
      onlyAllowlist,
    );
  }
  const file = (byVersion.get(version) as { file: IndexFile }).file;
  const metadata = await options.index.metadata(file);
  if (!pythonFits(metadata.requiresPython, options.target)) {
    refuse(name, `${name} ${version} needs Python ${metadata.requiresPython ?? ''}`);
  }
  return { file, metadata: { ...metadata, name, version } };
}
