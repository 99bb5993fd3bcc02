// The server's proration rule (kernel/proration.py and kernel.money.scale) mirrored for a preview in the browser:
// integers only (days as whole UTC day numbers, amounts as BigInt), so the estimate is the server's arithmetic.
// The server's answer is final: this only shows the price before the customer confirms.

const DAY = 86400000;

// "YYYY-MM-DD" -> a whole day number (days since 1970-01-01, UTC), or null when it is not such a date.
export function dayNumber(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(iso || ""));
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null;
  return ms / DAY;
}

export function isoOf(day) {
  return new Date(day * DAY).toISOString().slice(0, 10);
}

// Today as the server counts it (UTC).
export function todayIso(now = new Date()) {
  return now.toISOString().slice(0, 10);
}

// add_months: the same day of the month, or the target month's last day when it has fewer days.
export function addMonths(iso, months) {
  const [y, m, d] = iso.split("-").map(Number);
  const index = m - 1 + months;
  const year = y + Math.floor(index / 12);
  const month = index % 12; // 0-based
  const last = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return isoOf(Date.UTC(year, month, Math.min(d, last)) / DAY);
}

// scale: amount x numerator / denominator, rounded half away from zero (exact integers).
export function scale(amount, numerator, denominator) {
  const a = BigInt(amount);
  const sign = a < 0n ? -1n : 1n;
  const abs = a < 0n ? -a : a;
  const n = abs * BigInt(numerator);
  const den = BigInt(denominator);
  let q = n / den;
  const r = n % den;
  if (2n * r >= den) q += 1n;
  return Number(sign * q);
}

// prorate(price, start, months, on): {amount, remainingDays, termDays, termEnd} or {error: "start_date"} when
// `on` is outside the term (the server answers 422 naming start_date then).
export function prorate(price, start, months, on) {
  const end = addMonths(start, months);
  const termDays = dayNumber(end) - dayNumber(start);
  const remaining = dayNumber(end) - dayNumber(on);
  if (dayNumber(on) < dayNumber(start) || remaining < 1) return { error: "start_date", termDays };
  return { amount: scale(price, remaining, termDays), remainingDays: remaining, termDays, termEnd: end };
}

// The first term's net charge of a new subscription, per line as the server prices it:
// start omitted or today -> the whole price; backdated -> prorated from today; later (within a term) -> whole.
// lines: [{product_code, quantity, unit_price}] -> {lines: [{...line, full, amount, remainingDays, termDays}],
// net, prorated, error}
export function firstTermPreview(lines, start, months, today) {
  const from = start || today;
  const out = [];
  let net = 0;
  let prorated = false;
  if (dayNumber(from) === null) return { lines: out, net: null, prorated, error: "start_date" };
  if (dayNumber(from) > dayNumber(today) && dayNumber(from) >= dayNumber(addMonths(today, months))) {
    return { lines: out, net: null, prorated, error: "start_date" };
  }
  for (const line of lines) {
    const full = line.unit_price * line.quantity;
    if (dayNumber(from) < dayNumber(today)) {
      const p = prorate(full, from, months, today);
      if (p.error) return { lines: out, net: null, prorated, error: p.error };
      prorated = true;
      out.push({ ...line, full, amount: p.amount, remainingDays: p.remainingDays, termDays: p.termDays });
      net += p.amount;
    } else {
      out.push({ ...line, full, amount: full, remainingDays: null, termDays: null });
      net += full;
    }
  }
  return { lines: out, net, prorated, error: null };
}

// Inventory added mid-term: each line prorated from today over the current term (term_start, term_months).
export function inventoryPreview(lines, termStart, months, today) {
  let net = 0;
  const out = [];
  for (const line of lines) {
    const full = line.unit_price * line.quantity;
    const p = prorate(full, termStart, months, today);
    if (p.error) return { lines: out, net: null, error: p.error };
    out.push({ ...line, full, amount: p.amount, remainingDays: p.remainingDays, termDays: p.termDays });
    net += p.amount;
  }
  return { lines: out, net, error: null };
}
