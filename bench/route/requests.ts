// The URLs of the load: what Asterisk's dialplan sends for the first step of a call.

/** Mulberry32: a small seeded PRNG, so two runs send the same callers in the same order. */
function prng(seedValue: number) {
  let a = seedValue >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Step-1 questions as Asterisk sends them: the caller as trunks write it (`7916…`, `+7916…`,
 * `8916…`), a `knownShare` of them numbers of seeded clients and the rest unknown (`+7995…`,
 * never seeded), a seeded DID (without `+`, as EXTEN), and a fresh Asterisk-like linkedid per
 * request. The phase prefix of the linkedid lets the trace be read per phase.
 */
export function pathFactory(
  prefix: string,
  fixtures: { known: string[]; dids: string[] },
  opts: { seed: number; token: string; knownShare: number },
) {
  const random = prng(opts.seed);
  const epoch = Math.floor(Date.now() / 1000);
  let seq = 0;
  return () => {
    seq += 1;
    let caller: string;
    if (random() < opts.knownShare) {
      const e164 = fixtures.known[Math.floor(random() * fixtures.known.length)]!;
      const f = random();
      caller = f < 0.5 ? e164.slice(1) : f < 0.8 ? e164 : `8${e164.slice(2)}`;
    } else {
      caller = `7995${String(Math.floor(random() * 1e7)).padStart(7, '0')}`;
    }
    const did = fixtures.dids[Math.floor(random() * fixtures.dids.length)]!.slice(1);
    const id = `${prefix}-${epoch}.${seq}`;
    return `/pbx/route?format=hash&caller=${encodeURIComponent(caller)}&did=${did}&uniqueid=${id}&linkedid=${id}&step=1&token=${opts.token}`;
  };
}
