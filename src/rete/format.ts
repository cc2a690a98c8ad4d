/** Short human forms of counts and messages for the canvas. */

/** 1234 → "1.23k", 27_170_000 → "27.2M". */
export function formatCount(n: number): string {
  const abs = Math.abs(n);
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [size, suffix] of units) {
    if (abs >= size) {
      const v = n / size;
      return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)}${suffix}`;
    }
  }
  return String(Math.round(n));
}

/** Drops the "node 'x' (Title): " / "link a.b → c.d: " prefix that the canvas shows anyway. */
export function shortMessage(message: string): string {
  return message.replace(/^(node '[^']*'(?: \((?:[^()]|\([^()]*\))*\))?|link [^:]*→[^:]*): /, '');
}
