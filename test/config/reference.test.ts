// The configuration reference cannot drift from the schema: every key the schema accepts is
// shown in config/warren.example.yml (commented out where it has no default), every default
// the example shows is the schema's, and the README names every section and WARREN_* variable.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { ConfigSchema } from '../../src/config/config-schema.ts';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  patternProperties?: unknown;
  default?: unknown;
}

/** Every key path the schema accepts (`a.b`, `list[].c`), with its default; free-form objects end the walk. */
function schemaKeys(node: SchemaNode, at = '', out = new Map<string, unknown>()): Map<string, unknown> {
  for (const branch of node.anyOf ?? []) schemaKeys(branch, at, out);
  if (node.items) schemaKeys(node.items, `${at}[]`, out);
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const path = at ? `${at}.${key}` : key;
    out.set(path, child.default);
    schemaKeys(child, path, out);
  }
  return out;
}

/** The example with its commented-out keys (`# key: value`, `#   - item`) turned back on. */
function exampleWithCommentedKeys(): unknown {
  const text = read('config/warren.example.yml')
    .split('\n')
    .map((line) => line.replace(/^(\s*)# ?(\s*(?:[\w+-]+:(?:\s|$)|- ))/, '$1$2'))
    .join('\n');
  return parseYaml(text);
}

/** Key paths of a YAML document, with the scalar values at them. */
function documentKeys(value: unknown, at = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (Array.isArray(value)) {
    for (const item of value) documentKeys(item, `${at}[]`, out);
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      const path = at ? `${at}.${key}` : key;
      out.set(path, child);
      documentKeys(child, path, out);
    }
  }
  return out;
}

const schema = schemaKeys(ConfigSchema);
const example = documentKeys(exampleWithCommentedKeys());

describe('configuration reference', () => {
  it('shows every key of the schema in config/warren.example.yml', () => {
    const shortForm = (path: string) => [...example].some(([p, v]) => path.startsWith(`${p}.`) && typeof v !== 'object');
    const missing = [...schema.keys()].filter((path) => !example.has(path) && !shortForm(path));
    assert.deepEqual(missing, [], 'keys the schema accepts that the example does not show');
  });

  it('shows only keys the schema accepts', () => {
    const free = (path: string) => /(^|\.)(metadata|definition)(\.|$)/.test(path);
    const unknown = [...example.keys()].filter((path) => !schema.has(path) && !free(path));
    assert.deepEqual(unknown, [], 'keys in the example that the schema would reject');
  });

  it("shows each default as the schema's, outside the sample catalog", () => {
    const wrong = [...schema]
      .filter(([path, dflt]) => !path.startsWith('catalog.') && dflt !== undefined && typeof dflt !== 'object' && example.has(path))
      .filter(([path, dflt]) => example.get(path) !== dflt)
      .map(([path, dflt]) => `${path}: example ${String(example.get(path))}, schema ${String(dflt)}`);
    assert.deepEqual(wrong, []);
  });

  it('names every top-level key, every rabbitmq key and every WARREN_* variable in the README', () => {
    const readme = read('README.md');
    const sections = [...schema.keys()].filter((p) => /^[\w]+$/.test(p) || /^rabbitmq\.\w+$/.test(p));
    const undocumented = sections.filter((p) => !readme.includes(`\`${p}\``) && !readme.includes(`\`${p}.`) && !readme.includes(`\`${p} `));
    assert.deepEqual(undocumented, [], 'configuration keys missing from the README table');
    const variables = [...new Set(read('src/config/load-config.ts').match(/WARREN_[A-Z_]+/g) ?? [])];
    assert.ok(variables.length >= 10, 'the loader reads its variables from process.env');
    assert.deepEqual(variables.filter((v) => !readme.includes(`\`${v}\``)), [], 'WARREN_* variables missing from the README');
  });
});
