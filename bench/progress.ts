/** A line on stderr for the person watching a run; the report itself goes to stdout and the docs. */
export function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
