// "did you mean ...?" for a mistyped command, option or configuration key: the closest known word within a
// small edit distance, or the only known word the typed one is a prefix of.

/** Edits (insert, delete, substitute, swap two neighbours) that turn a into b. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const above = d[i - 1] as number[];
      row[j] = Math.min((above[j] as number) + 1, (row[j - 1] as number) + 1, (above[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/** The known word the user most likely meant, if any is close enough to say so. */
export function closestWord(typed: string, known: readonly string[]): string | undefined {
  const prefixed = known.filter((word) => typed.length >= 2 && word.startsWith(typed));
  if (prefixed.length === 1) return prefixed[0];
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.min(2, Math.floor(typed.length / 3)));
  for (const word of known) {
    const distance = editDistance(typed, word);
    if (distance <= bestDistance && (best === undefined || distance < bestDistance)) {
      best = word;
      bestDistance = distance;
    }
  }
  return best;
}

/** " (did you mean --config?)" or "" when nothing is close. */
export function didYouMean(typed: string, known: readonly string[], prefix = ''): string {
  const word = closestWord(typed, known);
  return word === undefined ? '' : ` (did you mean ${prefix}${word}?)`;
}
