// "did you mean ...?" for a mistyped command or option: the closest known word within a
// small edit distance, or the only known word the typed one is a prefix of.

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] as number;
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
