// A map from 53-bit hashes to non-zero int32s in two typed arrays (open addressing, linear
// probing). The dry run keeps one entry per phone, INN and name of the file: 2.6 million for a
// million rows, where a Map costs ~50 bytes an entry plus a boxed number per key; here 12 bytes a
// slot at most 75 % full.
export class HashIntMap {
  private keys: Float64Array;
  private values: Int32Array;
  private mask: number;
  size = 0;

  constructor(capacityPow2 = 1 << 16) {
    this.keys = new Float64Array(capacityPow2);
    this.values = new Int32Array(capacityPow2);
    this.mask = capacityPow2 - 1;
  }

  private slot(key: number): number {
    // The low 32 bits of the hash are as good as any: cyrb53 mixes both lanes into them.
    let i = (key >>> 0) & this.mask;
    while (this.values[i] !== 0 && this.keys[i] !== key) i = (i + 1) & this.mask;
    return i;
  }

  get(key: number): number | undefined {
    const v = this.values[this.slot(key)]!;
    return v === 0 ? undefined : v;
  }

  has(key: number): boolean {
    return this.values[this.slot(key)] !== 0;
  }

  /** `value` must not be 0 (0 marks an empty slot). */
  set(key: number, value: number): void {
    const i = this.slot(key);
    if (this.values[i] === 0) {
      this.size++;
      if (this.size > this.values.length * 0.75) {
        this.grow();
        this.set(key, value);
        this.size--;
        return;
      }
    }
    this.keys[i] = key;
    this.values[i] = value;
  }

  private grow(): void {
    const { keys, values } = this;
    this.keys = new Float64Array(keys.length * 2);
    this.values = new Int32Array(values.length * 2);
    this.mask = this.keys.length - 1;
    for (let i = 0; i < keys.length; i++) {
      if (values[i] !== 0) {
        const j = this.slot(keys[i]!);
        this.keys[j] = keys[i]!;
        this.values[j] = values[i]!;
      }
    }
  }
}
