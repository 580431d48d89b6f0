/** One part of `npm run bench`. Add a file under bench/sections and list it in bench/index.ts. */
export interface BenchSection {
  name: string;
  description: string;
  run(): Promise<BenchResult>;
}

export interface BenchResult {
  /** Rows of a Markdown table, first row is the header. */
  table: string[][];
  notes?: string[];
}

export function markdownTable(rows: string[][]): string {
  const [header, ...body] = rows;
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...body.map((row) => `| ${row.join(' | ')} |`)].join(
    '\n',
  );
}
