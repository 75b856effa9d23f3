/**
 * Keeps a plugin's documented error codes and its code in step: the codes of a markdown table's
 * first column (rows like `` | `DOWNLOAD_HTTP` | meaning | what to do | ``).
 */
export function documentedErrorCodes(markdown: string, prefix: string): string[] {
  const row = new RegExp(`^\\| \`(${prefix}[A-Z0-9_]*)\` \\|[^\\n]+\\|[^\\n]+\\|\\s*$`, 'gm');
  return [...markdown.matchAll(row)].map((m) => m[1]!);
}
