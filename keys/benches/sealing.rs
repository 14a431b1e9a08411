//! The RSA-4096 private-key operation that bounds the unsealer's throughput (one per sealed
//! value, per key tried), against `openssl speed rsa4096` on the same machine.
//! Run: `cargo bench -p gitseal-keys --bench sealing`.

use criterion::{criterion_group, criterion_main, Criterion};
use gitseal_keys::sealing::{oaep_decrypt, seal, unseal, SealingKey};

fn bench(c: &mut Criterion) {
    let key = SealingKey::generate(4096).unwrap();
    let label = b"prod/db";
    let session = [7u8; 32];
    let block = gitseal_keys::sealing::oaep_encrypt(key.public_key(), label, &session).unwrap();
    c.bench_function("oaep_decrypt rsa4096", |b| b.iter(|| oaep_decrypt(&key, label, &block).unwrap()));
    let sealed = seal(key.public_key(), label, b"a value of a typical length").unwrap();
    let keys = [key];
    c.bench_function("unseal one value rsa4096", |b| b.iter(|| unseal(&keys, label, &sealed).unwrap()));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = bench
}
criterion_main!(benches);
