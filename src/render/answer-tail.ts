/**
 * The end of an answer still being written, cut to fit a status message: the newest words
 * matter most, and a leading ellipsis says the start is missing.
 */
export function answerTail(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  if (maxChars <= 0) return '';
  let tail = text.slice(text.length - (maxChars - 1));
  // A cut between the halves of a surrogate pair would leave half an emoji.
  if (/^[\uDC00-\uDFFF]/.test(tail)) tail = tail.slice(1);
  return `…${tail}`;
}
