// Money as `aiport usage` prints it: US dollars rounded to 6 decimals the way Python's
// format(x, '.6f') rounds the same number, so the console and the CLI never disagree.

const DECIMALS = 6;

/** `x` to 6 decimals. toFixed rounds the exact binary value like Python, except a tie
 * (exactly half way: an odd multiple of 1/128 at 6 decimals) goes up where Python goes
 * to the even digit. */
function fixed(x) {
  const ties = Number.isInteger(x * 128) && (x * 128) % 2 === 1;
  if (!ties) return x.toFixed(DECIMALS);
  let micros = Math.floor(x * 1e6); // exact: x * 1e6 = odd * 7812.5
  if (micros % 2 === 1) micros += 1;
  return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(DECIMALS, '0')}`;
}

/** `$1.234567`, `$0.50`: 6 decimals, trailing zeros dropped down to cents; `—` for none. */
export function usd(value) {
  if (value == null) return '—';
  return `$${fixed(value || 0).replace(/(\.\d\d\d*?)0+$/, '$1')}`;
}
