import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expandInputs, type InputItem, urlRelativePath } from '../../src/runs/inputs.js';
import { tempDir } from '../support/images.js';

let root: string;

async function collect(args: string[], options = {}): Promise<InputItem[]> {
  const items: InputItem[] = [];
  for await (const item of expandInputs(args, options)) items.push(item);
  return items;
}

beforeAll(async () => {
  root = await tempDir();
  await mkdir(path.join(root, 'a/b'), { recursive: true });
  await mkdir(path.join(root, '.hidden'), { recursive: true });
  await mkdir(path.join(root, 'out'), { recursive: true });
  for (const file of [
    'one.jpg',
    'a/two.png',
    'a/b/three.jpg',
    'a/notes.txt',
    '.DS_Store',
    '.hidden/x.jpg',
    'out/old.jpg',
  ]) {
    await writeFile(path.join(root, file), 'x');
  }
  await symlink(path.join(root, 'a'), path.join(root, 'loop'));
  await symlink(path.join(root, 'one.jpg'), path.join(root, 'link.jpg'));
});

describe('expandInputs', () => {
  it('walks directories recursively, skipping hidden entries, excluded folders and directory links', async () => {
    const skipped: string[] = [];
    const items = await collect([root], {
      exclude: [path.join(root, 'out')],
      onSkipped: (file: string) => skipped.push(path.relative(root, file)),
    });
    const rels = items.map((item) => (item.kind === 'file' ? item.rel : item.kind)).sort();
    expect(rels).toEqual(['a/b/three.jpg', 'a/two.png', 'link.jpg', 'one.jpg']);
    // Not an image by name, or hidden: passed over and told; a hidden folder is not walked.
    expect(skipped.sort()).toEqual(['.DS_Store', 'a/notes.txt']);
    // Named explicitly, it is yielded: its record says what it is.
    expect((await collect([path.join(root, 'a/notes.txt')])).map((i) => i.kind)).toEqual(['file']);
  });

  it('expands globs relative to their base, with ** for depth', async () => {
    const flat = await collect([`${root}/*.jpg`]);
    expect(flat.map((i) => (i.kind === 'file' ? i.rel : '')).sort()).toEqual(['link.jpg', 'one.jpg']);
    const deep = await collect([`${root}/a/**/*.{jpg,png}`]);
    expect(deep.map((i) => (i.kind === 'file' ? i.rel : '')).sort()).toEqual(['b/three.jpg', 'two.png']);
  });

  it('turns arguments that match nothing into NOT_FOUND items and goes on', async () => {
    const items = await collect([
      path.join(root, 'missing.jpg'),
      `${root}/*.gif`,
      path.join(root, 'one.jpg'),
    ]);
    expect(items.map((i) => i.kind)).toEqual(['error', 'error', 'file']);
    for (const item of items.slice(0, 2))
      if (item.kind === 'error') expect(item.error.code).toBe('NOT_FOUND');
  });

  it('passes URLs through with a safe relative path', async () => {
    const [item] = await collect(['https://cdn.example.com/a/../b/receipt%20one.jpg?sig=1']);
    expect(item).toMatchObject({
      kind: 'url',
      url: 'https://cdn.example.com/a/../b/receipt%20one.jpg?sig=1',
    });
    expect(urlRelativePath('https://x.test/../../etc/passwd')).toBe(path.join('x.test', 'etc', 'passwd'));
    expect(urlRelativePath('https://x.test/')).toBe(path.join('x.test', 'index'));
  });
});
