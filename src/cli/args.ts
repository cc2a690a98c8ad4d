/** A small flag parser: `--name value`, `--flag`, and positionals. */
export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
}

export function parseArgs(args: string[], booleans: readonly string[] = []): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
    else if (booleans.includes(a.slice(2)) || i + 1 >= args.length || args[i + 1].startsWith('--'))
      flags.set(a.slice(2), true);
    else flags.set(a.slice(2), args[++i]);
  }
  return { positional, flags };
}

export const flag = (p: ParsedArgs, name: string): string | undefined => {
  const v = p.flags.get(name);
  return typeof v === 'string' ? v : undefined;
};
