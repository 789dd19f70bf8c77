/** Reading docs for the tests that run them: fenced code blocks by `## ` section. */

export interface FencedBlock {
  /** The `## ` heading the block is under ('' before the first). */
  section: string;
  /** The info string's language (`sh`, `ts`, or ''). */
  lang: string;
  code: string;
}

/** The fenced blocks of a markdown text, in order, under each `## ` section. */
export function fencedBlocks(markdown: string): FencedBlock[] {
  const found: FencedBlock[] = [];
  let section = '';
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('## ')) section = line.slice(3).trim();
    const open = /^```(\w*)\s*$/.exec(line);
    if (!open) continue;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.startsWith('```'); i++) body.push(lines[i]!);
    found.push({ section, lang: open[1]!, code: body.join('\n') });
  }
  return found;
}
