/**
 * The edges of the security guards, one expectation per boundary (written from the
 * mutation-testing report of stryker.security.config.mjs): exact limits, every secret query
 * parameter, whole-key replacement, the shortest secret, anchors of the environment rule.
 */
import { describe, expect, it } from 'vitest';
import {
  BlockedAddressError,
  checkAddress,
  guardedLookupFor,
  parseNetworks,
  unbracket,
} from '../../src/image/address-policy.js';
import {
  checkSchemaBudget,
  checkSourceBudget,
  PATTERN_LIMITS,
  SchemaBudget,
} from '../../src/patterns/budget.js';
import type { SchemaNode } from '../../src/patterns/types.js';
import {
  knownSecrets,
  REDACTED,
  redactDeep,
  redactSecrets,
  registerSecret,
  SECRET_QUERY_PARAMETERS,
  urlHasCredentials,
} from '../../src/secrets.js';

describe('secrets: exact edges', () => {
  it.each([...SECRET_QUERY_PARAMETERS])('hides the query parameter %s, keeps its name', (name) => {
    expect(redactSecrets(`https://h/x.png?w=1&${name}=v4lue9`)).toBe(
      `https://h/x.png?w=1&${name}=${REDACTED}`,
    );
  });

  it.each([
    ['Bearer abc.def', `${REDACTED}`],
    ['sk-abcd', REDACTED],
    ['x sk-abc y', 'x sk-abc y'], // too short to be a key
    [`AIza${'b'.repeat(10)}`, REDACTED],
    [`AIza${'b'.repeat(9)}`, `AIza${'b'.repeat(9)}`],
    ['imggo_live_k', REDACTED],
    [`ghp_${'a'.repeat(20)}`, REDACTED],
    [`ghp_${'a'.repeat(19)}`, `ghp_${'a'.repeat(19)}`],
    ['eyJabcdefgh.eyJabcdefgh.sig', REDACTED],
    ['AKIA1234567890ABCDEF', REDACTED],
  ])('replaces %j whole (or not at all)', (text, expected) => {
    expect(redactSecrets(text)).toBe(expected);
  });

  it('hides the whole Bearer value, up to a delimiter', () => {
    expect(redactSecrets('Authorization: Bearer abc.def, next')).toBe(`Authorization: ${REDACTED}, next`);
    expect(redactSecrets('"token": "Bearer xyz123"')).toBe(`"token": "${REDACTED}"`);
    expect(redactSecrets('Proxy-Authorization: Basic Zm9v')).toBe(`Proxy-Authorization: ${REDACTED}`);
    expect(redactSecrets('x-api-key: k1; y')).toBe(`x-api-key: ${REDACTED}; y`);
  });

  it('hides a whole query value, including an empty one', () => {
    expect(redactSecrets('https://h/x?token=abc&w=1')).toBe(`https://h/x?token=${REDACTED}&w=1`);
    expect(redactSecrets('https://h/x?token=&w=1')).toBe(`https://h/x?token=${REDACTED}&w=1`);
  });

  it('redacts given secrets of 8 characters or more, never shorter ones', () => {
    expect(redactSecrets('a 12345678 b', ['12345678'])).toBe(`a ${REDACTED} b`);
    expect(redactSecrets('a 1234567 b', ['1234567'])).toBe('a 1234567 b');
    expect(redactSecrets('a 12345678 b', [undefined, '12345678'])).toBe(`a ${REDACTED} b`);
    expect(knownSecrets({ A_API_KEY: '12345678', B_API_KEY: '1234567' })).toContain('12345678');
    expect(knownSecrets({ A_API_KEY: '12345678', B_API_KEY: '1234567' })).not.toContain('1234567');
  });

  it('takes environment names that END in a secret word only', () => {
    const env = {
      TOKEN_URL: 'https://tokens.example',
      API_KEY_FILE: '/run/secrets/key',
      MY_TOKEN: 'tok-abcdefgh',
    };
    expect(knownSecrets(env)).toEqual(expect.arrayContaining(['tok-abcdefgh']));
    expect(knownSecrets(env)).not.toContain('https://tokens.example');
    expect(knownSecrets(env)).not.toContain('/run/secrets/key');
  });

  it('lists known secrets longest first, so a longer key is hidden whole', () => {
    const env = { A_TOKEN: 'abcdefgh', B_TOKEN: 'abcdefghXYZ12345' };
    const known = knownSecrets(env);
    expect(known.indexOf('abcdefghXYZ12345')).toBeLessThan(known.indexOf('abcdefgh'));
  });
});

