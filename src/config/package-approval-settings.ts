import { z } from 'zod';

/** People as ALLOWED_USERS and PACKAGE_APPROVERS name them: a person (platform:user-id), a
 *  Discord role (discord:role:<id>) or a Slack user group (slack:group:<id>). */
export const peopleList = z
  .string()
  .regex(
    /^(?:discord:role:\d{17,20}|slack:group:S[A-Z0-9]+|[a-z]+:[A-Za-z0-9._@-]+)(?:,\s*(?:discord:role:\d{17,20}|slack:group:S[A-Z0-9]+|[a-z]+:[A-Za-z0-9._@-]+))*$/,
  );

/** Who approves packages off SANDBOX_PACKAGES, and how long a turn waits for them
 *  (src/conversation/package-approvals.ts); spread into SETTINGS. */
export const PACKAGE_APPROVAL_SETTINGS = {
  PACKAGE_APPROVERS: {
    schema: peopleList,
    expected:
      'a comma-separated list of people who may approve packages off SANDBOX_PACKAGES, written as ALLOWED_USERS (slack:U012AB, discord:1234, discord:role:<id>, slack:group:<id>), or unset: off-list packages are refused',
  },
  PACKAGE_APPROVAL_TIMEOUT_MINUTES: {
    schema: z.coerce.number().int().min(1).max(1440).default(10),
    expected: 'a whole number of minutes from 1 to 1440 (how long an install waits for approvers)',
  },
};
