import { satisfies, valid } from '@renovatebot/pep440';

/** The PEP 508 marker variables of the sandbox image, plus the `extra` being resolved. */
export type MarkerEnvironment = Readonly<Record<string, string>>;

type Token =
  | { kind: 'string'; value: string }
  | { kind: 'variable'; value: string }
  | { kind: 'op'; value: string }
  | { kind: 'paren'; value: '(' | ')' }
  | { kind: 'bool'; value: 'and' | 'or' };

const VARIABLES = new Set([
  'python_version',
  'python_full_version',
  'os_name',
  'sys_platform',
  'platform_release',
  'platform_system',
  'platform_version',
  'platform_machine',
  'platform_python_implementation',
  'implementation_name',
  'implementation_version',
  'extra',
  // Deprecated spellings PEP 508 still accepts.
  'os.name',
  'sys.platform',
  'platform.version',
  'platform.machine',
  'platform.python_implementation',
  'python_implementation',
]);

/** Thrown for a marker that cannot be read; the requirement it guards is then refused. */
export class MarkerError extends Error {}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const pattern =
    /\s*(?:(["'])(.*?)\1|(\(|\))|(===|==|!=|<=|>=|~=|<|>|not\s+in\b|in\b)|(and\b|or\b)|([A-Za-z_][A-Za-z0-9_.]*))/y;
  let index = 0;
  while (index < text.length) {
    if (/^\s*$/.test(text.slice(index))) break;
    pattern.lastIndex = index;
    const match = pattern.exec(text);
    if (match === null) throw new MarkerError(`cannot read the marker at "${text.slice(index)}"`);
    index = pattern.lastIndex;
    if (match[1] !== undefined) tokens.push({ kind: 'string', value: match[2] ?? '' });
    else if (match[3] !== undefined) tokens.push({ kind: 'paren', value: match[3] as '(' | ')' });
    else if (match[4] !== undefined)
      tokens.push({ kind: 'op', value: match[4].replace(/\s+/g, ' ') });
    else if (match[5] !== undefined) tokens.push({ kind: 'bool', value: match[5] as 'and' | 'or' });
    else if (match[6] !== undefined) {
      if (!VARIABLES.has(match[6])) throw new MarkerError(`unknown marker variable ${match[6]}`);
      tokens.push({ kind: 'variable', value: match[6].replace('.', '_') });
    }
  }
  return tokens;
}

const VERSION_VARIABLES = new Set([
  'python_version',
  'python_full_version',
  'implementation_version',
]);

function compare(left: string, op: string, right: string, versions: boolean): boolean {
  if (op === 'in') return right.includes(left);
  if (op === 'not in') return !right.includes(left);
  if (op === '===') return left === right;
  // PEP 508: version comparison where both sides are versions, else plain strings.
  if (versions && valid(left) !== null && (op === '!=' || op === '==' || valid(right) !== null)) {
    return satisfies(left, `${op}${right}`);
  }
  if (op === '==') return left === right;
  if (op === '!=') return left !== right;
  throw new MarkerError(`cannot compare "${left}" ${op} "${right}"`);
}

/** Evaluates a PEP 508 environment marker; an empty marker is true. Throws MarkerError. */
export function evaluateMarker(marker: string, env: MarkerEnvironment): boolean {
  const tokens = tokenize(marker);
  if (tokens.length === 0) return true;
  let position = 0;
  const peek = (): Token | undefined => tokens[position];
  const next = (): Token => {
    const token = tokens[position++];
    if (token === undefined) throw new MarkerError('the marker ends too early');
    return token;
  };
  const value = (token: Token): { text: string; variable?: string } => {
    if (token.kind === 'string') return { text: token.value };
    if (token.kind === 'variable') {
      const text = env[token.value] ?? '';
      // `extra` compares normalised names (PEP 685).
      return { text, variable: token.value };
    }
    throw new MarkerError('expected a value in the marker');
  };
  const atom = (): boolean => {
    const token = next();
    if (token.kind === 'paren' && token.value === '(') {
      const result = or();
      const close = next();
      if (close.kind !== 'paren' || close.value !== ')') throw new MarkerError('unclosed (');
      return result;
    }
    const left = value(token);
    const op = next();
    if (op.kind !== 'op') throw new MarkerError('expected a comparison in the marker');
    const right = value(next());
    const variable = left.variable ?? right.variable;
    if (variable === 'extra') {
      const norm = (s: string) => s.toLowerCase().replace(/[-_.]+/g, '-');
      return compare(norm(left.text), op.value, norm(right.text), false);
    }
    return compare(left.text, op.value, right.text, VERSION_VARIABLES.has(variable ?? ''));
  };
  const and = (): boolean => {
    let result = atom();
    while (peek()?.kind === 'bool' && peek()?.value === 'and') {
      position++;
      // Both sides are read, so a malformed right side is an error whatever the left says.
      const right = atom();
      result = result && right;
    }
    return result;
  };
  const or = (): boolean => {
    let result = and();
    while (peek()?.kind === 'bool' && peek()?.value === 'or') {
      position++;
      const right = and();
      result = result || right;
    }
    return result;
  };
  const result = or();
  if (position !== tokens.length) throw new MarkerError('unexpected text at the end of the marker');
  return result;
}