describe('address policy: messages and shapes', () => {
  it('unbrackets IPv6 hosts only when both brackets are there', () => {
    expect(unbracket('[::1]')).toBe('::1');
    expect(unbracket('[::1')).toBe('[::1');
    expect(unbracket('::1]')).toBe('::1]');
    expect(unbracket('example.com')).toBe('example.com');
  });

  it('a blocked address names the host, the address and the range', () => {
    const error = new BlockedAddressError('metadata.test', '169.254.169.254', 'linkLocal');
    expect(error.message).toBe(
      'metadata.test resolves to 169.254.169.254 (linkLocal), which is not a public address',
    );
    expect(error.code).toBe('EADDRBLOCKED');
  });
});

function chain(depth: number): SchemaNode {
  let node: SchemaNode = { type: 'string' };
  for (let i = 1; i < depth; i++) node = { type: 'object', properties: { f: node }, required: ['f'] };
  return node;
}

function wideNode(fields: number, description = ''): SchemaNode {
  const properties: Record<string, SchemaNode> = {};
  for (let i = 0; i < fields; i++)
    properties[`f${i}`] = description ? { type: 'string', description } : { type: 'string' };
  return { type: 'object', properties };
}

function nestedArrays(depth: number): unknown {
  let value: unknown = 'x';
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

describe('pattern budgets: exact limits', () => {
  it('source depth: exactly at the limit passes, one more fails', () => {
    expect(() => checkSourceBudget(nestedArrays(PATTERN_LIMITS.sourceDepth), 'p')).not.toThrow();
    expect(() => checkSourceBudget(nestedArrays(PATTERN_LIMITS.sourceDepth + 1), 'p')).toThrow(
      `p: pattern limit sourceDepth (${PATTERN_LIMITS.sourceDepth}) exceeded: the pattern nests deeper than ${PATTERN_LIMITS.sourceDepth} levels`,
    );
  });

  it('source nodes: exactly at the limit passes, one more fails', () => {
    const values = (n: number) => Array.from({ length: n - 1 }, () => 0); // the array itself is one value
    expect(() => checkSourceBudget(values(PATTERN_LIMITS.sourceNodes), 'p')).not.toThrow();
    expect(() => checkSourceBudget(values(PATTERN_LIMITS.sourceNodes + 1), 'p')).toThrow(
      `p: pattern limit sourceNodes (${PATTERN_LIMITS.sourceNodes}) exceeded: the pattern holds more than ${PATTERN_LIMITS.sourceNodes} values`,
    );
  });

  it('schema depth: a finished schema exactly at the limit passes, one more fails (message names the path)', () => {
    expect(() => checkSchemaBudget(chain(PATTERN_LIMITS.schemaDepth), 'p')).not.toThrow();
    expect(() => checkSchemaBudget(chain(PATTERN_LIMITS.schemaDepth + 1), 'p')).toThrow(
      /pattern limit schemaDepth \(32\) exceeded: fields nest deeper than 32 levels at (\/f){32}$/,
    );
  });

  it('schema nodes: exactly at the limit passes, one more fails', () => {
    expect(() => checkSchemaBudget(wideNode(PATTERN_LIMITS.schemaNodes - 1), 'p')).not.toThrow();
    expect(() => checkSchemaBudget(wideNode(PATTERN_LIMITS.schemaNodes), 'p')).toThrow(
      `p: pattern limit schemaNodes (${PATTERN_LIMITS.schemaNodes}) exceeded: the schema has more than ${PATTERN_LIMITS.schemaNodes} fields`,
    );
  });

  it('schema bytes: descriptions and names add up', () => {
    expect(() => checkSchemaBudget(wideNode(10, 'd'.repeat(100_000)), 'p')).not.toThrow();
    expect(() => checkSchemaBudget(wideNode(11, 'd'.repeat(100_000)), 'p')).toThrow(
      `p: pattern limit schemaBytes (${PATTERN_LIMITS.schemaBytes}) exceeded: the schema is larger than ${PATTERN_LIMITS.schemaBytes} bytes`,
    );
  });

  it('SchemaBudget counts depth in and out, nodes and bytes across siblings', () => {
    const budget = new SchemaBudget('p');
    // Many siblings at depth 2: depth comes back down after each one.
    budget.enter('', 10);
    for (let i = 0; i < 100; i++) {
      budget.enter(`/f${i}`, 10);
      budget.leave();
    }
    for (let d = 2; d <= PATTERN_LIMITS.schemaDepth; d++) budget.enter('/deep', 1);
    expect(() => budget.enter('', 1)).toThrow('fields nest deeper than 32 levels at the root');
    const nodes = new SchemaBudget('p');
    for (let i = 0; i < PATTERN_LIMITS.schemaNodes; i++) {
      nodes.enter('/x', 0);
      nodes.leave();
    }
    expect(() => nodes.enter('/last', 0)).toThrow(
      'the schema expands to more than 10000 fields (reached at /last)',
    );
    const bytes = new SchemaBudget('p');
    bytes.enter('', PATTERN_LIMITS.schemaBytes);
    bytes.leave();
    expect(() => bytes.enter('/b', 1)).toThrow(
      `the schema expands to more than ${PATTERN_LIMITS.schemaBytes} bytes (reached at /b)`,
    );
  });
});

describe('address policy: the lookup hook and single addresses', () => {
  const policy = {
    resolve: async () => [
      { address: '127.0.0.1', family: 4 },
      { address: '127.0.0.2', family: 4 },
    ],
    allowNetworks: ['127.0.0.0/8'],
  };
  const lookup = (options: Parameters<ReturnType<typeof guardedLookupFor>>[1], p = policy) =>
    new Promise<{ error: unknown; address: unknown; family: unknown }>((done) =>
      guardedLookupFor(p)('h.test', options, (error, address, family) => done({ error, address, family })),
    );

  it('answers one address, every address with all: true, and takes a family number', async () => {
    expect(await lookup({})).toEqual({ error: null, address: '127.0.0.1', family: 4 });
    expect(await lookup(4)).toEqual({ error: null, address: '127.0.0.1', family: 4 });
    expect(await lookup(undefined)).toEqual({ error: null, address: '127.0.0.1', family: 4 });
    expect((await lookup({ all: true })).address).toEqual(await policy.resolve());
  });

  it('a refused name calls back with the error and no address', async () => {
    const refused = await lookup({}, { ...policy, allowNetworks: [] });
    expect(refused.error).toBeInstanceOf(BlockedAddressError);
    expect(refused.address).toEqual([]);
  });

  it('a single IPv6 address allows that address only (/128), an IPv4 one /32', () => {
    expect(parseNetworks(['::1', '10.0.0.1']).map(([, bits]) => bits)).toEqual([128, 32]);
    expect(checkAddress('fd00::2', { allowNetworks: ['fd00::1'] }).allowed).toBe(false);
    expect(checkAddress('fd00::1', { allowNetworks: ['fd00::1'] }).allowed).toBe(true);
  });
});

describe('secrets: shapes hidden whole (mutation run 1 survivors)', () => {
  it('a Bearer value after several spaces, a whole ImgGo key, an Authorization value without a scheme', () => {
    expect(redactSecrets('Bearer    tok3n-value')).toBe(REDACTED);
    expect(redactSecrets('key imggo_live_abcDEF123 end')).toBe(`key ${REDACTED} end`);
    expect(redactSecrets('Authorization: tok3n-value')).toBe(`Authorization: ${REDACTED}`);
    expect(redactSecrets('authorization = tok3n-value')).toBe(`authorization = ${REDACTED}`);
  });
});

describe('pattern budgets: paths in messages, nulls, exact bytes, array items (mutation run 1 survivors)', () => {
  it('a path of 80 characters is named whole, a longer one by its last 80 after an ellipsis', () => {
    const deepAt = (path: string) => {
      const budget = new SchemaBudget('p');
      for (let d = 1; d <= PATTERN_LIMITS.schemaDepth; d++) budget.enter('/f', 0);
      return () => budget.enter(path, 0);
    };
    const exact = `/${'a'.repeat(79)}`;
    expect(deepAt(exact)).toThrow(new RegExp(`levels at ${exact}$`));
    const long = `/HEAD${'b'.repeat(80)}`;
    expect(deepAt(long)).toThrow(new RegExp(`levels at …${'b'.repeat(80)}$`));
  });

  it('a finished schema with long field names names the end of the path', () => {
    const key = 'k'.repeat(10);
    let node: SchemaNode = { type: 'string' };
    for (let i = 0; i < PATTERN_LIMITS.schemaDepth; i++)
      node = { type: 'object', properties: { [key]: node } };
    expect(() => checkSchemaBudget(node, 'p')).toThrow(
      /levels at …k{3}(\/k{10}){7}$/, // the last 80 characters: 3 of one name, then 7 × "/kkkkkkkkkk"
    );
  });

  it('null values in a pattern are leaves, not objects', () => {
    expect(() => checkSourceBudget({ a: null, b: [null, { c: null }] }, 'p')).not.toThrow();
  });

  it('schema bytes: exactly the limit passes, one byte more fails (field names count)', () => {
    const base =
      JSON.stringify({ type: 'object' }).length +
      'f0'.length +
      JSON.stringify({ type: 'string', description: '' }).length;
    const schema = (n: number): SchemaNode => ({
      type: 'object',
      properties: { f0: { type: 'string', description: 'd'.repeat(n) } },
    });
    expect(() => checkSchemaBudget(schema(PATTERN_LIMITS.schemaBytes - base), 'p')).not.toThrow();
    expect(() => checkSchemaBudget(schema(PATTERN_LIMITS.schemaBytes - base + 1), 'p')).toThrow(
      'the schema is larger than',
    );
  });

  it('array items count as a level, with "*" in the path', () => {
    const arrays = (depth: number): SchemaNode => {
      let node: SchemaNode = { type: 'string' };
      for (let i = 1; i < depth; i++) node = { type: 'array', items: node };
      return node;
    };
    expect(() => checkSchemaBudget(arrays(PATTERN_LIMITS.schemaDepth), 'p')).not.toThrow();
    expect(() => checkSchemaBudget(arrays(PATTERN_LIMITS.schemaDepth + 1), 'p')).toThrow(
      /fields nest deeper than 32 levels at (\/\*){32}$/,
    );
  });
});

describe('secrets: undefined values, credentials in URLs, redactDeep shapes (mutation run 1 survivors)', () => {
  it('registerSecret takes a key of exactly 8 characters and ignores undefined', () => {
    expect(() => registerSecret(undefined)).not.toThrow();
    registerSecret('rEg8chrs');
    expect(knownSecrets({})).toContain('rEg8chrs');
    expect(knownSecrets({}).every((s) => typeof s === 'string')).toBe(true);
  });

  it('an environment variable without a value is skipped', () => {
    expect(knownSecrets({ A_TOKEN: undefined, B_TOKEN: 'envtok-12345' })).toContain('envtok-12345');
  });

  it('a URL with a password and no user name carries credentials', () => {
    expect(urlHasCredentials('http://:pw@h/x.png')).toBe(true);
  });

  it('a query parameter name that is not valid percent-encoding is kept as it is', () => {
    expect(redactSecrets('https://h/x?%E0%A4%A=1&token=abc')).toBe(
      `https://h/x?%E0%A4%A=1&token=${REDACTED}`,
    );
  });

  it('redactDeep keeps arrays arrays, skips undefined and null, and notices a change in a key or a value alone', () => {
    const list = redactDeep(['ok', 'Bearer abc123']);
    expect(Array.isArray(list)).toBe(true);
    expect(list).toEqual(['ok', REDACTED]);
    const holes = { a: undefined, b: null, c: 1 };
    expect(redactDeep(holes)).toBe(holes);
    expect(redactDeep({ 'Bearer abc123': 1 })).toEqual({ [REDACTED]: 1 });
    expect(redactDeep({ auth: 'Bearer abc123' })).toEqual({ auth: REDACTED });
  });
});
