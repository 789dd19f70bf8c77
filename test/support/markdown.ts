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

/** A fenced block of a doc with where it is and whether the doc says it is not run. */
export interface DocBlock {
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  code: string;
  /** The `##` and `###` headings it is under (outermost first). */
  headings: string[];
  /** The reason of a `<!-- not-run: reason -->` comment on the line just above the fence. */
  notRun?: string;
}

/** Every fenced block of a markdown text, indented ones (in lists) too. */
export function docBlocks(markdown: string): DocBlock[] {
  const found: DocBlock[] = [];
  let h2 = '';
  let h3 = '';
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('## ')) [h2, h3] = [line.slice(3).trim(), ''];
    if (line.startsWith('### ')) h3 = line.slice(4).trim();
    const open = /^(\s*)```([\w-]*)\s*$/.exec(line);
    if (!open) continue;
    const start = i;
    const indent = open[1]!.length;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.trim().startsWith('```'); i++)
      body.push(lines[i]!.slice(indent));
    const above = /^\s*<!--\s*not-run:\s*(.*?)\s*-->\s*$/.exec(lines[start - 1] ?? '');
    found.push({
      line: start + 1,
      lang: open[2]!,
      code: body.join('\n'),
      headings: [h2, h3].filter(Boolean),
      ...(above ? { notRun: above[1]! } : {}),
    });
  }
  return found;
}
