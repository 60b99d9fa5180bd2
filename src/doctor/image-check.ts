import { errorMessage } from '../core/errors.ts';
import { isNotFound, type Docker } from '../sandbox/docker-client.ts';
import { fail, ok, type CheckResult } from './check.ts';

/** The OCI label a build stamps its version in. */
const VERSION_LABEL = 'org.opencontainers.image.version';
/** Packages shown before the list is cut short. */
const SHOWN_PACKAGES = 12;

/**
 * The sandbox image: built, its size, its version label and the package list it carries (a
 * label whose name ends in `packages`: names separated by commas, spaces or newlines), which
 * is what a derived image's operator wants to see confirmed. Missing labels are said, not
 * failed: an image built before they existed still runs.
 */
export async function checkImage(docker: Docker, image: string): Promise<CheckResult> {
  try {
    const inspected = await docker.getImage(image).inspect();
    const sizeMb = Math.round(inspected.Size / 1e6);
    // Typed as always present, but the engine sends null for an image without labels.
    const labels = (inspected.Config.Labels as Record<string, string> | null) ?? {};
    const version = labels[VERSION_LABEL];
    const parts = [
      `${image} (${sizeMb} MB)`,
      version === undefined ? 'no version label' : `version ${version}`,
      describePackages(labels),
    ];
    return ok('sandbox image', parts.join(', '));
  } catch (error) {
    if (isNotFound(error)) {
      return fail(
        'sandbox image',
        `${image} is not built`,
        'run `npm run sandbox:build` (works offline; about a minute)',
      );
    }
    return fail('sandbox image', errorMessage(error), 'check that the Docker engine is healthy');
  }
}

function describePackages(labels: Record<string, string>): string {
  const key = Object.keys(labels).find((name) => /(^|[.\-_])packages$/.test(name));
  if (key === undefined) return 'no package list in the image (no *packages label)';
  const names = (labels[key] ?? '').split(/[\s,]+/).filter((name) => name !== '');
  const shown = names.slice(0, SHOWN_PACKAGES).join(', ');
  const more = names.length > SHOWN_PACKAGES ? ` and ${names.length - SHOWN_PACKAGES} more` : '';
  return `${names.length} packages listed (${shown}${more})`;
}
